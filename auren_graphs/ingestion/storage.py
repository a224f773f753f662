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
- `sources_namespace(user)` → vendor record → the items it wrote (`deletions`).
- `uploads_namespace(user)` → id → a payload staged by the client; deleted once ingested.

Device connections are not in the store: `auren_graphs.records.connections`.

Ingesting a batch reads and writes only the items of the days it touches, so its cost
does not grow with the user's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langgraph.store.base import BaseStore, GetOp, PutOp

from auren_graphs.canonical import (
    ACCEPTED,
    DUPLICATE,
    UPDATED,
    Device,
    NormalizedBatch,
    Observation,
    RawInterval,
)
from auren_graphs.ingestion.deletions import index_prepared
from auren_graphs.ingestion.derivation import Derivation
from auren_graphs.ingestion.prepared import (
    ObservationEntry,
    PreparedBatch,
    prepare_batch,
    prepare_intervals,
    prepare_observations,
)
from auren_graphs.ingestion.store_batch import by_kind, merge_batch, read_keys
from auren_graphs.ingestion.store_layout import (
    Namespace,
    day_number,
    day_range_filter,
    item_value,
    metric_namespace,
    off_the_loop,
    raw_namespace,
    uploads_namespace,
    verdict,
)
from auren_graphs.ingestion.store_raw import (
    merge_intervals,
)
from auren_graphs.ingestion.store_rows import aggregate_row, empty_item, merge_observations

__all__ = [
    "Derivation",
    "Namespace",
    "WriteCounts",
    "aggregate_row",
    "day_number",
    "day_range_filter",
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
        value = item_value(found) or empty_item(metric, day)
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
    """Write a prepared batch (see `prepared`) with one read and one write to the store.

    Everything the batch may touch is read at once: its metric items, the raw items of
    the days its intervals span and one day either side, and the items of the metrics
    those days derive (when the derivation names them, see `Derives`). It is merged and
    derived off the event loop (`store_batch`), and every changed item written at once:
    two round trips per batch, whatever it holds. Values a derivation gives for items
    not read (one that names no metrics) are written afterwards, the usual way.
    """
    kinds = by_kind(prepared.intervals)
    reads = list(dict.fromkeys(read_keys(user_id, prepared, kinds, derivations)))
    found = await store.abatch([GetOp(namespace, key) for namespace, key in reads])
    values = {read: item_value(item) for read, item in zip(reads, found, strict=True)}
    merged = await off_the_loop(merge_batch, user_id, device, prepared, kinds, derivations, values)
    if merged.puts:
        await store.abatch(merged.puts)
    await index_prepared(store, user_id, device, prepared)  # where a vendor delete looks
    if merged.leftover:
        await write_observations(store, user_id, merged.leftover, count=False)
    return WriteCounts(
        observation_codes=merged.observation_codes, interval_codes=merged.interval_codes
    ).tally()
