"""The Oura document kinds (`_KINDS`): how each is recognised, which of its fields
become which metrics, and how its documents are normalized: daily documents, sleep
periods (the night or a nap, by Oura's sleep type) and heart rate rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from auren_graphs.canonical import BatchBuilder
from auren_graphs.ingestion.normalizers.common import NormalizeContext, parse_instant
from auren_graphs.ingestion.normalizers.oura_records import (
    DocumentKind,
    MetricFields,
    _add_fields,
    _belongs_to_user,
    _document_head,
    _Head,
    _skip_unscored,
)

# Oura's PublicSleepType. `long_sleep` (> 3 h) is the night; `sleep` (a confirmed nap of
# 15 min to 3 h) and `late_nap` (a nap ending after the 6 pm day change, counted on the
# next day) are naps. `rest` is a detection the user rejected as not sleep, and `deleted`
# was deleted by the user: neither is sleep, so neither is stored.
MAIN_SLEEP_TYPE = "long_sleep"
NAP_TYPES = frozenset({"sleep", "late_nap"})
NOT_SLEEP_TYPES: Mapping[str, str] = {
    "deleted": "deleted by the user",
    "rest": "rejected by the user as falsely detected sleep",
}

# Everything the main sleep gives, each with `combine="best"` ranked by the period's total
# sleep, so that of two long sleeps on one day the longer one supplies every metric.
MAIN_SLEEP_FIELDS: MetricFields = (
    ("sleep_duration", ("total_sleep_duration",)),
    ("time_in_bed", ("time_in_bed",)),
    ("sleep_light_duration", ("light_sleep_duration",)),
    ("sleep_deep_duration", ("deep_sleep_duration",)),
    ("sleep_rem_duration", ("rem_sleep_duration",)),
    ("sleep_awake_duration", ("awake_time",)),
    ("hrv_rmssd", ("average_hrv",)),  # Oura's HRV is rMSSD, never SDNN
    ("resting_heart_rate", ("lowest_heart_rate",)),
    ("sleep_average_heart_rate", ("average_heart_rate",)),
    ("sleep_efficiency", ("efficiency",)),
    ("respiratory_rate", ("average_breath",)),
)
# A nap's sleep adds up with the day's other naps and never counts towards sleep_duration.
NAP_FIELDS: MetricFields = (("nap_duration", ("total_sleep_duration",)),)


# ------------------------------------------------------------------ kinds


def _daily_document(
    kind: DocumentKind,
    document: Mapping[str, Any],
    ref: str,
    builder: BatchBuilder,
    ctx: NormalizeContext,
) -> None:
    head = _document_head(kind, document, ref, builder, ctx)
    if head is None:
        return
    if _add_fields(builder, document, kind.metrics, head) == 0:
        _skip_unscored(builder, head, f"{kind.name} {head.day}")


def _sleep_period(
    kind: DocumentKind,
    document: Mapping[str, Any],
    ref: str,
    builder: BatchBuilder,
    ctx: NormalizeContext,
) -> None:
    head = _document_head(kind, document, ref, builder, ctx)
    if head is None:
        return
    sleep_type = document.get("type")
    # `isinstance` first: a list or object here must be rejected, not crash `in`.
    if sleep_type == MAIN_SLEEP_TYPE:
        _main_sleep(kind, document, head, builder)
    elif isinstance(sleep_type, str) and sleep_type in NAP_TYPES:
        _nap(document, head, builder)
    elif isinstance(sleep_type, str) and sleep_type in NOT_SLEEP_TYPES:
        builder.skip(
            head.identity,
            f"sleep period of type {sleep_type!r} was {NOT_SLEEP_TYPES[sleep_type]}: not sleep",
        )
    else:
        known = ", ".join(sorted({MAIN_SLEEP_TYPE, *NAP_TYPES, *NOT_SLEEP_TYPES}))
        builder.reject(
            head.identity,
            f"sleep period type {sleep_type!r} is not one of {known}, "
            "so it cannot be told apart from a nap",
        )


def _main_sleep(
    kind: DocumentKind, document: Mapping[str, Any], head: _Head, builder: BatchBuilder
) -> None:
    rank = _total_sleep_seconds(document)
    if _add_fields(builder, document, kind.metrics, head, combine="best", rank=rank) == 0:
        _skip_unscored(builder, head, f"long sleep on {head.day}")


def _nap(document: Mapping[str, Any], head: _Head, builder: BatchBuilder) -> None:
    if _add_fields(builder, document, NAP_FIELDS, head, combine="sum") == 0:
        _skip_unscored(builder, head, f"nap on {head.day}")


def _total_sleep_seconds(document: Mapping[str, Any]) -> float:
    """The period's total sleep as its rank; 0 when missing or unusable (it then loses)."""
    value = document.get("total_sleep_duration")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        return 0.0
    return float(value)


