"""`POST /webhooks/apple_health` and `POST /webhooks/manual`: documents pushed by a device.

Health Auto Export (its REST API automation) and manual-entry apps push the document
itself as JSON. They authenticate with the user's ingest token, set by
`connect_device(user, "apple_health" | "manual", ingest_token=...)`:

    Authorization: Bearer <ingest token>
    X-Auren-User: <AUREN user id>

Headers, not query parameters, so the token never lands in access logs. Only the token's
SHA-256 is stored; the presented one is hashed and compared in constant time. An unknown
user, a device not connected, or a wrong token all get the same 401, so the answer does
not reveal which users exist.

The document is checked before it is acknowledged (JSON, and the device's normalizer
accepts it as a whole), so a sender learns at once that it sent something unusable.
Event key: the sender's `Idempotency-Key` header when given, else the SHA-256 of the
body: the same push twice is recorded once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from auren_contract import USER_HEADER, Device, is_user_id
from auren_graphs.canonical import PayloadError
from auren_graphs.ingestion.normalizers import NormalizeContext, normalize
from auren_graphs.records.connections import ingest_token_hash
from auren_graphs.webhooks.common import (
    RefusedError,
    parse_json,
    read_body,
    require_json,
)
from auren_graphs.webhooks.events import Event, Outcome, Results, done
from auren_graphs.webhooks.ingest import ingest
from auren_graphs.webhooks.runtime import ReceiveFn, WebhookRuntime

_BAD_TOKEN = "the ingest token is not valid for this user and device"
# Compared against when there is nothing stored, so a miss takes as long as a mismatch.
_NO_TOKEN = "0" * 64


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _credentials(request: Request) -> tuple[str, str]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user_id = request.headers.get(USER_HEADER, "").strip()
    if scheme.lower() != "bearer" or not token.strip() or not user_id:
        raise RefusedError(
            401, "send Authorization: Bearer <ingest token> and X-Auren-User: <user id>"
        )
    if not is_user_id(user_id):
        raise RefusedError(401, _BAD_TOKEN)
    return user_id, token.strip()


async def authenticate(rt: WebhookRuntime, request: Request, device: str) -> str:
    """The pushing user's id, once their ingest token is checked."""
    user_id, token = _credentials(request)
    try:
        stored = await ingest_token_hash(user_id, device)
    except Exception:
        raise RefusedError(
            503, "the user directory (Postgres) is unavailable; push again later"
        ) from None
    known = isinstance(stored, str) and len(stored) == 64
    expected = stored if known and isinstance(stored, str) else _NO_TOKEN
    matches = hmac.compare_digest(token_hash(token).encode(), expected.encode())
    if not (known and matches):
        raise RefusedError(401, _BAD_TOKEN)
    return user_id


def _check_document(device: str, user_id: str, document: Any) -> None:
    if not isinstance(document, dict | list):
        # (A JSON string would be taken by the normalizers as a document to parse again.)
        raise RefusedError(400, 'the body must be a JSON object, such as {"entries": [...]}')
    try:
        normalize(cast(Device, device), document, NormalizeContext(user_id))
    except PayloadError as exc:
        raise RefusedError(400, str(exc)) from None


def _event_key(request: Request, user_id: str, body: bytes) -> str:
    given = request.headers.get("idempotency-key", "").strip()
    if given:
        if len(given) > 200:
            raise RefusedError(400, "the Idempotency-Key header is longer than 200 characters")
        return f"{user_id}:key:{given}"
    return f"{user_id}:sha256:{hashlib.sha256(body).hexdigest()}"


def receiver(device: str) -> ReceiveFn:
    async def receive(rt: WebhookRuntime, request: Request) -> tuple[Response, str]:
        require_json(request)
        user_id = await authenticate(rt, request, device)
        body = await read_body(request, rt.settings.push_max_body_bytes)
        # Parsing and checking megabytes would stall every other request: a thread does it.
        document = await asyncio.to_thread(parse_json, body)
        await asyncio.to_thread(_check_document, device, user_id, document)
        text = body.decode("utf-8-sig")
        return await rt.acknowledge(device, _event_key(request, user_id, body), user_id, text)

    return receive


async def process(rt: WebhookRuntime, events: list[Event]) -> Results:
    """Ingest pushed documents (claimed one at a time: each is a whole document)."""
    results: dict[int, Outcome | BaseException] = {}
    for event in events:
        try:
            report = await ingest(
                event.user_id, event.vendor, event.payload, upload_key=f"webhook-{event.id}"
            )
        except Exception as exc:
            results[event.id] = exc
        else:
            results[event.id] = done(report)
    return results
