"""How canonical data lies in the store, and how a batch is merged into it.

Layout (namespace → key → value):

- `("users", user, "metrics", metric)` → `"YYYY-MM-DD"` → one item per user, metric and
  local day: `{"metric", "unit", "day", "day_num", "rows": [...], "parts": {...}}`. `rows` is what
  readers get: `{"value", "device", "timestamp", "id"}`. `parts` keeps the per-record
  contributions of metrics that combine several records into one daily value (naps
  summed, the main sleep chosen among several), so a redelivery is recognised.
- `("users", user, "raw", kind)` → `"YYYY-MM-DD"` → raw intervals by local start day,
  for values derived across deliveries (Apple steps, energy, sleep stages).
- `("users", user, "devices")` → device → the vendor account connected for the user.
- `("uploads", user)` → id → a payload staged by the client; deleted once ingested.

Ingesting a batch reads and writes only the items of the days it touches, so its cost
does not grow with the user's history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langgraph.store.base import BaseStore, GetOp, PutOp

from auren_graphs.canonical import (
    ACCEPTED,
    DUPLICATE,
    METRICS,
    UPDATED,
    Device,
    NormalizedBatch,
    Observation,
    RawInterval,
)
from auren_graphs.ingestion.prepared import (
    ObservationEntry,
    PreparedBatch,
    prepare_batch,
    prepare_intervals,
    prepare_observations,
)
from auren_graphs.ingestion.store_layout import (
    Derivation,
    Namespace,
    day_number,
    day_range_filter,
    devices_namespace,
    item_value,
    metric_namespace,
    off_the_loop,
    raw_namespace,
    uploads_namespace,
    verdict,
)
from auren_graphs.ingestion.store_raw import merge_intervals

__all__ = [
    "Derivation",
    "Namespace",
    "WriteCounts",
    "day_number",
    "day_range_filter",
    "devices_namespace",
    "merge_observations",
    "metric_namespace",
    "raw_namespace",
    "uploads_namespace",
    "verdict",
    "write_batch",
    "write_intervals",
    "write_observations",
    "write_prepared",
]


@dataclass(slots=True)
class WriteCounts:
    """What a write did: values new to the store, already there, or changed.

    `observation_codes` and `interval_codes` hold the verdict on each value written, in
    the order given (`ACCEPTED`, `UPDATED`, `DUPLICATE`; 0 when not counted), so that
    the records they came from can be accounted for too.
    """

    accepted: int = 0
    duplicates: int = 0
    updated: int = 0
    observation_codes: bytearray = field(default_factory=bytearray)
    interval_codes: bytearray = field(default_factory=bytearray)

    def add(self, other: WriteCounts) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.observation_codes += other.observation_codes
        self.interval_codes += other.interval_codes

    def tally(self) -> WriteCounts:
        """Value counts from the verdicts."""
        codes = self.observation_codes + self.interval_codes
        self.accepted = codes.count(ACCEPTED)
        self.updated = codes.count(UPDATED)
        self.duplicates = codes.count(DUPLICATE)
        return self


# ---------------------------------------------------------------- metric items


def _empty_item(metric: str, day: str) -> dict[str, Any]:
    return {
        "metric": metric,
        "unit": METRICS[metric].unit,
        "day": day,
        "day_num": day_number(day),
        "rows": [],
        "parts": {},
    }


def _aggregate_row(parts: Mapping[str, list[Any]], device: str) -> dict[str, Any] | None:
    """The one row a device's combined parts make: a sum, or the best-ranked value."""
    mine = [p for p in parts.values() if p[1] == device]
    if not mine:
        return None
    if mine[0][2] == "sum":
        value = sum(p[0] for p in mine)
    else:
        value = max(mine, key=lambda p: p[3])[0]
    return {"value": value, "device": device, "timestamp": None, "id": f"{device}:combined"}


