"""§8 composite insights and §9 assembly: `combine` the analyzers' rows, or `assess` at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from auren_graphs.analysis.method.heart import assess_hrv, assess_rhr
from auren_graphs.analysis.method.inputs import Series, prepare
from auren_graphs.analysis.method.load import assess_bands, assess_training
from auren_graphs.analysis.method.options import (
    BELOW,
    INSUFFICIENT,
    TREND_DOWN,
    WITHIN,
    MethodOptions,
    Row,
    Value,
)
from auren_graphs.analysis.method.sleep import assess_sleep
from auren_graphs.analysis.method.sources import INSIGHT_FIELDS, OUTPUT_FIELDS
from auren_graphs.analysis.method.windows import and3, or3


def _status_is(status: Value, wanted: str) -> bool | None:
    """`hrv_status == wanted`, null when the status is insufficient_data."""
    return None if status in (None, INSUFFICIENT) else status == wanted


def _bool(value: Value) -> bool | None:
    return value if isinstance(value, bool) else None


def insights(row: Mapping[str, Value]) -> Row:
    """§8 composite insights from one day's analyzer fields, in Kleene logic."""
    status = row["hrv_status"]
    below = _status_is(status, BELOW)
    trend = row["hrv_trend"]
    trend_down = None if trend is None else trend == TREND_DOWN
    acute_low = _bool(row["hrv_acute_low"])
    within = _status_is(status, WITHIN)
    # Ready: within AND NOT acute_low; a missing reading today does not block readiness.
    ready = None if within is None else within and acute_low is not True
    return {
        "insight_hrv_suppressed": below,
        "insight_hrv_trending_down": and3(trend_down, below),
        "insight_recovery_suppressed": or3(below, and3(acute_low, _bool(row["rhr_elevated"]))),
        # sleep_mean7 < 7 h is exactly sleep_insufficient (§5), taken before rounding.
        "insight_sleep_debt": _bool(row["sleep_insufficient"]),
        "insight_ready_to_train": ready,
    }


def combine(
    series: Series,
    parts: Mapping[str, Sequence[Mapping[str, Value]]] | Sequence[Sequence[Mapping[str, Value]]],
    options: MethodOptions | None = None,
) -> list[Row]:
    """Merge the analyzers' per-day rows, add §8 insights, and order the fields as §9.

    `parts` holds each analyzer's output (as a mapping name -> rows, or a sequence of
    row lists); every day needs every §9 field. `options` is accepted for symmetry; the
    composites have no tunable constants.
    """
    del options
    groups = list(parts.values()) if isinstance(parts, Mapping) else list(parts)
    n = len(series)
    for group in groups:
        if len(group) != n:
            raise ValueError(f"analyzer output has {len(group)} rows, series has {n} days")
    out: list[Row] = []
    for i, day in enumerate(series.days):
        merged: Row = {"day": day.isoformat(), "record_present": series.record_present[i]}
        for group in groups:
            merged.update(group[i])
        missing = [f for f in OUTPUT_FIELDS if f not in merged and f not in INSIGHT_FIELDS]
        if missing:
            raise ValueError(f"fields missing from the analyzer outputs: {missing}")
        merged.update(insights(merged))
        out.append({f: merged[f] for f in OUTPUT_FIELDS})
    return out


def assess(records: Iterable[Mapping[str, Any]], options: MethodOptions | None = None) -> list[Row]:
    """§1-§9: one row per calendar day from the first record to the last."""
    series = prepare(records)
    parts = {
        "hrv": assess_hrv(series, options),
        "rhr": assess_rhr(series, options),
        "sleep": assess_sleep(series, options),
        "training": assess_training(series, options),
        "bands": assess_bands(series, options),
    }
    return combine(series, parts, options)
