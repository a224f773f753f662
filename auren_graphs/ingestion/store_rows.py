"""Metric items: one per user, metric and local day, and how observations merge into one.

`("users", user, "metrics", metric)` → `"YYYY-MM-DD"` →
`{"metric", "unit", "day", "day_num", "rows": [...], "parts": {...}}`. `rows` is what
readers get: `{"value", "device", "timestamp", "id"}`. `parts` keeps the per-record
contributions of metrics that combine several records into one daily value (naps
summed, the main sleep chosen among several), so a redelivery is recognised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auren_graphs.canonical import METRICS
from auren_graphs.ingestion.prepared import ObservationEntry
from auren_graphs.ingestion.store_layout import day_number, verdict


def empty_item(metric: str, day: str) -> dict[str, Any]:
    return {
        "metric": metric,
        "unit": METRICS[metric].unit,
        "day": day,
        "day_num": day_number(day),
        "rows": [],
        "parts": {},
    }


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
        row = aggregate_row(parts, device)
        if row is not None:
            rows[row["id"]] = row
    if changed:
        item["rows"] = sorted(rows.values(), key=_row_order)
    return changed


def _row_order(row: dict[str, Any]) -> tuple[str, str]:
    return (row["timestamp"] or "", row["id"])