def merge_observations(
    item: dict[str, Any], entries: Iterable[ObservationEntry], codes: bytearray | None
) -> bool:
    """Merge prepared observations of one (metric, day) into its item; True when it changed.

    Each entry's verdict is written into `codes` at the entry's index.
    """
    rows: dict[str, dict[str, Any]] = {row["id"]: row for row in item["rows"]}
    parts: dict[str, list[Any]] = item["parts"]
    combined_devices: set[str] = set()
    changed = False
    for index, identity, new in entries:
        if isinstance(new, dict):  # a row of its own
            old: Any = rows.get(identity)
            if old != new:
                rows[identity] = new
                changed = True
        else:  # a part of a combined row
            old = parts.get(identity)
            if old != new:
                parts[identity] = new
                combined_devices.add(new[1])
                changed = True
        if codes is not None:
            codes[index] = verdict(old, new)
    for device in combined_devices:
        row = _aggregate_row(parts, device)
        if row is not None:
            rows[row["id"]] = row
    if changed:
        item["rows"] = sorted(rows.values(), key=_row_order)
    return changed


def _row_order(row: dict[str, Any]) -> tuple[str, str]:
    return (row["timestamp"] or "", row["id"])


async def write_observations(
    store: BaseStore, user_id: str, observations: Sequence[Observation], *, count: bool = True
) -> WriteCounts:
    """Merge observations into their (metric, day) items with one read and one write batch."""
    groups = prepare_observations(observations)
    codes = await _write_rows(store, user_id, groups, len(observations) if count else None)
    return WriteCounts(observation_codes=codes).tally()


async def _write_rows(
    store: BaseStore,
    user_id: str,
    groups: Mapping[tuple[str, str], list[ObservationEntry]],
    count: int | None,
) -> bytearray:
    """Merge prepared observations; the verdicts, when `count` (how many there are)."""
    keys = list(groups)
    items = await store.abatch(
        [GetOp(metric_namespace(user_id, metric), day) for metric, day in keys]
    )
    codes = bytearray(count) if count is not None else None
    puts = await off_the_loop(_merged_rows, user_id, keys, items, groups, codes)
    if puts:
        await store.abatch(puts)
    return codes or bytearray()


def _merged_rows(
    user_id: str,
    keys: list[tuple[str, str]],
    items: list[Any],
    groups: Mapping[tuple[str, str], list[ObservationEntry]],
    codes: bytearray | None,
) -> list[PutOp]:
    puts: list[PutOp] = []
    for (metric, day), found in zip(keys, items, strict=True):
        value = item_value(found) or _empty_item(metric, day)
        if merge_observations(value, groups[(metric, day)], codes):
            puts.append(PutOp(metric_namespace(user_id, metric), day, value, index=False))
    return puts


async def write_intervals(
    store: BaseStore,
    user_id: str,
    device: Device,
    intervals: Sequence[RawInterval],
    derivations: Mapping[str, Derivation],
) -> WriteCounts:
    """Keep raw intervals, then re-derive the daily values of every day they touch."""
    codes = bytearray(len(intervals))
    derived = await merge_intervals(
        store, user_id, device, prepare_intervals(intervals), codes, derivations
    )
    await write_observations(store, user_id, derived, count=False)
    return WriteCounts(interval_codes=codes).tally()


async def write_batch(
    store: BaseStore,
    user_id: str,
    device: Device,
    batch: NormalizedBatch,
    derivations: Mapping[str, Derivation],
) -> WriteCounts:
    """Write one normalized batch: observations first, then intervals and what they derive."""
    prepared = prepare_batch(batch.observations, batch.intervals)
    return await write_prepared(store, user_id, device, prepared, derivations)


async def write_prepared(
    store: BaseStore,
    user_id: str,
    device: Device,
    prepared: PreparedBatch,
    derivations: Mapping[str, Derivation],
) -> WriteCounts:
    """Write a prepared batch (see `prepared`).

    The batch's own values and its raw intervals go to different items, so they are
    written at once (the store's pool gives each its connection, and Postgres works on
    them while this process merges the next); then the daily values the intervals
    derive, which may share items with nothing written before them in this batch.
    """
    interval_codes = bytearray(prepared.interval_count)
    observation_codes, derived = await asyncio.gather(
        _write_rows(store, user_id, prepared.observations, prepared.observation_count),
        merge_intervals(store, user_id, device, prepared.intervals, interval_codes, derivations),
    )
    if derived:
        await write_observations(store, user_id, derived, count=False)
    return WriteCounts(observation_codes=observation_codes, interval_codes=interval_codes).tally()
