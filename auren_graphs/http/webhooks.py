"""The vendor and device routes: `/webhooks/...`. Each verifies its sender itself (a
signature, or the user's ingest token), records the event, then acknowledges it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from auren_contract import USER_HEADER
from auren_graphs.webhooks import oura, push, whoop
from auren_graphs.webhooks.bodies import (
    HealthAutoExport,
    ManualEntries,
    OuraNotification,
    WhoopNotification,
    json_body,
)
from auren_graphs.webhooks.runtime import route

PROCESSORS = {
    "whoop": whoop.process,
    "oura": oura.process,
    "apple_health": push.process,
    "manual": push.process,
}

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "accepted, or a duplicate acknowledged"},
    400: {"description": "malformed; nothing stored"},
    401: {"description": "signature or token missing or wrong"},
    404: {"description": "no AUREN user is connected to the vendor account"},
    408: {"description": "the body did not arrive in time"},
    413: {"description": "body too large"},
    415: {"description": "not JSON"},
    503: {"description": "cannot be recorded now (Postgres down); deliver again"},
}


def _header(name: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": {"type": "string"}}


def _docs(body: type[BaseModel], *headers: dict[str, Any]) -> dict[str, Any]:
    return {"parameters": list(headers), "requestBody": json_body(body)}


_PUSH_HEADERS = (
    _header("authorization"),
    _header(USER_HEADER),
    _header("idempotency-key", False),
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=_ANSWERS)
router.add_api_route(
    "/whoop",
    route("whoop", whoop.receive),
    methods=["POST"],
    summary="WHOOP notification (v2)",
    openapi_extra=_docs(
        WhoopNotification,
        _header(whoop.SIGNATURE_HEADER),
        _header(whoop.TIMESTAMP_HEADER),
    ),
)
router.add_api_route(
    "/oura",
    oura.challenge,
    methods=["GET"],
    summary="Oura subscription verification",
    openapi_extra={
        "parameters": [
            {"name": n, "in": "query", "required": True, "schema": {"type": "string"}}
            for n in ("verification_token", "challenge")
        ]
    },
)
router.add_api_route(
    "/oura",
    route("oura", oura.receive),
    methods=["POST"],
    summary="Oura notification",
    openapi_extra=_docs(
        OuraNotification, _header(oura.SIGNATURE_HEADER), _header(oura.TIMESTAMP_HEADER)
    ),
)
router.add_api_route(
    "/manual",
    route("manual", push.receiver("manual")),
    methods=["POST"],
    summary="Manual entries, pushed with the user's ingest token",
    openapi_extra=_docs(ManualEntries, *_PUSH_HEADERS),
)
router.add_api_route(
    "/apple_health",
    route("apple_health", push.receiver("apple_health")),
    methods=["POST"],
    summary="Health Auto Export JSON, pushed with the user's ingest token",
    openapi_extra=_docs(HealthAutoExport, *_PUSH_HEADERS),
)
