"""How canonical data lies in the store, and how a batch is merged into it.

Layout (namespaces from `auren_contract`; namespace → key → value):

- `metric_namespace(user, metric)` → `"YYYY-MM-DD"` → one item per user, metric and
  local day: `{"metric", "unit", "day", "day_num", "rows": [...], "parts": {...}}`. `rows` is what
  readers get (`auren_graphs.readings`): `{"value", "device", "timestamp", "id"}`. `parts`
  keeps the per-record contributions of metrics that combine several records into one
  daily value (naps summed, the main sleep chosen among several), so a redelivery is
  recognised.
- `raw_namespace(user, kind)` → `"YYYY-MM-DD"` → raw intervals by local start day, for
  values derived across deliveries (Apple steps, energy, sleep stages).
- `uploads_namespace(user)` → id → a payload staged by the client; deleted once ingested.

Device connections are not in the store: `auren_graphs.records.connections`.

Ingesting a batch reads and writes only the items of the days it touches, so its cost
does not grow with the user's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from auren_contract import day_number, metric_namespace, raw_namespace
from langgraph.store.base import BaseStore, GetOp, Item, PutOp

from auren_graphs.canonical import (
    METRICS,
    Device,
    NormalizedBatch,
    Observation,
    RawInterval,
)
from auren_graphs.ingestion.deletions import index_sources

Derivation = Callable[[Sequence[RawInterval]], Mapping[date, Mapping[str, float]]]


@dataclass(slots=True)
class WriteCounts:
    """What a write did: values new to the store, already there, or changed."""

    accepted: int = 0
    duplicates: int = 0
    updated: int = 0

    def add(self, other: WriteCounts) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.updated += other.updated

    def count(self, old: object, new: object) -> None:
        if old is None:
            self.accepted += 1
        elif old == new:
            self.duplicates += 1
        else:
            self.updated += 1


# ---------------------------------------------------------------- metric items


def _empty_item(metric: str, day: str) -> dict[str, Any]:
    return {
        "metric": metric,
        "unit": METRICS[metric].unit,
        "day": day,
        "day_num": day_number(date.fromisoformat(day)),
        "rows": [],
        "parts": {},
    }


def _row(obs: Observation, identity: str) -> dict[str, Any]:
    stamp = obs.timestamp.isoformat() if obs.timestamp is not None else None
    return {"value": obs.value, "device": obs.device, "timestamp": stamp, "id": identity}


def aggregate_row(parts: Mapping[str, list[Any]], device: str) -> dict[str, Any] | None:
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
    item: dict[str, Any], observations: Iterable[Observation], counts: WriteCounts | None
) -> bool:
    """Merge observations of one (metric, day) into its item; True when it changed."""
    rows: dict[str, dict[str, Any]] = {row["id"]: row for row in item["rows"]}
    parts: dict[str, list[Any]] = item["parts"]
    combined_devices: set[str] = set()
    changed = False
    for obs in observations:
        if obs.combine == "replace":
            new_row = _row(obs, obs.identity)
            old_row = rows.get(obs.identity)
            if counts is not None:
                counts.count(old_row, new_row)
            if old_row != new_row:
                rows[obs.identity] = new_row
                changed = True
        else:
            new_part = [obs.value, obs.device, obs.combine, obs.rank]
            old_part = parts.get(obs.identity)
            if counts is not None:
                counts.count(old_part, new_part)
            if old_part != new_part:
                parts[obs.identity] = new_part
                combined_devices.add(obs.device)
                changed = True
    for device in combined_devices:
        row = aggregate_row(parts, device)
        if row is not None:
            rows[row["id"]] = row
    if changed:
        item["rows"] = sorted(rows.values(), key=lambda r: (r["timestamp"] or "", r["id"]))
    return changed


async def write_observations(
    store: BaseStore, user_id: str, observations: Iterable[Observation], *, count: bool = True
) -> WriteCounts:
    """Merge observations into their (metric, day) items with one read and one write batch."""
    groups: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for obs in observations:
        groups[(obs.metric, obs.day.isoformat())].append(obs)
    keys = list(groups)
    items = await store.abatch(
        [GetOp(metric_namespace(user_id, metric), day) for metric, day in keys]
    )
    counts = WriteCounts()
    puts: list[PutOp] = []
    for (metric, day), found in zip(keys, items, strict=True):
        value = _item_value(found) or _empty_item(metric, day)
        if merge_observations(value, groups[(metric, day)], counts if count else None):
            puts.append(PutOp(metric_namespace(user_id, metric), day, value, index=False))
    if puts:
        await store.abatch(puts)
    return counts


def _item_value(found: Any) -> dict[str, Any] | None:
    return dict(found.value) if isinstance(found, Item) else None


# ---------------------------------------------------------------- raw intervals


def _interval_day(interval: RawInterval) -> str:
    return interval.start.date().isoformat()


def _pack(interval: RawInterval) -> list[Any]:
    return [interval.start.isoformat(), interval.end.isoformat(), interval.value, interval.source]


def _unpack(kind: str, identity: str, packed: Sequence[Any]) -> RawInterval:
    start, end, value, source = packed
    return RawInterval(
        kind, datetime.fromisoformat(start), datetime.fromisoformat(end), value, source, identity
    )


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def write_intervals(
    store: BaseStore,
    user_id: str,
    device: Device,
    intervals: Sequence[RawInterval],
    derivations: Mapping[str, Derivation],
) -> WriteCounts:
    """Keep raw intervals, then re-derive the daily values of every day they touch."""
    counts = WriteCounts()
    by_kind: dict[str, list[RawInterval]] = defaultdict(list)
    for interval in intervals:
        by_kind[interval.kind].append(interval)
    for kind, members in by_kind.items():
        touched = await _merge_raw(store, user_id, kind, members, counts)
        if touched:
            derived = await _derive(store, user_id, kind, device, touched, derivations[kind])
            await write_observations(store, user_id, derived, count=False)
    return counts


async def _merge_raw(
    store: BaseStore,
    user_id: str,
    kind: str,
    intervals: Sequence[RawInterval],
    counts: WriteCounts,
) -> set[date]:
    """Merge intervals into their raw day items; return the local days whose data changed."""
    namespace = raw_namespace(user_id, kind)
    groups: dict[str, list[RawInterval]] = defaultdict(list)
    for interval in intervals:
        groups[_interval_day(interval)].append(interval)
    days = list(groups)
    found = await store.abatch([GetOp(namespace, day) for day in days])
    touched: set[date] = set()
    puts: list[PutOp] = []
    for day, item in zip(days, found, strict=True):
        value = _item_value(item) or {"day": day, "intervals": {}}
        stored: dict[str, list[Any]] = value["intervals"]
        changed = False
        for interval in groups[day]:
            packed = _pack(interval)
            counts.count(stored.get(interval.identity), packed)
            if stored.get(interval.identity) != packed:
                stored[interval.identity] = packed
                changed = True
                touched.update(_days_between(interval.start.date(), interval.end.date()))
        if changed:
            puts.append(PutOp(namespace, day, value, index=False))
    if puts:
        await store.abatch(puts)
    return touched


async def _derive(
    store: BaseStore,
    user_id: str,
    kind: str,
    device: Device,
    touched: set[date],
    derivation: Derivation,
) -> list[Observation]:
    """Daily observations for the touched days, from the raw items around them.

    A night starts the evening before the day it belongs to, so one day either side of
    the touched days is read as context; only touched days are written back.
    """
    window = _days_between(min(touched) - timedelta(days=1), max(touched) + timedelta(days=1))
    found = await store.abatch([GetOp(raw_namespace(user_id, kind), d.isoformat()) for d in window])
    intervals = [
        _unpack(kind, identity, packed)
        for item in found
        if isinstance(item, Item)
        for identity, packed in item.value["intervals"].items()
    ]
    return [
        Observation(metric, value, day, device, f"{device}:derived:{kind}:{metric}")
        for day, values in derivation(intervals).items()
        if day in touched
        for metric, value in values.items()
    ]


async def write_batch(
    store: BaseStore,
    user_id: str,
    device: Device,
    batch: NormalizedBatch,
    derivations: Mapping[str, Derivation],
) -> WriteCounts:
    """Write one normalized batch: observations first, then intervals and what they derive."""
    counts = await write_observations(store, user_id, batch.observations)
    await index_sources(store, user_id, batch.observations)
    if batch.intervals:
        counts.add(await write_intervals(store, user_id, device, batch.intervals, derivations))
    return counts
