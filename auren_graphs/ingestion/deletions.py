"""Removing what a vendor record produced, when the vendor says it was deleted.

A WHOOP or Oura record's values are spread over (metric, day) items. So that a delete
can find them, storing a vendor record also indexes where its values went:
`sources_namespace(user)` / the record's identity → `{"items": [[metric, day], ...]}`.
A delete removes the record's rows (and its parts of combined values, recomputing them)
from exactly those items, then the index entry. Apple and manual data have no vendor
deletes and are not indexed (an export holds millions of records).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, PutOp

from auren_contract import metric_namespace, sources_namespace
from auren_graphs.canonical import Observation
from auren_graphs.ingestion.prepared import PreparedBatch
from auren_graphs.ingestion.store_rows import aggregate_row

INDEXED_DEVICES = frozenset({"whoop", "oura"})
#: WHOOP v2 names a deleted recovery by its sleep: the recovery was stored on that
#: sleep's days, under these metrics.
_WHOOP_RECOVERY_METRICS = (
    "recovery_score", "resting_heart_rate", "hrv_rmssd", "spo2", "skin_temperature",
)  # fmt: skip


async def index_sources(
    store: BaseStore, user_id: str, observations: Iterable[Observation]
) -> None:
    """Remember which (metric, day) items each vendor record wrote to."""
    found = (
        (record_of(obs), obs.metric, obs.day.isoformat())
        for obs in observations
        if obs.device in INDEXED_DEVICES
    )
    await _remember(store, user_id, found)


async def index_prepared(
    store: BaseStore, user_id: str, device: str, prepared: PreparedBatch
) -> None:
    """The same for a batch prepared for writing (`prepared`): its entries keep the
    observations' identities by (metric, day)."""
    if device not in INDEXED_DEVICES:
        return
    found = (
        (_record(identity, metric), metric, day)
        for (metric, day), entries in prepared.observations.items()
        for _, identity, _ in entries
    )
    await _remember(store, user_id, found)


async def _remember(store: BaseStore, user_id: str, found: Iterable[tuple[str, str, str]]) -> None:
    places: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for record, metric, day in found:
        places[record].add((metric, day))
    if not places:
        return
    namespace = sources_namespace(user_id)
    keys = list(places)
    items = await store.abatch([GetOp(namespace, key) for key in keys])
    puts = []
    for key, item in zip(keys, items, strict=True):
        known = {tuple(p) for p in (item.value["items"] if isinstance(item, Item) else [])}
        if not places[key] <= known:
            merged = sorted(known | places[key])
            puts.append(PutOp(namespace, key, {"items": [list(p) for p in merged]}, index=False))
    if puts:
        await store.abatch(puts)


def record_of(obs: Observation) -> str:
    """The vendor record an observation came from: its identity is the record's and the
    metric's (`whoop:sleep:<id>:sleep_duration`)."""
    return _record(obs.identity, obs.metric)


def _record(identity: str, metric: str) -> str:
    suffix = f":{metric}"
    return identity[: -len(suffix)] if identity.endswith(suffix) else identity


async def delete_records(store: BaseStore, user_id: str, identities: Iterable[str]) -> int:
    """Remove every value the records produced; how many values were removed."""
    removed = 0
    # The index entries stay: a WHOOP recovery deleted later is found through its
    # sleep's entry (the days it was stored on), even once the sleep itself is gone.
    for identity in identities:
        targets, prefix = await _targets(store, user_id, identity)
        for metric, day in targets:
            removed += await _remove_rows(store, user_id, metric, day, prefix)
    return removed


async def _targets(
    store: BaseStore, user_id: str, identity: str
) -> tuple[list[tuple[str, str]], str]:
    """The items to clean and the row-id prefix to remove there."""
    namespace = sources_namespace(user_id)
    if identity.startswith("whoop:recovery-of-sleep:"):
        sleep = await store.aget(namespace, "whoop:sleep:" + identity.rsplit(":", 1)[1])
        days = {day for _, day in (sleep.value["items"] if sleep else [])}
        return [(m, d) for d in sorted(days) for m in _WHOOP_RECOVERY_METRICS], "whoop:recovery:"
    found = await store.aget(namespace, identity)
    places = found.value["items"] if found else []
    return [(str(metric), str(day)) for metric, day in places], f"{identity}:"


async def _remove_rows(store: BaseStore, user_id: str, metric: str, day: str, prefix: str) -> int:
    namespace = metric_namespace(user_id, metric)
    item = await store.aget(namespace, day)
    if item is None:
        return 0
    value: dict[str, Any] = dict(item.value)
    rows = [r for r in value.get("rows", []) if not str(r.get("id", "")).startswith(prefix)]
    parts = {k: p for k, p in value.get("parts", {}).items() if not k.startswith(prefix)}
    removed = len(value.get("rows", [])) - len(rows) + len(value.get("parts", {})) - len(parts)
    if not removed:
        return 0
    # A combined value (naps summed, the main sleep chosen) is recomputed from what is left.

    combined = {p[1] for p in value.get("parts", {}).values()}
    rows = [r for r in rows if not str(r.get("id", "")).endswith(":combined")]
    rows += [row for device in combined if (row := aggregate_row(parts, device)) is not None]
    if not rows and not parts:
        await store.adelete(namespace, day)
    else:
        await store.aput(namespace, day, {**value, "rows": rows, "parts": parts}, index=False)
    return removed
