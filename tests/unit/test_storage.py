"""The store layout and merge rules, on the in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.store.memory import InMemoryStore

from auren_graphs.canonical import NormalizedBatch, Observation, RawInterval
from auren_graphs.ingestion.normalizers import DERIVATIONS, apple
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.storage import (
    metric_namespace,
    raw_namespace,
    write_batch,
    write_intervals,
    write_observations,
)

DAY = date(2026, 11, 2)


def obs(metric: str, value: float, identity: str, **kw: Any) -> Observation:
    return Observation(metric, value, kw.pop("day", DAY), kw.pop("device", "oura"), identity, **kw)


async def rows(store: InMemoryStore, metric: str, day: date = DAY) -> list[dict[str, Any]]:
    item = await store.aget(metric_namespace("u", metric), day.isoformat())
    return [] if item is None else list(item.value["rows"])


async def test_replace_counts_new_duplicate_and_updated() -> None:
    store = InMemoryStore()
    first = await write_observations(store, "u", [obs("readiness_score", 80, "a")])
    again = await write_observations(store, "u", [obs("readiness_score", 80, "a")])
    fixed = await write_observations(store, "u", [obs("readiness_score", 82, "a")])
    assert (first.accepted, again.duplicates, fixed.updated) == (1, 1, 1)
    assert [r["value"] for r in await rows(store, "readiness_score")] == [82]


async def test_samples_keep_their_instants_in_order() -> None:
    store = InMemoryStore()
    t = datetime(2026, 11, 2, 7, tzinfo=UTC)
    await write_observations(
        store,
        "u",
        [
            obs("heart_rate", 61, "b", timestamp=t + timedelta(minutes=5)),
            obs("heart_rate", 60, "a", timestamp=t),
        ],
    )
    assert [(r["value"], r["timestamp"]) for r in await rows(store, "heart_rate")] == [
        (60, t.isoformat()),
        (61, (t + timedelta(minutes=5)).isoformat()),
    ]


async def test_sum_adds_records_and_redelivery_does_not_double() -> None:
    store = InMemoryStore()
    naps = [
        obs("nap_duration", 1200, "n1", combine="sum"),
        obs("nap_duration", 600, "n2", combine="sum"),
    ]
    await write_observations(store, "u", naps)
    counts = await write_observations(store, "u", naps[:1])
    assert counts.duplicates == 1
    assert [r["value"] for r in await rows(store, "nap_duration")] == [1800]


async def test_best_keeps_the_highest_ranked_record_per_device() -> None:
    store = InMemoryStore()
    await write_observations(
        store, "u", [obs("sleep_duration", 20_000, "long", combine="best", rank=20_000)]
    )
    await write_observations(
        store, "u", [obs("sleep_duration", 5_000, "short", combine="best", rank=5_000)]
    )
    await write_observations(
        store, "u", [obs("sleep_duration", 25_000, "w", combine="best", rank=1, device="whoop")]
    )
    got = {(r["device"], r["value"]) for r in await rows(store, "sleep_duration")}
    assert got == {("oura", 20_000), ("whoop", 25_000)}


def _steps_per_day(intervals: Sequence[RawInterval]) -> dict[date, dict[str, float]]:
    totals: dict[date, dict[str, float]] = {}
    for i in intervals:
        totals.setdefault(i.start.date(), {"steps": 0.0})["steps"] += float(i.value)
    return totals


async def test_intervals_are_kept_and_days_rederived_across_deliveries() -> None:
    store = InMemoryStore()
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    morning = RawInterval("apple_steps", t, t + timedelta(minutes=10), 500, "Watch", "s1")
    evening = RawInterval(
        "apple_steps", t + timedelta(hours=9), t + timedelta(hours=10), 700, "Watch", "s2"
    )
    derive = {"apple_steps": _steps_per_day}
    first = await write_intervals(store, "u", "apple_health", [morning], derive)
    second = await write_intervals(store, "u", "apple_health", [morning, evening], derive)
    assert (first.accepted, second.accepted, second.duplicates) == (1, 1, 1)
    assert [r["value"] for r in await rows(store, "steps")] == [1200]
    raw = await store.aget(raw_namespace("u", "apple_steps"), "2026-11-02")
    assert raw is not None
    assert set(raw.value["intervals"]) == {"s1", "s2"}


async def test_write_batch_touches_only_the_days_it_carries() -> None:
    store = InMemoryStore()
    for n in range(50):
        day = DAY - timedelta(days=n)
        await write_observations(store, "u", [obs("steps", 1000 + n, f"d{n}", day=day)])
    batch = NormalizedBatch(observations=[obs("steps", 5, "new", day=DAY + timedelta(days=1))])
    counts = await write_batch(store, "u", "oura", batch, {})
    assert counts.accepted == 1
    assert len(await store.asearch(metric_namespace("u", "steps"), limit=100)) == 51


class CountingStore(InMemoryStore):
    """An in-memory store that counts its round trips (batches of operations)."""

    def __init__(self) -> None:
        super().__init__()
        self.round_trips = 0

    async def abatch(self, ops: Any) -> Any:
        self.round_trips += 1
        return await super().abatch(ops)


def _export_batch() -> NormalizedBatch:
    fixture = Path(__file__).parent.parent / "fixtures" / "apple" / "export.xml"
    return apple.normalize(fixture.read_text(), NormalizeContext("u"))


async def test_an_apple_batch_takes_one_read_and_one_write() -> None:
    store = CountingStore()
    batch = _export_batch()
    assert batch.observations and batch.intervals
    counts = await write_batch(store, "u", "apple_health", batch, DERIVATIONS)
    assert store.round_trips == 2
    assert counts.accepted == len(batch.observations) + len(batch.intervals)
    # The Watch's 1,000, the iPhone's 5 minutes it does not overlap (300) and the
    # iPhone's 10 minutes before midnight (100).
    assert [r["value"] for r in await rows(store, "steps")] == [1400.0]
    assert await rows(store, "time_in_bed", date(2026, 11, 2))


async def test_a_derivation_that_names_no_metrics_is_written_afterwards() -> None:
    store = CountingStore()
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    sample = RawInterval("apple_steps", t, t + timedelta(minutes=10), 500, "Watch", "s1")
    batch = NormalizedBatch(intervals=[sample])
    await write_batch(store, "u", "apple_health", batch, {"apple_steps": _steps_per_day})
    assert store.round_trips == 4  # one read, one write, then the derived values' own two
    assert [r["value"] for r in await rows(store, "steps")] == [500]
