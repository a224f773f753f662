"""What the webhook routes and the worker share while the server runs, and the answer
every route ends with: record the event, then acknowledge it."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langgraph_sdk.client import LangGraphClient
from psycopg import Error as PostgresError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auren_graphs import observability
from auren_graphs.devices.api import VendorClient
from auren_graphs.platform import loopback
from auren_graphs.records import connections
from auren_graphs.records.database import records_uri
from auren_graphs.settings import Settings
from auren_graphs.webhooks.common import DroppedError, RefusedError
from auren_graphs.webhooks.events import (
    Event,
    EventStore,
    Results,
    RetryPolicy,
    is_bad_json_for_postgres,
)
from auren_graphs.webhooks.worker import Worker

logger = logging.getLogger(__name__)

STATE_KEY = "auren_webhooks"
_NOT_RECORDED = "the event cannot be recorded right now; deliver it again later"
ProcessFn = Callable[["WebhookRuntime", list[Event]], Awaitable[Results]]
ReceiveFn = Callable[["WebhookRuntime", Request], Awaitable[tuple[Response, str]]]


@dataclass
class WebhookRuntime:
    """`events` is None when there is no Postgres to record in (`disabled` says why):
    every webhook is then answered 503 and no worker runs."""

    settings: Settings
    events: EventStore | None
    sdk: LangGraphClient
    vendors: dict[str, VendorClient]
    worker: Worker | None = None
    disabled: str | None = None
    _owners: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings, processors: Mapping[str, ProcessFn]) -> WebhookRuntime:
        runtime = cls(
            settings=settings,
            events=None,
            sdk=loopback(),
            vendors={
                "whoop": VendorClient.from_settings("WHOOP", settings.whoop_api_url, settings),
                "oura": VendorClient.from_settings("Oura", settings.oura_api_url, settings),
            },
        )
        # Resolving the URI may start the embedded Postgres: not on the event loop.
        uri = await asyncio.to_thread(records_uri, settings)
        events = runtime.events = EventStore(uri, max_size=settings.webhook_workers + 8)
        await events.open()
        try:
            await events.ensure_table()
        except Exception:
            # Postgres is not reachable yet: the server still starts (health says 503),
            # and the table is created by the first request or worker poll that gets in.
            logger.warning("webhook events table not ready at start-up", exc_info=True)
        runtime.worker = Worker(
            events=events,
            processors={name: functools.partial(fn, runtime) for name, fn in processors.items()},
            policy=RetryPolicy(
                max_attempts=settings.webhook_max_attempts,
                base=settings.webhook_retry_base_seconds,
                cap=settings.webhook_retry_max_seconds,
            ),
            slots=settings.webhook_workers,
            poll_seconds=settings.webhook_poll_seconds,
            attempt_timeout=settings.webhook_process_timeout_seconds,
            batch_size=settings.webhook_batch_size,
        )
        # Rows left pending by a crash (or acknowledged just before one) are simply due:
        # the first poll of the worker picks them up.
        runtime.worker.start()
        return runtime

    async def stop(self, grace: float = 10.0) -> None:
        if self.worker is not None:
            await self.worker.stop(grace)
        for client in self.vendors.values():
            await client.aclose()
        if self.events is not None:
            await self.events.close()

    async def owner(self, device: str, vendor_user: str, vendor_name: str) -> str:
        """Our user connected to the vendor account; 404 when there is none, and a
        `DroppedError` (acknowledged, nothing recorded) when it was disconnected.

        Found owners are remembered for `webhook_owner_cache_seconds` (10 s): the lookup
        is most of an acknowledgement's cost. A miss is never remembered, so a user
        connected a moment ago gets their events. If an account is moved to another user
        or disconnected within that window, the worker sees the old user's connection no
        longer names the account and skips the event rather than ingesting it for them.
        """
        now = time.monotonic()
        cached = self._owners.get((device, vendor_user))
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            found = await connections.owner_of(device, vendor_user)
        except Exception:
            raise RefusedError(
                503, "the user directory (Postgres) is unavailable; deliver again later"
            ) from None
        if found is None:
            raise RefusedError(
                404, f"no AUREN user is connected to {vendor_name} user {vendor_user}"
            )
        if found.status == "disconnected":
            raise DroppedError(f"{vendor_name} user {vendor_user} was disconnected")
        ttl = self.settings.webhook_owner_cache_seconds
        if ttl > 0:
            if len(self._owners) >= 10_000:
                self._owners.clear()  # bounded; refilled by the next lookups
            self._owners[(device, vendor_user)] = (found.user_id, now + ttl)
        return found.user_id

    def forget_owner(self, device: str, vendor_user: str) -> None:
        """A connection of this process changed: its account's owner is looked up again.
        (Other processes keep theirs for up to `webhook_owner_cache_seconds`; their
        worker then skips what the account no longer owns.)"""
        self._owners.pop((device, vendor_user), None)

    async def acknowledge(
        self,
        vendor: str,
        key: str,
        user_id: str,
        payload_json: str,
        *,
        process: bool = True,
        note: str | None = None,
    ) -> tuple[Response, str]:
        """Commit the event, then say so: 200 accepted, duplicate, or ignored (recorded,
        nothing to process). 503 when it cannot be made durable: the sender delivers
        again later, which is what vendors do on any non-2xx."""
        if self.events is None:
            raise RefusedError(503, f"webhooks are off: {self.disabled}")
        try:
            event_id = await self.events.record(
                vendor,
                key,
                user_id,
                payload_json,
                status="pending" if process else "skipped",
                note=note,
            )
        except PostgresError as exc:
            if is_bad_json_for_postgres(exc):
                raise RefusedError(400, "the body holds text Postgres cannot store") from None
            logger.warning("webhook event not recorded: %s", type(exc).__name__)
            raise RefusedError(503, _NOT_RECORDED) from None
        except TimeoutError:
            raise RefusedError(503, _NOT_RECORDED) from None
        if event_id is None:
            return JSONResponse({"status": "duplicate"}), "duplicate"
        if process and self.worker is not None:
            self.worker.wake()
        status = "accepted" if process else "ignored"
        return JSONResponse({"status": status, "event_id": event_id}), status


def runtime_of(request: Request) -> WebhookRuntime:
    runtime = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(runtime, WebhookRuntime):
        raise RefusedError(503, "webhooks are starting up; deliver again shortly")
    return runtime


def route(vendor: str, receive: ReceiveFn) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `receive`: refusals become their JSON answer, and the
    time to answer is observed by vendor and outcome."""

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response, outcome = await receive(runtime_of(request), request)
        except RefusedError as refusal:
            response = refusal.response()
            outcome = refusal.outcome
        observability.WEBHOOK_ACK_SECONDS.labels(vendor, outcome).observe(
            time.perf_counter() - started
        )
        return response

    endpoint.__name__ = f"{vendor}_webhook"
    return endpoint


def secret_value(secret: Any, what: str) -> str:
    """A configured secret's value, or 503: the server cannot verify without it."""
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        raise RefusedError(503, f"{what} is not configured on this server")
    return str(value)
