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

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, PutOp

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

Namespace = tuple[str, ...]
Derivation = Callable[[Sequence[RawInterval]], Mapping[date, Mapping[str, float]]]


def metric_namespace(user_id: str, metric: str) -> Namespace:
    return ("users", user_id, "metrics", metric)


def raw_namespace(user_id: str, kind: str) -> Namespace:
    return ("users", user_id, "raw", kind)


def devices_namespace(user_id: str) -> Namespace:
    return ("users", user_id, "devices")


def uploads_namespace(user_id: str) -> Namespace:
    return ("uploads", user_id)


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


def verdict(old: object, new: object) -> int:
    """`ACCEPTED` when there was nothing, `DUPLICATE` when equal, else `UPDATED`."""
    if old is None:
        return ACCEPTED
    return DUPLICATE if old == new else UPDATED


# ---------------------------------------------------------------- metric items


def day_number(day: date | str) -> int:
    """A day as the integer YYYYMMDD: range filters on it work in every store.

    (The in-memory store compares range filters as floats, so ISO strings cannot be used.)
    """
    text = day.isoformat() if isinstance(day, date) else day
    return int(text.replace("-", ""))


def day_range_filter(first: date, last: date) -> dict[str, Any]:
    """A store search filter for metric items of days first..last."""
    return {"day_num": {"$gte": day_number(first), "$lte": day_number(last)}}


def _empty_item(metric: str, day: str) -> dict[str, Any]:
    return {
        "metric": metric,
        "unit": METRICS[metric].unit,
        "day": day,
        "day_num": day_number(day),
        "rows": [],
        "parts": {},
    }


def _row(obs: Observation, identity: str) -> dict[str, Any]:
    stamp = obs.timestamp.isoformat() if obs.timestamp is not None else None
    return {"value": obs.value, "device": obs.device, "timestamp": stamp, "id": identity}


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
    item: dict[str, Any],
    observations: Iterable[tuple[int, Observation]],
    codes: bytearray | None,
) -> bool:
    """Merge observations of one (metric, day) into its item; True when it changed.

    Each observation comes with its position in `codes`, where its verdict is written.
    """
    rows: dict[str, dict[str, Any]] = {row["id"]: row for row in item["rows"]}
    parts: dict[str, list[Any]] = item["parts"]
    combined_devices: set[str] = set()
    changed = False
    for index, obs in observations:
        if obs.combine == "replace":
            old: Any = rows.get(obs.identity)
            new: Any = _row(obs, obs.identity)
            if old != new:
                rows[obs.identity] = new
                changed = True
        else:
            old = parts.get(obs.identity)
            new = [obs.value, obs.device, obs.combine, obs.rank]
            if old != new:
                parts[obs.identity] = new
                combined_devices.add(obs.device)
                changed = True
        if codes is not None:
            codes[index] = verdict(old, new)
    for device in combined_devices:
        row = _aggregate_row(parts, device)
        if row is not None:
            rows[row["id"]] = row
    if changed:
        item["rows"] = sorted(rows.values(), key=lambda r: (r["timestamp"] or "", r["id"]))
    return changed


