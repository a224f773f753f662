"""`POST /webhooks/whoop`: WHOOP's notifications, verified and recorded; objects fetched later.

WHOOP (developer.whoop.com/docs/developing/webhooks) signs each delivery:
`X-WHOOP-Signature = base64(HMAC-SHA256(client_secret, X-WHOOP-Signature-Timestamp + raw
body))`, the timestamp in milliseconds since the epoch. The body carries ids only:
`{"user_id": 10129, "id": ..., "type": "recovery.updated", "trace_id": "..."}`. In API v2
sleep and workout ids are UUIDs; a recovery event's id is its cycle's id (an integer).
A UUID in a recovery event is taken as the sleep's id (the v2 recovery is keyed by its
sleep as well), and its cycle is found from that sleep.

Event key: `type:id:trace_id`. A redelivery repeats the same body, so the same key; a
later change to the same object comes with a new trace id, so a new event. Without a
`trace_id` the signed timestamp stands in (a redelivery is then processed twice, which
ingestion's idempotency makes harmless, rather than an update being lost).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from auren_graphs.devices.api import VendorNotFoundError
from auren_graphs.webhooks.bodies import WhoopNotification, validated
from auren_graphs.webhooks.common import (
    RefusedError,
    check_timestamp,
    parse_json,
    read_body,
    require_json,
)
from auren_graphs.webhooks.events import Event, Results
from auren_graphs.webhooks.processing import (
    Get,
    delete_and_report,
    fetch_and_ingest,
    split_connected,
)
from auren_graphs.webhooks.runtime import WebhookRuntime, secret_value

VENDOR = "whoop"
SIGNATURE_HEADER = "x-whoop-signature"
TIMESTAMP_HEADER = "x-whoop-signature-timestamp"
FETCHED_KINDS = frozenset({"recovery", "sleep", "workout", "cycle"})
_INTEGER = re.compile(r"^[0-9]{1,19}$")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """WHOOP's signature of a delivery (also what tests sign with)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(
    secret: str, headers: Any, body: bytes, *, now: float, window: float
) -> tuple[str, float]:
    """The signed timestamp header (as sent, and in seconds); 401 unless the delivery is
    signed with `secret` and its timestamp is within `window` seconds of `now`."""
    signature = headers.get(SIGNATURE_HEADER)
    raw_timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature:
        raise RefusedError(401, "the X-WHOOP-Signature header is missing")
    seconds = check_timestamp(raw_timestamp, "X-WHOOP-Signature-Timestamp", now=now, window=window)
    expected = sign(secret, raw_timestamp.strip() if raw_timestamp else "", body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("latin-1")):
        raise RefusedError(401, "the X-WHOOP-Signature does not match the body")
    return raw_timestamp.strip() if raw_timestamp else "", seconds


