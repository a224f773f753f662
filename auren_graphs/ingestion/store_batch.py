"""Merging a prepared batch into everything it touches, read at once (see
`storage.write_prepared`): pure computation on the items read, run off the event loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from langgraph.store.base import PutOp

from auren_graphs.canonical import Device, Observation
from auren_graphs.ingestion.derivation import Derivation
from auren_graphs.ingestion.prepared import (
    IntervalEntry,
    ObservationEntry,
    PreparedBatch,
    prepare_observations,
)
from auren_graphs.ingestion.store_layout import Namespace, metric_namespace, raw_namespace
from auren_graphs.ingestion.store_raw import context_window, derive_observations, merge_raw_entries
from auren_graphs.ingestion.store_rows import empty_item, merge_observations

Key = tuple[Namespace, str]
Kinds = dict[str, dict[str, list[IntervalEntry]]]


def by_kind(groups: Mapping[tuple[str, str], list[IntervalEntry]]) -> Kinds:
    kinds: Kinds = {}
    for (kind, day), entries in groups.items():
        kinds.setdefault(kind, {})[day] = entries
    return kinds


def _span_days(days: Mapping[str, list[IntervalEntry]]) -> set[date]:
    return {date.fromisoformat(d) for entries in days.values() for e in entries for d in e[3]}


def read_keys(
    user_id: str, prepared: PreparedBatch, kinds: Kinds, derivations: Mapping[str, Derivation]
) -> Iterator[Key]:
    for metric, day in prepared.observations:
        yield metric_namespace(user_id, metric), day
    for kind, days in kinds.items():
        spanned = _span_days(days)
        for context in context_window(spanned):
            yield raw_namespace(user_id, kind), context.isoformat()
        for derived in getattr(derivations[kind], "metrics", ()):
            for spans in spanned:
                yield metric_namespace(user_id, derived), spans.isoformat()


class _Items:
    """The items read for a batch by (namespace, key) (None: absent), as it changes them."""

    def __init__(self, values: dict[Key, dict[str, Any] | None]) -> None:
        self.values = values
        self.changed: set[Key] = set()

    def was_read(self, key: Key) -> bool:
        return key in self.values

    def get(self, key: Key, empty: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        value = self.values.get(key)
        if value is None:
            value = self.values[key] = empty()
        return value

    def puts(self) -> list[PutOp]:
        return [PutOp(ns, key, self.values[(ns, key)], index=False) for ns, key in self.changed]


@dataclass(slots=True)
class Merged:
    observation_codes: bytearray
    interval_codes: bytearray
    puts: list[PutOp]
    leftover: list[Observation]


def merge_batch(
    user_id: str,
    device: Device,
    prepared: PreparedBatch,
    kinds: Kinds,
    derivations: Mapping[str, Derivation],
    values: dict[Key, dict[str, Any] | None],
) -> Merged:
    """Merge a batch into the items read for it: its values, its raw intervals, and the
    daily values they derive (those whose items were not read are left over)."""
    items = _Items(values)
    observation_codes = bytearray(prepared.observation_count)
    interval_codes = bytearray(prepared.interval_count)
    _merge_metric_items(user_id, prepared.observations, items, observation_codes)
    leftover: list[Observation] = []
    for kind, days in kinds.items():
        ready: list[Observation] = []
        derived = _merge_raw_kind(
            user_id, device, kind, days, derivations[kind], items, interval_codes
        )
        for obs in derived:
            key = (metric_namespace(user_id, obs.metric), obs.day.isoformat())
            (ready if items.was_read(key) else leftover).append(obs)
        _merge_metric_items(user_id, prepare_observations(ready), items, None)
    return Merged(observation_codes, interval_codes, items.puts(), leftover)


def _merge_metric_items(
    user_id: str,
    groups: Mapping[tuple[str, str], list[ObservationEntry]],
    items: _Items,
    codes: bytearray | None,
) -> None:
    for (metric, day), entries in groups.items():
        key = (metric_namespace(user_id, metric), day)
        item = items.get(key, partial(empty_item, metric, day))
        if merge_observations(item, entries, codes):
            items.changed.add(key)


def _empty_raw_item(day: str) -> dict[str, Any]:
    return {"day": day, "intervals": {}}


def _merge_raw_kind(
    user_id: str,
    device: Device,
    kind: str,
    days: Mapping[str, list[IntervalEntry]],
    derivation: Derivation,
    items: _Items,
    codes: bytearray,
) -> list[Observation]:
    namespace = raw_namespace(user_id, kind)
    touched: set[str] = set()
    for day, entries in days.items():
        key = (namespace, day)
        item = items.get(key, partial(_empty_raw_item, day))
        if merge_raw_entries(item["intervals"], entries, codes, touched):
            items.changed.add(key)
    if not touched:
        return []
    touched_days = {date.fromisoformat(day) for day in touched}
    around = [
        value["intervals"]
        for day in context_window(touched_days)
        if (value := items.values.get((namespace, day.isoformat()))) is not None
    ]
    return derive_observations(kind, device, touched_days, around, derivation)
