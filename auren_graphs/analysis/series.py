"""From the store's canonical daily metrics to the method's input records.

One device per input: a baseline must never mix devices (nightly Oura rMSSD and WHOOP
rMSSD differ in level, analysis-method Q6), so for each input the device with the most
days in the window is used. Apple's SDNN is a different metric and never maps to rMSSD;
it is read only so that the analysis knows it is there (`sdnn_summary`) and can say why
HRV is not analysed for a user who has no rMSSD.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from langgraph.store.base import BaseStore

from auren_graphs.readings import day_items


@dataclass(frozen=True, slots=True)
class InputSource:
    """Where one method input comes from: a canonical metric, a scale, how a day combines."""

    metric: str
    scale: float = 1.0
    additive: bool = False


INPUTS: Mapping[str, InputSource] = {
    "rmssd_ms": InputSource("hrv_rmssd"),
    "resting_hr": InputSource("resting_heart_rate"),
    "sleep_hours": InputSource("sleep_duration", scale=1 / 3600),
    "training_load": InputSource("training_load", additive=True),
    "strain": InputSource("strain"),
    "recovery_score": InputSource("recovery_score"),
    "readiness_score": InputSource("readiness_score"),
}

# Read beside the inputs, never mapped onto one: only their presence is reported.
CONTEXT_METRICS: tuple[str, ...] = ("hrv_sdnn",)

Rows = Sequence[Mapping[str, Any]]


def _preferred_device(rows: Rows) -> str | None:
    distinct_days = {(r["device"], r["day"]) for r in rows}
    per_device = Counter(device for device, _ in distinct_days)
    if not per_device:
        return None
    # Most days wins; ties go to the alphabetically first device, so the choice is stable.
    return str(min(per_device, key=lambda d: (-per_device[d], d)))


def _daily_values(rows: Rows, source: InputSource) -> tuple[dict[str, float], str | None]:
    device = _preferred_device(rows)
    by_day: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["device"] == device:
            by_day[row["day"]].append(float(row["value"]))
    combine = sum if source.additive else (lambda v: sum(v) / len(v))
    return {day: combine(values) * source.scale for day, values in by_day.items()}, device


def to_records(rows_by_metric: Mapping[str, Rows]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Method records (one per day with any input) and the device chosen per input."""
    records: dict[str, dict[str, Any]] = {}
    devices: dict[str, str] = {}
    for field, source in INPUTS.items():
        values, device = _daily_values(rows_by_metric.get(source.metric, ()), source)
        if device is not None:
            devices[field] = device
        for day, value in values.items():
            records.setdefault(day, {"day": day})[field] = value
    return [records[day] for day in sorted(records)], devices


def sdnn_summary(rows_by_metric: Mapping[str, Rows]) -> dict[str, Any] | None:
    """Apple's SDNN spot checks in the window, when there are any: days, newest day, devices."""
    rows = rows_by_metric.get("hrv_sdnn", ())
    days = sorted({str(row["day"]) for row in rows})
    if not days:
        return None
    return {
        "metric": "hrv_sdnn",
        "days": len(days),
        "first_day": days[0],
        "newest_day": days[-1],
        "devices": sorted({str(row["device"]) for row in rows}),
    }


async def read_rows(
    store: BaseStore, user_id: str, as_of: date, lookback_days: int
) -> dict[str, list[dict[str, Any]]]:
    """The user's rows of every method input (and context) metric in the window ending `as_of`."""
    first = as_of - timedelta(days=lookback_days)
    out: dict[str, list[dict[str, Any]]] = {}
    for metric in [*(source.metric for source in INPUTS.values()), *CONTEXT_METRICS]:
        out[metric] = [
            {**row, "day": item.value["day"]}
            async for item in day_items(store, user_id, metric, first, as_of)
            for row in item.value["rows"]
        ]
    return out
