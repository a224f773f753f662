"""Ingestion end to end: the client, a real `langgraph dev`, a real Postgres."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from langgraph_sdk import get_client

from auren_client import AurenClient, InvalidPayloadError
from auren_contract import INLINE_LIMIT
from tests.support import payloads
from tests.support.server import DevServer

pytestmark = pytest.mark.integration


async def stored_namespaces(server: DevServer, user_id: str) -> list[list[str]]:
    sdk = get_client(url=server.url)
    found = await sdk.store.list_namespaces(prefix=["users", user_id])
    return [list(ns) for ns in found["namespaces"]]


async def test_manual_entries_round_trip(server: DevServer, user_id: str) -> None:
    async with AurenClient(url=server.url) as auren:
        report = await auren.ingest(user_id, "manual", payloads.manual_entries(days=3))
        assert (report.accepted, report.duplicates, report.rejected) == (6, 0, 0)
        rows = await auren.metrics(
            user_id, "resting_heart_rate", date(2026, 10, 1), date(2026, 10, 3)
        )
        hr = await auren.metrics(user_id, "heart_rate", date(2026, 10, 1), date(2026, 10, 3))
    assert [(r.day, r.value, r.unit, r.device) for r in rows] == [
        (date(2026, 10, 1), 50.0, "bpm", "manual"),
        (date(2026, 10, 2), 51.0, "bpm", "manual"),
        (date(2026, 10, 3), 52.0, "bpm", "manual"),
    ]
    assert all(r.timestamp is None for r in rows)
    # 23:30 at -08:00 is the next day in UTC; the local day is kept.
    assert hr[0].day == date(2026, 10, 1)
    assert hr[0].timestamp == datetime(2026, 10, 1, 23, 30, tzinfo=timezone(timedelta(hours=-8)))


async def test_same_payload_twice_stores_once(server: DevServer, user_id: str) -> None:
    payload = payloads.oura_readiness_page(days=5)
    async with AurenClient(url=server.url) as auren:
        first = await auren.ingest(user_id, "oura", payload)
        second = await auren.ingest(user_id, "oura", json.dumps(payload))
        rows = await auren.metrics(
            user_id, "readiness_score", date(2026, 10, 1), date(2026, 10, 31)
        )
    assert first.accepted == 10 and first.duplicates == 0  # readiness + temperature per day
    assert second.accepted == 0 and second.duplicates == 10
    assert len(rows) == 5


async def test_concurrent_identical_deliveries_store_once(server: DevServer, user_id: str) -> None:
    payload = payloads.manual_entries(days=20)
    async with AurenClient(url=server.url) as auren:
        reports = await asyncio.gather(
            *(auren.ingest(user_id, "manual", payload) for _ in range(3))
        )
        rows = await auren.metrics(user_id, "heart_rate", date(2026, 9, 1), date(2026, 12, 1))
    assert sum(r.accepted for r in reports) == 40
    assert sum(r.duplicates for r in reports) == 80
    assert len(rows) == 20


async def test_pending_scores_skipped_and_foreign_vendor_user_refused(
    server: DevServer, user_id: str
) -> None:
    page = {
        "records": [
            payloads.whoop_recovery(1001, 10129),
            payloads.whoop_recovery(1002, 10129, state="PENDING_SCORE"),
            payloads.whoop_recovery(1003, 99999),
        ],
        "next_token": None,
    }
    async with AurenClient(url=server.url) as auren:
        await auren.connect_device(user_id, "whoop", vendor_user_id="10129")
        report = await auren.ingest(user_id, "whoop", page)
        hrv = await auren.metrics(user_id, "hrv_rmssd", date(2026, 9, 1), date(2026, 12, 1))
    assert report.accepted == 5
    assert len(report.skipped) == 1
    assert report.rejected == 1
    assert "99999" in report.rejected[0].reason
    assert [(r.value, r.unit) for r in hrv] == [(pytest.approx(31.813562), "ms")]


@pytest.mark.parametrize(
    ("device", "payload", "message"),
    [
        ("apple_health", payloads.BILLION_LAUGHS, "entit"),
        ("apple_health", payloads.EXTERNAL_ENTITY, "entit"),
        ("apple_health", "<HealthData><Record type=", "XML"),
        ("oura", '{"data": [', "JSON"),
        ("manual", b"\xff\xfe{}", "UTF-8"),
    ],
)
async def test_hostile_or_malformed_payload_is_refused_and_stores_nothing(
    server: DevServer, user_id: str, device: str, payload: str | bytes, message: str
) -> None:
    async with AurenClient(url=server.url) as auren:
        with pytest.raises(InvalidPayloadError, match=f"(?i){message}"):
            await auren.ingest(user_id, device, payload)
    assert await stored_namespaces(server, user_id) == []


async def test_large_payload_travels_by_reference(server: DevServer, user_id: str) -> None:
    payload = payloads.manual_entries(days=1500, start=date(2020, 1, 1))
    assert len(json.dumps(payload)) > INLINE_LIMIT
    async with AurenClient(url=server.url) as auren:
        report = await auren.ingest(user_id, "manual", payload)
    assert report.accepted == 3000
    sdk = get_client(url=server.url)
    assert await sdk.store.search_items(["uploads", user_id]) == {"items": []}
    threads = await sdk.threads.search(metadata={"user_id": user_id})
    state = await sdk.threads.get_state(threads[0]["thread_id"])
    assert len(json.dumps(state["values"])) < 4096


async def test_apple_export_file_streams_into_metrics(
    server: DevServer, user_id: str, tmp_path
) -> None:
    export = tmp_path / "export.xml"
    export.write_text(payloads.apple_export(heart_rates=50))
    async with AurenClient(url=server.url) as auren:
        report = await auren.ingest_file(user_id, "apple_health", export, progress=False)
        rows = await auren.metrics(user_id, "heart_rate", date(2026, 10, 1), date(2026, 10, 1))
    assert report.accepted == 50
    assert len(rows) == 50
    assert {r.device for r in rows} == {"apple_health"}


async def test_thread_state_stays_bounded(server: DevServer, user_id: str) -> None:
    sdk = get_client(url=server.url)
    async with AurenClient(url=server.url) as auren:
        await auren.ingest(user_id, "manual", payloads.manual_entries(days=2))
        (thread,) = await sdk.threads.search(metadata={"user_id": user_id})
        first = len(json.dumps((await sdk.threads.get_state(thread["thread_id"]))["values"]))
        for n in range(10):
            start = date(2025, 1, 1) + timedelta(days=10 * n)
            await auren.ingest(user_id, "manual", payloads.manual_entries(days=2, start=start))
        after = len(json.dumps((await sdk.threads.get_state(thread["thread_id"]))["values"]))
    assert after <= first * 1.2
