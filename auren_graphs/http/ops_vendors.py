"""Operators' routes for the vendors' side (service key only): Oura webhook subscriptions
(`auren ops oura ...`) and webhook events that exhausted their retries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request
from pydantic import BaseModel, Field

from auren_graphs.devices import subscriptions
from auren_graphs.http.principal import Operator
from auren_graphs.webhooks.runtime import runtime_of

router = APIRouter(prefix="/ops", tags=["operations"])


class Requeue(BaseModel):
    ids: list[int] | None = Field(
        default=None, max_length=10_000, description="Events to retry; none: every failed one."
    )


async def _managed(call: Any) -> list[dict[str, Any]]:
    try:
        return list(await call)
    except subscriptions.SubscriptionError as exc:
        raise HTTPException(503, str(exc)) from None


@router.get("/oura/subscriptions", response_model=list[dict[str, Any]])
async def oura_subscriptions(who: Operator) -> list[dict[str, Any]]:
    """This deployment's Oura webhook subscriptions, with their expiry."""
    return await _managed(subscriptions.list_subscriptions())


@router.post("/oura/subscriptions", response_model=list[dict[str, Any]])
async def oura_subscribe(who: Operator) -> list[dict[str, Any]]:
    """Create the Oura subscriptions AUREN needs that do not exist yet (each is verified
    by Oura calling this deployment's `/webhooks/oura`)."""
    return await _managed(subscriptions.ensure_subscriptions())


@router.get("/webhooks/failed", response_model=list[dict[str, Any]])
async def failed_events(who: Operator, request: Request) -> list[dict[str, Any]]:
    """Webhook events that exhausted their retries, newest first (no bodies)."""
    runtime = runtime_of(request)
    assert runtime.events is not None
    return await runtime.events.failed()


@router.post("/webhooks/requeue", response_model=dict[str, int])
async def requeue_events(
    who: Operator, request: Request, body: Annotated[Requeue, Body()]
) -> dict[str, int]:
    """Make failed events due again (with fresh attempts)."""
    runtime = runtime_of(request)
    assert runtime.events is not None
    requeued = await runtime.events.requeue(body.ids)
    if runtime.worker is not None:
        runtime.worker.wake()
    return {"requeued": requeued}
