"""`/webhooks/oura`: the subscription challenge (GET) and Oura's notifications (POST).

A subscription is confirmed by a GET with `verification_token` and `challenge`; we answer
`{"challenge": ...}` when the token is AUREN_OURA_VERIFICATION_TOKEN, 403 otherwise.
Notifications carry `x-oura-signature`: the hex HMAC-SHA256 (Oura sends it upper-case;
compared case-insensitively) of the `x-oura-timestamp` value followed by the raw body,
keyed by the app's client secret; the timestamp is Unix seconds. The body names the
object: `{"event_type": "create" | "update" | "delete", "data_type": "daily_sleep",
"object_id": "...", "user_id": "...", "event_time": "..."}`; the document is fetched from
`/v2/usercollection/{data_type}/{object_id}` with the user's token.

Event key: `data_type:object_id:event_type:event_time` (a redelivery repeats it; a
later update has a later `event_time`). Without `event_time` the signed timestamp
stands in, as for WHOOP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auren_graphs.settings import get_settings
from auren_graphs.webhooks.bodies import OuraNotification, validated
from auren_graphs.webhooks.common import (
    RefusedError,
    check_timestamp,
    parse_json,
    read_body,
    require_json,
)
from auren_graphs.webhooks.events import Event, Results
from auren_graphs.webhooks.processing import delete_and_report, fetch_and_ingest, split_connected
from auren_graphs.webhooks.runtime import WebhookRuntime, secret_value

VENDOR = "oura"
SIGNATURE_HEADER = "x-oura-signature"
TIMESTAMP_HEADER = "x-oura-timestamp"
# The collections the Oura normalizer reads whose documents can be fetched one by one
# (heart rate has no single-document endpoint; workouts, tags and the like are not stored).
FETCHED_TYPES = frozenset(
    {"daily_sleep", "sleep", "daily_readiness", "daily_activity", "daily_spo2"}
)
#: Collections whose documents AUREN stores (a delete of one removes its values).
STORED_TYPES = FETCHED_TYPES | {"heartrate"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Oura's signature of a delivery (also what tests sign with)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return mac.hexdigest().upper()


def verify(secret: str, headers: Any, body: bytes, *, now: float, window: float) -> str:
    """The signed timestamp header as sent; 401 unless the delivery is signed with
    `secret` and its timestamp is within `window` seconds of `now`."""
    signature = headers.get(SIGNATURE_HEADER)
    raw = headers.get(TIMESTAMP_HEADER)
    if not signature:
        raise RefusedError(401, "the x-oura-signature header is missing")
    check_timestamp(raw, "x-oura-timestamp", now=now, window=window)
    timestamp = raw.strip() if raw else ""
    expected = sign(secret, timestamp, body).encode()
    if not hmac.compare_digest(expected, signature.strip().upper().encode("latin-1")):
        raise RefusedError(401, "the x-oura-signature does not match the body")
    return timestamp


@dataclass(frozen=True, slots=True)
class Notification:
    event_type: str
    data_type: str
    object_id: str
    user_id: str
    event_time: str | None

    @property
    def fetchable(self) -> bool:
        return self.event_type in ("create", "update") and self.data_type in FETCHED_TYPES

    @property
    def processed(self) -> bool:
        return self.fetchable or (self.event_type == "delete" and self.data_type in STORED_TYPES)

    def key(self, timestamp: str) -> str:
        when = self.event_time or f"ts-{timestamp}"
        return f"{self.data_type}:{self.object_id}:{self.event_type}:{when}"


def parse(document: Any) -> Notification:
    """The notification's fields, checked; 400 with the first problem found."""
    note = validated(OuraNotification, document, "Oura notification")
    user_id = str(note.user_id)
    if not _SAFE_ID.match(user_id):
        raise RefusedError(400, "user_id must be Oura's user id")
    return Notification(
        note.event_type, note.data_type, note.object_id, user_id, note.event_time or None
    )


# ----------------------------------------------------------------------- the routes


async def challenge(request: Request) -> Response:
    """Answer Oura's subscription check. The token arrives in the query string, so the
    query is redacted from the request before the access log reads it."""
    params = request.query_params
    token, answer = params.get("verification_token"), params.get("challenge")
    request.scope["query_string"] = urlencode(
        {"verification_token": "[redacted]", "challenge": answer or ""}
    ).encode()
    try:
        expected = secret_value(
            get_settings().oura_verification_token, "AUREN_OURA_VERIFICATION_TOKEN"
        )
    except RefusedError as refusal:
        return refusal.response()
    if not token or not answer:
        return JSONResponse({"error": "verification_token and challenge are required"}, 400)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return JSONResponse({"error": "the verification token does not match"}, 403)
    return JSONResponse({"challenge": answer})


async def receive(rt: WebhookRuntime, request: Request) -> tuple[Response, str]:
    secret = secret_value(rt.settings.oura_client_secret, "OURA_CLIENT_SECRET")
    require_json(request)
    body = await read_body(request, rt.settings.webhook_max_body_bytes)
    timestamp = verify(
        secret,
        request.headers,
        body,
        now=time.time(),
        window=rt.settings.webhook_replay_window_seconds,
    )
    note = parse(parse_json(body))
    user_id = await rt.owner(VENDOR, note.user_id, "Oura")
    stored = {
        "event_type": note.event_type,
        "data_type": note.data_type,
        "object_id": note.object_id,
        "user_id": note.user_id,
        "event_time": note.event_time,
    }
    return await rt.acknowledge(
        VENDOR,
        note.key(timestamp),
        user_id,
        json.dumps(stored),
        process=note.processed,
        note=None if note.processed else f"{note.event_type} {note.data_type}: nothing to fetch",
    )


def deleted_record(payload: dict[str, Any]) -> str:
    """The identity of the document a delete names (as the normalizer made it)."""
    return f"oura:{payload['data_type']}:{payload['object_id']}"


async def process(rt: WebhookRuntime, events: list[Event]) -> Results:
    """Deletions remove what their documents produced; creations and updates are fetched
    with the user's token and ingested in one run."""
    deleting = [e for e in events if e.payload.get("event_type") == "delete"]
    if deleting:
        done = await delete_and_report(VENDOR, deleting, deleted_record)
        rest = [e for e in events if e not in deleting]
        return {**done, **(await process(rt, rest) if rest else {})}
    results, live, get = await split_connected(rt, events, VENDOR, "Oura")
    if get is None:
        return results

    def path(event: Event) -> str:
        return f"/v2/usercollection/{event.payload['data_type']}/{event.payload['object_id']}"

    async def fetch_event(event: Event) -> list[Any]:
        return [await get(path(event))]

    return {**results, **await fetch_and_ingest(VENDOR, live, fetch_event, path)}
