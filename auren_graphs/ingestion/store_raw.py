"""Raw intervals in the store, and the daily values re-derived from them.

`("users", user, "raw", kind)` → `"YYYY-MM-DD"` → `{"day", "intervals": {identity:
[start, end, value, source]}}`, by local start day: Apple's steps, energy and sleep
stages, kept as delivered, so a day's value can be derived again whenever a later
delivery adds to it (another source, the rest of a night).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, PutOp

from auren_graphs.canonical import Device, Observation, RawInterval
from auren_graphs.ingestion.derivation import Derivation
from auren_graphs.ingestion.prepared import IntervalEntry, days_between
from auren_graphs.ingestion.store_layout import (
    Namespace,
    item_value,
    off_the_loop,
    raw_namespace,
    verdict,
)


def _unpack(kind: str, identity: str, packed: Sequence[Any]) -> RawInterval:
    start, end, value, source = packed
    return RawInterval(
        kind, datetime.fromisoformat(start), datetime.fromisoformat(end), value, source, identity
    )


async def merge_intervals(
    store: BaseStore,
    user_id: str,
    device: Device,
    groups: Mapping[tuple[str, str], list[IntervalEntry]],
    codes: bytearray,
    derivations: Mapping[str, Derivation],
) -> list[Observation]:
    """Merge intervals into their raw items, kind by kind at once (each kind has items of
    its own); the daily values they derive, for the caller to write."""
    by_kind: dict[str, dict[str, list[IntervalEntry]]] = defaultdict(dict)
    for (kind, day), entries in groups.items():
        by_kind[kind][day] = entries
    derived = await asyncio.gather(
        *(
            _merge_kind(store, user_id, device, kind, days, codes, derivations[kind])
            for kind, days in by_kind.items()
        )
    )
    return [observation for observations in derived for observation in observations]


async def _merge_kind(
    store: BaseStore,
    user_id: str,
    device: Device,
    kind: str,
    days: Mapping[str, list[IntervalEntry]],
    codes: bytearray,
    derivation: Derivation,
) -> list[Observation]:
    merged, touched = await _merge_raw(store, user_id, kind, days, codes)
    if not touched:
        return []
    around = await _items_around(store, user_id, kind, touched, merged)
    return await off_the_loop(_derive, kind, device, touched, around, derivation)


def _derive(
    kind: str,
    device: Device,
    touched: set[date],
    items: list[dict[str, list[Any]]],
    derivation: Derivation,
) -> list[Observation]:
    return derive_observations(kind, device, touched, items, derivation)


def derive_observations(
    kind: str,
    device: Device,
    touched: set[date],
    items: Sequence[dict[str, list[Any]]],
    derivation: Derivation,
) -> list[Observation]:
    """The daily values of the touched days, derived from the raw day items given."""
    intervals = [
        _unpack(kind, identity, packed) for stored in items for identity, packed in stored.items()
    ]
    return _derived_observations(kind, device, touched, derivation(intervals))


def merge_raw_entries(
    stored: dict[str, list[Any]], entries: list[IntervalEntry], codes: bytearray, touched: set[str]
) -> bool:
    """Merge packed intervals into one raw day item's `intervals`; True when it changed.

    Verdicts go into `codes`; the days a changed interval touches into `touched`.
    """
    changed = False
    for index, identity, packed, spans in entries:
        old = stored.get(identity)
        codes[index] = verdict(old, packed)
        if old != packed:
            stored[identity] = packed
            changed = True
            touched.update(spans)
    return changed


def context_window(touched: set[date]) -> list[date]:
    """The touched days and one either side: a night starts the evening before the day
    it belongs to."""
    return days_between(min(touched) - timedelta(days=1), max(touched) + timedelta(days=1))


RawItems = dict[str, dict[str, list[Any]]]


async def _merge_raw(
    store: BaseStore,
    user_id: str,
    kind: str,
    groups: Mapping[str, list[IntervalEntry]],
    codes: bytearray,
) -> tuple[RawItems, set[date]]:
    """Merge packed intervals into their raw day items.

    Returns every day item read (merged), by day, and the local days whose data changed.
    """
    namespace = raw_namespace(user_id, kind)
    days = list(groups)
    found = await store.abatch([GetOp(namespace, day) for day in days])
    merged, touched, puts = await off_the_loop(_merged_raw, namespace, days, found, groups, codes)
    if puts:
        await store.abatch(puts)
    return merged, touched


def _merged_raw(
    namespace: Namespace,
    days: list[str],
    found: list[Any],
    groups: Mapping[str, list[IntervalEntry]],
    codes: bytearray,
) -> tuple[RawItems, set[date], list[PutOp]]:
    touched: set[str] = set()
    merged: RawItems = {}
    puts: list[PutOp] = []
    for day, item in zip(days, found, strict=True):
        value = item_value(item) or {"day": day, "intervals": {}}
        merged[day] = value["intervals"]
        if merge_raw_entries(value["intervals"], groups[day], codes, touched):
            puts.append(PutOp(namespace, day, value, index=False))
    return merged, {date.fromisoformat(day) for day in touched}, puts


async def _items_around(
    store: BaseStore, user_id: str, kind: str, touched: set[date], merged: RawItems
) -> list[dict[str, list[Any]]]:
    """The raw items of the touched days and one day either side.

    A night starts the evening before the day it belongs to, so one day either side of
    the touched days is read as context. Days just merged are not read again.
    """
    window = [d.isoformat() for d in context_window(touched)]
    missing = [day for day in window if day not in merged]
    found = await store.abatch([GetOp(raw_namespace(user_id, kind), day) for day in missing])
    items = [merged[day] for day in window if day in merged]
    return items + [item.value["intervals"] for item in found if isinstance(item, Item)]


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
