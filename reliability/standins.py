"""The model and vendor API stand-ins fail (500), hang, or drop the connection.

Model: analyses run one after another while the OpenAI stand-in is faulty. Each must
finish with the deterministic narrative; after `BREAKER_THRESHOLD` failed model calls the
circuit breaker opens and runs stop calling the model (until its cool-down lets one probe
through). Then the stand-in is healthy again: recovery is the time until an analysis
narrates with the model again (at most the cool-down plus a run).

Vendors: signed WHOOP and Oura webhooks announce documents the stand-ins hold while the
stand-ins are faulty. Every delivery must be acknowledged (2xx); the stand-ins are held
faulty for a while (the worker retries, its breaker defers), then healthy: recovery is the
time until every acknowledged event's data is stored. Still pending at the deadline is a
hang, acknowledged and never stored is lost, a row stored twice is a duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import psycopg

from auren_client import AnalysisResult, AurenClient, AurenError, ServerError
from reliability.common import (
    WEBHOOK_SECRETS,
    Row,
    reliability_server,
    row_ids,
    signature_headers,
    stored_items,
)
from tests.support import payloads
from tests.support.config import SERVICE_KEY
from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import DevServer
from tests.support.vendor_standins import VendorStandIn, WhoopNight, oura_document

MODES = ("fail", "hang", "drop")
BREAKER_THRESHOLD = 2
BREAKER_RESET = 5.0
# One model call per run (no client retries), bounded by 1 s: a hang costs a second.
MODEL_CONTEXT = {"model_timeout_seconds": 1, "model_max_retries": 0}
RUN_BUDGET = 90.0
END = date(2026, 11, 20)
# Webhook event kind -> the metric its document stores.
KINDS = {
    "whoop:recovery.updated": "recovery_score",
    "whoop:sleep.updated": "sleep_duration",
    "whoop:workout.updated": "workout_duration",
    "oura:daily_sleep": "sleep_score",
    "oura:sleep": "hrv_rmssd",
}


@dataclass
class CheckedRow(Row):
    """A row with requirements of its own besides the must-be-zero columns."""

    failed: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # e.g. "hang: breaker open"

    @property
    def ok(self) -> bool:
        return super().ok and not self.failed

    def check(self, condition: bool, what: str) -> None:
        if not condition:
            self.failed.append(what)
            self.notes.append(f"FAILED: {what}")


def standin_env(
    model: OpenAIStandIn, whoop_api: VendorStandIn, oura_api: VendorStandIn
) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": model.base_url,
        "AUREN_MODEL_BREAKER_THRESHOLD": str(BREAKER_THRESHOLD),
        "AUREN_MODEL_BREAKER_RESET_SECONDS": str(BREAKER_RESET),
        **WEBHOOK_SECRETS,
        "AUREN_WHOOP_API_URL": whoop_api.base_url,
        "AUREN_OURA_API_URL": oura_api.base_url,
        "AUREN_WEBHOOK_POLL_SECONDS": "0.2",
        "AUREN_WEBHOOK_RETRY_BASE_SECONDS": "0.3",
        "AUREN_WEBHOOK_RETRY_MAX_SECONDS": "1",
        "AUREN_VENDOR_TIMEOUT_SECONDS": "1",
        "AUREN_VENDOR_RETRIES": "1",
        "AUREN_VENDOR_BREAKER_THRESHOLD": "3",
        "AUREN_VENDOR_BREAKER_RESET_SECONDS": "1",
    }


async def standin_faults(*, quick: bool) -> list[Row]:
    """Both rows, on a server of their own pointed at fresh stand-ins."""
    model, whoop_api, oura_api = (
        OpenAIStandIn(),
        VendorStandIn(prefix="/developer"),
        VendorStandIn(),
    )
    for standin in (model, whoop_api, oura_api):
        standin.start()
    # The stand-ins log a traceback for every connection they drop on purpose.
    quiet = logging.getLogger("uvicorn.error")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        with reliability_server(**standin_env(model, whoop_api, oura_api)) as server:
            return [
                await model_faults(server, model, runs=4 if quick else 10),
                await vendor_faults(
                    server, whoop_api, oura_api, per_kind=1 if quick else 4, hold=6 if quick else 12
                ),
            ]
    finally:
        quiet.setLevel(level)
        for standin in (model, whoop_api, oura_api):
            standin.stop()


# ----------------------------------------------------------------------------- model


async def analysis(auren: AurenClient, user: str, row: Row) -> AnalysisResult | None:
    """One analysis; None (and counted) when it failed, 5xx'd or overran its budget."""
    try:
        return await auren.analyze(user, as_of=END, context=MODEL_CONTEXT, timeout=RUN_BUDGET)
    except TimeoutError:
        row.hangs += 1
    except ServerError as exc:
        row.status_5xx += exc.status_code >= 500
        row.notes.append(f"ServerError {exc.status_code}")
    except AurenError as exc:
        row.notes.append(f"{type(exc).__name__}: {str(exc)[:100]}")
    return None