@dataclass(frozen=True, slots=True)
class Notification:
    user_id: str
    object_id: str
    type: str
    trace_id: str | None

    @property
    def kind(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.type.split(".", 1)[1] if "." in self.type else ""

    @property
    def fetchable(self) -> bool:
        return self.action == "updated" and self.kind in FETCHED_KINDS

    @property
    def deletion(self) -> bool:
        return self.action == "deleted" and self.kind in FETCHED_KINDS

    @property
    def processed(self) -> bool:
        return self.fetchable or self.deletion

    def key(self, timestamp: str) -> str:
        return f"{self.type}:{self.object_id}:{self.trace_id or f'ts-{timestamp}'}"


def parse(document: Any) -> Notification:
    """The notification's fields, checked; 400 with the first problem found."""
    note = validated(WhoopNotification, document, "WHOOP notification")
    object_id = note.id if isinstance(note.id, uuid.UUID) else int(note.id)
    return Notification(str(int(note.user_id)), str(object_id), note.type, note.trace_id or None)


# ----------------------------------------------------------------- fetch (the worker)


async def fetch(get: Get, note: dict[str, Any]) -> list[Any]:
    """The WHOOP v2 records the notification announces, as one list the WHOOP normalizer
    takes. A recovery comes with its sleep and cycle: the normalizer dates a recovery by
    its sleep, and the cycle's strain is refreshed at the same time."""
    kind, object_id = str(note["type"]).split(".", 1)[0], str(note["id"])
    if kind == "sleep":
        return [await get(f"/v2/activity/sleep/{object_id}")]
    if kind == "workout":
        return [await get(f"/v2/activity/workout/{object_id}")]
    if kind == "cycle":
        return [await get(f"/v2/cycle/{object_id}")]
    return await _recovery_with_context(get, object_id)


async def _recovery_with_context(get: Get, object_id: str) -> list[Any]:
    sleep: Any = None
    if _INTEGER.match(object_id):
        cycle_id = object_id
    else:
        sleep = await get(f"/v2/activity/sleep/{object_id}")
        cycle_id = str(sleep.get("cycle_id")) if isinstance(sleep, dict) else ""
        if not _INTEGER.match(cycle_id):
            raise VendorNotFoundError(f"WHOOP sleep {object_id} names no cycle")
    recovery = await get(f"/v2/cycle/{cycle_id}/recovery")
    records: list[Any] = []
    cycle = await _optional(get, f"/v2/cycle/{cycle_id}")
    if cycle is not None:
        records.append(cycle)
    sleep_id = _uuid_or_none(recovery.get("sleep_id") if isinstance(recovery, dict) else None)
    if sleep is None and sleep_id is not None:
        sleep = await _optional(get, f"/v2/activity/sleep/{sleep_id}")
    if sleep is not None:
        records.append(sleep)
    records.append(recovery)
    return records


def _uuid_or_none(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value is not None else None
    except ValueError:
        return None


async def _optional(get: Get, path: str) -> Any:
    """Context records: a missing one is no reason to drop the recovery."""
    try:
        return await get(path)
    except VendorNotFoundError:
        return None


# ----------------------------------------------------------------------- the route


async def receive(rt: WebhookRuntime, request: Request) -> tuple[Response, str]:
    """Verify, parse, map to our user, record; see the module docstring for the rules."""
    secret = secret_value(rt.settings.whoop_client_secret, "WHOOP_CLIENT_SECRET")
    require_json(request)
    body = await read_body(request, rt.settings.webhook_max_body_bytes)
    timestamp, _ = verify(
        secret,
        request.headers,
        body,
        now=time.time(),
        window=rt.settings.webhook_replay_window_seconds,
    )
    note = parse(parse_json(body))
    user_id = await rt.owner(VENDOR, note.user_id, "WHOOP")
    stored = {
        "user_id": int(note.user_id),
        "id": note.object_id,
        "type": note.type,
        "trace_id": note.trace_id,
    }
    return await rt.acknowledge(
        VENDOR,
        note.key(timestamp),
        user_id,
        json.dumps(stored),
        process=note.processed,
        note=None if note.processed else f"{note.type}: nothing to fetch",
    )


def deleted_record(payload: dict[str, Any]) -> str:
    """The identity of the record a `*.deleted` event names (as the normalizer made it).
    WHOOP v2 names a deleted recovery by its sleep's UUID."""
    kind, object_id = str(payload["type"]).split(".", 1)[0], str(payload["id"])
    if kind == "recovery" and not _INTEGER.match(object_id):
        return f"whoop:recovery-of-sleep:{object_id}"
    return f"whoop:{kind}:{object_id}"


async def process(rt: WebhookRuntime, events: list[Event]) -> Results:
    """Deletions remove what their records produced; updates are fetched with the user's
    token and ingested in one run."""
    deleting = [e for e in events if str(e.payload["type"]).endswith(".deleted")]
    if deleting:
        done = await delete_and_report(VENDOR, deleting, deleted_record)
        rest = [e for e in events if e not in deleting]
        return {**done, **(await process(rt, rest) if rest else {})}
    results, live, get = await split_connected(rt, events, VENDOR, "WHOOP")
    if get is None:
        return results

    async def fetch_event(event: Event) -> list[Any]:
        return await fetch(get, event.payload)

    def object_key(event: Event) -> tuple[str, str]:
        return (str(event.payload["type"]), str(event.payload["id"]))

    return {**results, **await fetch_and_ingest(VENDOR, live, fetch_event, object_key)}