def _heartrate_row(
    kind: DocumentKind,
    document: Mapping[str, Any],
    ref: str,
    builder: BatchBuilder,
    ctx: NormalizeContext,
) -> None:
    try:
        instant = parse_instant(document.get("timestamp"))
    except ValueError as exc:
        builder.reject(f"oura:{kind.name}:{ref}", f"heart rate row has no valid timestamp: {exc}")
        return
    # Rows have no id: the instant is the identity, in UTC so that the same sample written
    # with another offset is still recognised as the same one.
    head = _Head(f"oura:{kind.name}:{instant.astimezone(UTC).isoformat()}", instant.date())
    if not _belongs_to_user(document, head.identity, builder, ctx):
        return
    if _add_fields(builder, document, kind.metrics, head, timestamp=instant) == 0:
        _skip_unscored(builder, head, f"heart rate at {instant.isoformat()}")


# The order is the order error messages list the kinds in; signatures are disjoint.
_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind(
        name="daily_readiness",
        fields=frozenset({"temperature_deviation", "temperature_trend_deviation"}),
        contributors=frozenset(
            {
                "activity_balance",
                "body_temperature",
                "hrv_balance",
                "previous_day_activity",
                "previous_night",
                "recovery_index",
                "resting_heart_rate",
                "sleep_balance",
                "sleep_regularity",
            }
        ),
        metrics=(
            ("readiness_score", ("score",)),
            ("temperature_deviation", ("temperature_deviation",)),
        ),
        normalize=_daily_document,
    ),
    DocumentKind(
        name="daily_sleep",
        fields=frozenset(),
        contributors=frozenset(
            {
                "deep_sleep",
                "efficiency",
                "latency",
                "rem_sleep",
                "restfulness",
                "timing",
                "total_sleep",
            }
        ),
        metrics=(("sleep_score", ("score",)),),
        normalize=_daily_document,
    ),
    DocumentKind(
        name="sleep",
        fields=frozenset({"bedtime_start", "bedtime_end", "time_in_bed", "total_sleep_duration"}),
        contributors=frozenset(),
        metrics=MAIN_SLEEP_FIELDS,
        normalize=_sleep_period,
    ),
    DocumentKind(
        name="daily_activity",
        fields=frozenset(
            {
                "steps",
                "active_calories",
                "total_calories",
                "equivalent_walking_distance",
                "class_5_min",
            }
        ),
        contributors=frozenset(
            {
                "meet_daily_targets",
                "move_every_hour",
                "recovery_time",
                "stay_active",
                "training_frequency",
                "training_volume",
            }
        ),
        metrics=(
            ("steps", ("steps",)),
            ("active_energy", ("active_calories",)),  # kcal already
            ("total_energy", ("total_calories",)),  # kcal already
            ("activity_score", ("score",)),
        ),
        normalize=_daily_document,
    ),
    DocumentKind(
        name="daily_spo2",
        fields=frozenset({"spo2_percentage", "breathing_disturbance_index"}),
        contributors=frozenset(),
        metrics=(("spo2", ("spo2_percentage", "average")),),
        normalize=_daily_document,
    ),
    DocumentKind(
        name="heartrate",
        fields=frozenset({"bpm"}),
        contributors=frozenset(),
        metrics=(("heart_rate", ("bpm",)),),
        normalize=_heartrate_row,
    ),
)
