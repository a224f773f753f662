"""§6 training load (Foster monotony and strain) and §7 vendor score bands."""

from __future__ import annotations

import math

from auren_graphs.analysis.method.inputs import Series
from auren_graphs.analysis.method.options import (
    MONOTONY_CAP,
    MONOTONY_HIGH,
    WEEK_DAYS,
    MethodOptions,
    Row,
)
from auren_graphs.analysis.method.windows import mean_of, round6, sd_of


def assess_training(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§6 Foster monotony and strain over t-6 … t."""
    rows: list[Row] = []
    for i in range(len(series)):
        window = series.training_load[i - WEEK_DAYS + 1 : i + 1] if i >= WEEK_DAYS - 1 else ()
        load7 = monotony = strain = high = None
        # §6: the window lies inside the data span and holds at least one load.
        if any(v is not None for v in window):
            loads = [0.0 if v is None else v for v in window]  # missing = rest day = 0
            load7 = math.fsum(loads)
            mean = mean_of(loads)
            sd = sd_of(loads, sample=False)  # population SD (÷7, Runalyze)
            if mean > 0:  # mean 0: null
                monotony = MONOTONY_CAP if sd == 0 else min(MONOTONY_CAP, mean / sd)
                strain = load7 * monotony
                high = monotony > MONOTONY_HIGH
        rows.append(
            {
                "training_load_7d": round6(load7),
                "training_monotony": round6(monotony),
                "training_strain": round6(strain),
                "monotony_high": high,
            }
        )
    return rows


def _recovery_zone(score: float | None) -> str | None:
    """§7 WHOOP: green >= 67, yellow 33 < s < 67, red <= 33."""
    if score is None:
        return None
    if score >= 67:
        return "green"
    return "yellow" if score > 33 else "red"


def _readiness_band(score: float | None) -> str | None:
    """§7 Oura: optimal >= 85, good >= 70, fair >= 60, pay_attention < 60."""
    if score is None:
        return None
    if score >= 85:
        return "optimal"
    if score >= 70:
        return "good"
    return "fair" if score >= 60 else "pay_attention"


def _strain_band(score: float | None) -> str | None:
    """§7 WHOOP: light < 10, moderate < 14, high < 18, all_out >= 18."""
    if score is None:
        return None
    if score < 10:
        return "light"
    if score < 14:
        return "moderate"
    return "high" if score < 18 else "all_out"


def assess_bands(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§7 vendor score bands: classification only, never recomputed."""
    return [
        {
            "recovery_zone": _recovery_zone(rec),
            "readiness_band": _readiness_band(ready),
            "strain_band": _strain_band(strain),
        }
        for rec, ready, strain in zip(
            series.recovery_score, series.readiness_score, series.strain, strict=True
        )
    ]
