"""Daily biometric insights from published rules: the reference method, version 1.0.0.

The method is `shared/brief/analysis-method.md`; comments cite its sections as "§n".
Everything here is pure: no I/O, no server, no model. `assess` turns the daily input
records (§1) into one output row per calendar day (§9). The graph may instead call the
pieces itself: `prepare` once, then each analyzer (`assess_hrv`, `assess_rhr`,
`assess_sleep`, `assess_training`, `assess_bands`) in its own branch, then `combine`.

One module per concern, all re-exported here (import from `auren_graphs.analysis.method`):

- `options`: constants (§2 windows and minimums, §5-§6 thresholds), `MethodOptions`
- `sources`: `FIELD_SOURCES` (each rule's grade and citation), the §9 field order
- `inputs`: §1 validation, `Series` and `prepare`
- `windows`: §2 window statistics, the §3-§4 normal range, §8 three-valued logic
- `heart`: §3 HRV, §4 resting heart rate
- `sleep`: §5 sleep
- `load`: §6 training monotony and strain, §7 vendor bands
- `assemble`: §8 insights, §9 `combine` and `assess`
"""

from __future__ import annotations

from auren_graphs.analysis.method.assemble import assess, combine, insights
from auren_graphs.analysis.method.heart import assess_hrv, assess_rhr
from auren_graphs.analysis.method.inputs import Series, prepare
from auren_graphs.analysis.method.load import assess_bands, assess_training
from auren_graphs.analysis.method.options import (
    ABOVE,
    BELOW,
    DECIMALS,
    DEFAULT_OPTIONS,
    INSUFFICIENT,
    METHOD_VERSION,
    MIN_CV7,
    MIN_MEAN7,
    MIN_SLEEP_NIGHTS,
    MONOTONY_CAP,
    MONOTONY_HIGH,
    REFERENCE_DAYS,
    SLEEP_DEBT_DAYS,
    SLEEP_MIN_HOURS,
    TREND_DOWN,
    TREND_FLAT,
    TREND_UP,
    WEEK_DAYS,
    WITHIN,
    MethodOptions,
    Row,
    Value,
)
from auren_graphs.analysis.method.sleep import assess_sleep
from auren_graphs.analysis.method.sources import (
    BAND_FIELDS,
    FIELD_SOURCES,
    HRV_FIELDS,
    INSIGHT_FIELDS,
    OUTPUT_FIELDS,
    RHR_FIELDS,
    SLEEP_FIELDS,
    TRAINING_FIELDS,
    FieldSource,
)

__all__ = [
    "ABOVE",
    "BAND_FIELDS",
    "BELOW",
    "DECIMALS",
    "DEFAULT_OPTIONS",
    "FIELD_SOURCES",
    "HRV_FIELDS",
    "INSIGHT_FIELDS",
    "INSUFFICIENT",
    "METHOD_VERSION",
    "MIN_CV7",
    "MIN_MEAN7",
    "MIN_SLEEP_NIGHTS",
    "MONOTONY_CAP",
    "MONOTONY_HIGH",
    "OUTPUT_FIELDS",
    "REFERENCE_DAYS",
    "RHR_FIELDS",
    "SLEEP_DEBT_DAYS",
    "SLEEP_FIELDS",
    "SLEEP_MIN_HOURS",
    "TRAINING_FIELDS",
    "TREND_DOWN",
    "TREND_FLAT",
    "TREND_UP",
    "WEEK_DAYS",
    "WITHIN",
    "FieldSource",
    "MethodOptions",
    "Row",
    "Series",
    "Value",
    "assess",
    "assess_bands",
    "assess_hrv",
    "assess_rhr",
    "assess_sleep",
    "assess_training",
    "combine",
    "insights",
    "prepare",
]
