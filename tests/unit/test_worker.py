"""Reading staged uploads beside the event loop: results, prefetching, the process pool."""

from __future__ import annotations

import asyncio
import base64
import zlib

import pytest

from auren_graphs.canonical import PayloadError
from auren_graphs.ingestion import worker
from auren_graphs.ingestion.normalizers import NormalizeContext
from auren_graphs.settings import get_settings
from tests.support import payloads

CTX = NormalizeContext("u-worker")


def packed_upload(text: str) -> dict[str, object]:
    packed = base64.b64encode(zlib.compress(text.encode(), 1)).decode()
    return {"device": "apple_health", "payload": packed, "encoding": "zlib+base64"}


def test_a_payload_comes_back_prepared_with_its_accounting() -> None:
    result = worker.normalize_payload(
        "apple_health", packed_upload(payloads.apple_export(5)), "u", None, True
    )
    assert result.batch.records_seen == 5
    assert result.batch.observations == [] and result.batch.intervals == []  # moved
    assert result.prepared.observation_count == 5
    [(metric, _day)] = result.prepared.observations
    assert metric == "heart_rate"


async def test_uploads_are_read_in_the_worker_process_once_it_is_ready() -> None:
    value = packed_upload(payloads.apple_export(3))
    results = [await worker.normalized("apple_health", value, CTX, staged=True) for _ in range(3)]
    for _ in range(100):  # the worker starts in the background; the first ones ran here
        if worker._POOL._ready is not None and worker._POOL._ready.done():
            break
        await asyncio.sleep(0.05)
    results.append(await worker.normalized("apple_health", value, CTX, staged=True))
    assert {r.prepared.observation_count for r in results} == {3}


async def test_a_refused_upload_raises_its_reason_from_the_worker() -> None:
    value = {"payload": "not base64!", "encoding": "zlib+base64"}
    with pytest.raises(PayloadError, match="base64"):
        await worker.normalized("apple_health", value, CTX, staged=True)


async def test_prefetched_readings_are_claimed_once_and_bounded() -> None:
    value = packed_upload(payloads.apple_export(2))
    worker.prefetch(("u", "k1"), "apple_health", value, CTX)
    assert worker.prefetching(("u", "k1"))
    claimed = worker.claim(("u", "k1"), "apple_health", CTX)
    assert claimed is not None and (await claimed).batch.records_seen == 2
    assert worker.claim(("u", "k1"), "apple_health", CTX) is None
    for n in range(worker.MAX_PREFETCHED + 3):
        worker.prefetch(("u", f"b{n}"), "apple_health", value, CTX)
    assert not worker.prefetching(("u", "b0"))  # the oldest were dropped
    worker.forget([("u", f"b{n}") for n in range(worker.MAX_PREFETCHED + 3)])
    assert not worker.prefetching(("u", f"b{worker.MAX_PREFETCHED + 2}"))


async def test_a_reading_made_for_another_device_or_account_is_not_claimed() -> None:
    value = packed_upload(payloads.apple_export(2))
    worker.prefetch(("u", "k2"), "apple_health", value, CTX)
    assert worker.claim(("u", "k2"), "apple_health", NormalizeContext("u-worker", "v1")) is None
    assert not worker.prefetching(("u", "k2"))  # dropped: the run reads it again itself


async def test_readings_nobody_claims_are_dropped_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = packed_upload(payloads.apple_export(2))
    worker.prefetch(("u", "old"), "apple_health", value, CTX)
    monkeypatch.setattr(worker, "MAX_PREFETCHED_SECONDS", 0.0)
    worker.prefetch(("u", "new"), "apple_health", value, CTX)
    assert not worker.prefetching(("u", "old"))
    worker.forget([("u", "new")])


def test_a_worker_asked_for_at_most_one_more_reading_than_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "ingest_workers", 1)
    assert worker.depth() == 2
    monkeypatch.setattr(get_settings(), "ingest_workers", 0)
    assert worker.depth() == 1


async def test_without_workers_uploads_are_read_in_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "ingest_workers", 0)
    pool = worker._Pool()
    monkeypatch.setattr(worker, "_POOL", pool)
    result = await worker.normalized(
        "apple_health", packed_upload(payloads.apple_export(4)), CTX, staged=True
    )
    assert result.batch.records_seen == 4
    assert pool._executor is None