async def model_faults(server: DevServer, model: OpenAIStandIn, *, runs: int) -> CheckedRow:
    row = CheckedRow("model stand-in fails/hangs/drops")
    user = f"rel-model-{uuid.uuid4().hex[:8]}"
    async with AurenClient(url=server.url, api_key=SERVICE_KEY, timeout=60) as auren:
        await auren.ingest(user, "oura", payloads.oura_sleep_page(60, END, drop_last=3))
        first = await analysis(auren, user, row)
        row.check(first is not None and first.narrative_source == "model", "healthy model narrates")
        for mode in MODES:
            model.set(mode)
            await faulty_model_runs(auren, user, model, mode, runs, row)
            model.set("ok")
            began, recovered = time.monotonic(), False
            while not recovered and time.monotonic() - began < BREAKER_RESET + 60:
                result = await analysis(auren, user, row)
                recovered = result is not None and result.narrative_source == "model"
            row.check(recovered, f"{mode}: model narrates again once healthy")
            row.recovery.append(time.monotonic() - began)
    row.notes.append(f"breaker: {BREAKER_THRESHOLD} failures, cool-down {BREAKER_RESET:g} s")
    return row


async def faulty_model_runs(
    auren: AurenClient, user: str, model: OpenAIStandIn, mode: str, runs: int, row: CheckedRow
) -> None:
    """`runs` analyses with the model in `mode`: all deterministic, the breaker opening."""
    calls, opened_after = model.calls, None
    reasons: Counter[str] = Counter()
    for _ in range(runs):
        before = model.calls
        result = await analysis(auren, user, row)
        row.trials += 1
        if result is None:
            reasons["no result"] += 1
            continue
        reason = result.fallback_reason or f"narrative from {result.narrative_source}"
        if result.narrative_source != "deterministic":
            reasons[reason] += 1
        elif "circuit breaker is open" in reason:
            reasons["breaker open"] += 1
            opened_after = model.calls - calls if opened_after is None else opened_after
            row.check(model.calls == before, f"{mode}: no model call while the breaker is open")
        else:
            reasons["model failed" if "the model failed" in reason else reason[:60]] += 1
    row.check(
        reasons["model failed"] + reasons["breaker open"] == runs,
        f"{mode}: every run ends with the deterministic narrative",
    )
    row.check(opened_after == BREAKER_THRESHOLD, f"{mode}: breaker opens after the threshold")
    row.counts.update({f"{mode}: {reason}": n for reason, n in reasons.items()})
    row.notes.append(
        f"{mode}: {dict(reasons)}, breaker opened after {opened_after} model calls, "
        f"{model.calls - calls} calls in {runs} runs"
    )


# ----------------------------------------------------------------------------- vendors


@dataclass
class Delivery:
    user: str
    kind: str
    body: bytes
    headers: dict[str, str]
    acknowledged: bool = False

    @property
    def metric(self) -> str:
        return KINDS[self.kind]


def signed(vendor: str, note: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(note).encode()
    return body, signature_headers(vendor, body)


async def prepare(
    auren: AurenClient, whoop_api: VendorStandIn, oura_api: VendorStandIn, kind: str, run: str
) -> Delivery:
    """A user connected to a fresh vendor account, the document served, its notification."""
    vendor, _, what = kind.partition(":")
    user = f"rel-vendor-{run}-{uuid.uuid4().hex[:8]}"
    access = "tok-" + secrets.token_urlsafe(16)
    number = int(uuid.uuid4().int % 10**9) + 10**9
    account: int | str = number
    if vendor == "whoop":
        whoop_api.grant(access, str(number))
        night = WhoopNight(number)
        night.serve(whoop_api)
        object_id = {"recovery.updated": night.cycle_id, "sleep.updated": night.sleep_id}.get(
            what, night.workout_id
        )
        note = {"user_id": number, "id": object_id, "type": what, "trace_id": str(uuid.uuid4())}
    else:
        account = oura_user = f"OURA{number}"
        oura_api.grant(access, oura_user)
        document = oura_document(
            "daily_sleep_document" if what == "daily_sleep" else "sleep_document"
        )
        oura_api.put(f"/v2/usercollection/{what}/{document['id']}", oura_user, document)
        note = {
            "event_type": "update",
            "data_type": what,
            "object_id": document["id"],
            "user_id": oura_user,
            "event_time": "2026-01-13T08:00:00+00:00",
        }
    await auren.connect_device(user, vendor, account, access_token=access)
    body, headers = signed(vendor, note)
    return Delivery(user, kind, body, {"content-type": "application/json", **headers})


async def statuses(database: str, users: list[str]) -> dict[str, tuple[str, int, str | None]]:
    """user -> (status, attempts, last_error) of their webhook event."""
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT user_id, status, attempts, last_error FROM auren_webhook_events "
            "WHERE user_id = ANY(%s)",
            [users],
        )
        return {u: (s, a, e) for u, s, a, e in await cursor.fetchall()}