async def write_observations(
    store: BaseStore, user_id: str, observations: Sequence[Observation], *, count: bool = True
) -> WriteCounts:
    """Merge observations into their (metric, day) items with one read and one write batch."""
    groups: dict[tuple[str, date], list[tuple[int, Observation]]] = defaultdict(list)
    for index, obs in enumerate(observations):
        groups[(obs.metric, obs.day)].append((index, obs))
    keys = [(metric, day.isoformat()) for metric, day in groups]
    items = await store.abatch(
        [GetOp(metric_namespace(user_id, metric), day) for metric, day in keys]
    )
    codes = bytearray(len(observations)) if count else None
    puts: list[PutOp] = []
    for (metric, day), group, found in zip(keys, groups.values(), items, strict=True):
        value = _item_value(found) or _empty_item(metric, day)
        if merge_observations(value, group, codes):
            puts.append(PutOp(metric_namespace(user_id, metric), day, value, index=False))
    if puts:
        await store.abatch(puts)
    return WriteCounts(observation_codes=codes or bytearray()).tally()


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
    codes = bytearray(len(intervals))
    by_kind: dict[str, list[tuple[int, RawInterval]]] = defaultdict(list)
    for index, interval in enumerate(intervals):
        by_kind[interval.kind].append((index, interval))
    for kind, members in by_kind.items():
        merged, touched = await _merge_raw(store, user_id, kind, members, codes)
        if touched:
            known = {interval.identity: interval for _, interval in members}
            intervals_around = await _intervals_around(store, user_id, kind, touched, merged, known)
            derived = _derived_observations(
                kind, device, touched, derivations[kind](intervals_around)
            )
            await write_observations(store, user_id, derived, count=False)
    return WriteCounts(interval_codes=codes).tally()


RawItems = dict[str, dict[str, list[Any]]]


async def _merge_raw(
    store: BaseStore,
    user_id: str,
    kind: str,
    intervals: Sequence[tuple[int, RawInterval]],
    codes: bytearray,
) -> tuple[RawItems, set[date]]:
    """Merge intervals into their raw day items.

    Returns every day item read (merged), by day, and the local days whose data changed.
    """
    namespace = raw_namespace(user_id, kind)
    groups: dict[str, list[tuple[int, RawInterval]]] = defaultdict(list)
    for index, interval in intervals:
        groups[_interval_day(interval)].append((index, interval))
    days = list(groups)
    found = await store.abatch([GetOp(namespace, day) for day in days])
    touched: set[date] = set()
    merged: RawItems = {}
    puts: list[PutOp] = []
    for day, item in zip(days, found, strict=True):
        value = _item_value(item) or {"day": day, "intervals": {}}
        stored: dict[str, list[Any]] = value["intervals"]
        merged[day] = stored
        changed = False
        for index, interval in groups[day]:
            packed = _pack(interval)
            old = stored.get(interval.identity)
            codes[index] = verdict(old, packed)
            if old != packed:
                stored[interval.identity] = packed
                changed = True
                touched.update(_days_between(interval.start.date(), interval.end.date()))
        if changed:
            puts.append(PutOp(namespace, day, value, index=False))
    if puts:
        await store.abatch(puts)
    return merged, touched


async def _intervals_around(
    store: BaseStore,
    user_id: str,
    kind: str,
    touched: set[date],
    merged: RawItems,
    known: Mapping[str, RawInterval],
) -> list[RawInterval]:
    """The raw intervals of the touched days and one day either side.

    A night starts the evening before the day it belongs to, so one day either side of
    the touched days is read as context. Days just merged are not read again, and the
    intervals of this batch are taken as they are instead of unpacked.
    """
    window = [
        d.isoformat()
        for d in _days_between(min(touched) - timedelta(days=1), max(touched) + timedelta(days=1))
    ]
    missing = [day for day in window if day not in merged]
    found = await store.abatch([GetOp(raw_namespace(user_id, kind), day) for day in missing])
    items = [merged[day] for day in window if day in merged]
    items += [item.value["intervals"] for item in found if isinstance(item, Item)]
    return [
        known.get(identity) or _unpack(kind, identity, packed)
        for stored in items
        for identity, packed in stored.items()
    ]


def _derived_observations(
    kind: str,
    device: Device,
    touched: set[date],
    derived: Mapping[date, Mapping[str, float]],
) -> list[Observation]:
    """Daily observations of the touched days (only those are written back)."""
    return [
        Observation(metric, value, day, device, f"{device}:derived:{kind}:{metric}")
        for day, values in derived.items()
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
    if batch.intervals:
        counts.add(await write_intervals(store, user_id, device, batch.intervals, derivations))
    return counts.tally()