async def processed(http: httpx.AsyncClient, url: str) -> Counter[str]:
    """The worker's attempts so far, by outcome (from /metrics/auren)."""
    text = (await http.get(f"{url}/metrics/auren")).text
    found: Counter[str] = Counter()
    for outcome, value in re.findall(
        r'auren_webhook_events_processed_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)', text
    ):
        found[outcome] += int(float(value))
    return found


async def stored(url: str, delivery: Delivery) -> tuple[bool, int]:
    """Whether the delivery's metric is stored, and rows stored twice under one metric."""
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for item in await stored_items(url, delivery.user):
        by_metric.setdefault(str(item["namespace"][-1]), []).append(item)
    twice = sum(n - 1 for items in by_metric.values() for n in row_ids(items).values() if n > 1)
    return bool(row_ids(by_metric.get(delivery.metric, []))), twice


async def recover(
    server: DevServer, database: str, acknowledged: list[Delivery], mode: str, row: Row
) -> None:
    """Vendors healthy again: wait until every acknowledged delivery's data is stored."""
    began, waiting = time.monotonic(), acknowledged
    while waiting and time.monotonic() - began < 60:
        waiting = [d for d in waiting if not (await stored(server.url, d))[0]]
        await asyncio.sleep(0.3)
    if not waiting:
        row.recovery.append(time.monotonic() - began)
    after = await statuses(database, [d.user for d in waiting])
    for d in waiting:
        pending = after.get(d.user, ("missing", 0, None))[0] == "pending"
        row.hangs += pending
        row.lost += not pending
        row.notes.append(f"{mode}: {d.kind} not stored 60 s after recovery: {after.get(d.user)}")


async def vendor_faults(
    server: DevServer,
    whoop_api: VendorStandIn,
    oura_api: VendorStandIn,
    *,
    per_kind: int,
    hold: float,
) -> CheckedRow:
    row = CheckedRow("vendor API stand-ins fail/hang/drop")
    database = server.env["AUREN_POSTGRES_URI"]
    async with (
        AurenClient(url=server.url, api_key=SERVICE_KEY, timeout=60) as auren,
        httpx.AsyncClient(timeout=30) as http,
    ):
        for mode in MODES:
            run = uuid.uuid4().hex[:6]
            deliveries = [
                await prepare(auren, whoop_api, oura_api, kind, run)
                for kind in KINDS
                for _ in range(per_kind)
            ]
            for api in (whoop_api, oura_api):
                api.set(mode)
            calls_before = len(whoop_api.calls) + len(oura_api.calls)
            attempts_before = await processed(http, server.url)
            for d in deliveries:
                vendor = d.kind.partition(":")[0]
                row.trials += 1
                try:
                    answer = await http.post(
                        f"{server.url}/webhooks/{vendor}", content=d.body, headers=d.headers
                    )
                except httpx.TimeoutException:
                    row.hangs += 1
                    continue
                row.status_5xx += answer.status_code >= 500
                d.acknowledged = answer.status_code < 300 and '"accepted"' in answer.text
                row.check(d.acknowledged, f"{mode}: {d.kind} accepted (got {answer.status_code})")
            await asyncio.sleep(hold)
            during = await statuses(database, [d.user for d in deliveries])
            faulty = await processed(http, server.url) - attempts_before
            answered = len(whoop_api.calls) + len(oura_api.calls) - calls_before
            for api in (whoop_api, oura_api):
                api.set("ok")
            await recover(server, database, [d for d in deliveries if d.acknowledged], mode, row)
            for d in deliveries:
                row.duplicates += (await stored(server.url, d))[1]
            row.counts.update({f"{mode}: {outcome}": n for outcome, n in faulty.items()})
            row.check(faulty["retry"] > 0, f"{mode}: the worker retried")
            row.check(faulty["deferred"] > 0, f"{mode}: the vendor breaker deferred events")
            acknowledged = sum(d.acknowledged for d in deliveries)
            outcomes = dict(sorted(faulty.items()))
            row.notes.append(
                f"{mode}: {acknowledged}/{len(deliveries)} acknowledged; in {hold:g} s of fault "
                f"{answered} vendor calls answered, worker outcomes {outcomes}, "
                f"max attempts {max((a for _, a, _ in during.values()), default=0)}"
            )
    return row
