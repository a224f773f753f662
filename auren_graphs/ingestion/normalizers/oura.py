"""Oura API v2 documents → canonical observations.

The payload is what Oura's API returns, untouched: a page `{"data": [...], "next_token": ...}`,
a single document, or a bare list of documents. Which collection a document comes from is
not passed along, so each document's kind is detected from the fields that only that kind
carries (`_KINDS`). Field names follow Oura's OpenAPI models (`PublicDailyReadiness`,
`PublicDailySleep`, `PublicDailyActivity`, `PublicDailySpO2`, `PublicModifiedSleepModel`,
`PublicHeartRateRow`).

Days: daily documents and sleep periods carry Oura's own `day` (the user's local day, and
for a `late_nap` already the next day), which is used as is. A heart rate row has only an
instant; its day is the calendar date in the instant's own UTC offset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from auren_graphs.canonical import BatchBuilder, Combine, NormalizedBatch, PayloadError
from auren_graphs.ingestion.normalizers.common import (
    NormalizeContext,
    load_json,
    parse_day,
    parse_instant,
)

FieldPath = tuple[str, ...]
MetricFields = tuple[tuple[str, FieldPath], ...]
Handler = Callable[["DocumentKind", Mapping[str, Any], str, BatchBuilder, NormalizeContext], None]

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


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """One Oura collection: how to recognise its documents and what they map to.

    `fields` are top-level fields and `contributors` keys of the `contributors` object
    that only this kind has; a document with any of them is of this kind.
    """

    name: str
    fields: frozenset[str]
    contributors: frozenset[str]
    metrics: MetricFields
    normalize: Handler

    def matches(self, document: Mapping[str, Any]) -> bool:
        if not self.fields.isdisjoint(document):
            return True
        contributors = document.get("contributors")
        return isinstance(contributors, Mapping) and not self.contributors.isdisjoint(contributors)


def normalize(payload: object, ctx: NormalizeContext) -> NormalizedBatch:
    """Canonical observations from one Oura API v2 page, document or list of documents."""
    documents = _documents(load_json(payload))
    kinds = [_kind_of(document) for document in documents]
    if documents and all(kind is None for kind in kinds):
        raise PayloadError(_unrecognised_payload_message(documents))
    builder = BatchBuilder("oura")
    for index, (document, kind) in enumerate(zip(documents, kinds, strict=True)):
        ref = f"data[{index}]"
        if kind is None:
            builder.reject(ref, _unrecognised_record_reason(document))
        else:
            kind.normalize(kind, document, ref, builder, ctx)
        builder.end_record(ref=ref)
    return builder.batch


# ------------------------------------------------------------------ payload shape


def _documents(data: Any) -> Sequence[Any]:
    """The records of a page, a list, or a single document."""
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise PayloadError(
            "Oura payload must be a JSON object (a document or a {data, next_token} page) "
            f"or a list of documents, not {_json_type(data)}"
        )
    if "data" not in data:
        return [data]
    records = data["data"]
    if not isinstance(records, list):
        raise PayloadError(
            f"Oura page field 'data' must be a list of documents, not {_json_type(records)}"
        )
    return records


def _kind_of(document: object) -> DocumentKind | None:
    """The one kind whose signature the document carries; None when none or several do."""
    if not isinstance(document, Mapping):
        return None
    matching = [kind for kind in _KINDS if kind.matches(document)]
    return matching[0] if len(matching) == 1 else None


def _unrecognised_record_reason(document: object) -> str:
    if not isinstance(document, Mapping):
        return f"record is {_json_type(document)}, not an Oura document object"
    matching = [kind.name for kind in _KINDS if kind.matches(document)]
    if matching:
        return f"record has fields of several Oura document kinds ({', '.join(matching)})"
    return f"record is not a recognised Oura document (fields: {_field_list(document)})"


def _unrecognised_payload_message(documents: Sequence[Any]) -> str:
    expected = ", ".join(kind.name for kind in _KINDS)
    what = "the document" if len(documents) == 1 else f"any of the {len(documents)} records"
    return (
        f"no Oura document kind recognised in {what} (expected {expected}); "
        f"first record: {_unrecognised_record_reason(documents[0])}"
    )


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _field_list(document: Mapping[str, Any], limit: int = 8) -> str:
    names = sorted(str(key) for key in document)
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ..."


# ------------------------------------------------------------------ shared record checks


@dataclass(frozen=True, slots=True)
class _Head:
    """What every document with an id and a day contributes: its identity and its day."""

    identity: str
    day: date


def _document_head(
    kind: DocumentKind,
    document: Mapping[str, Any],
    ref: str,
    builder: BatchBuilder,
    ctx: NormalizeContext,
) -> _Head | None:
    """The document's identity and day, or None after rejecting it for lacking them."""
    document_id = document.get("id")
    if not isinstance(document_id, str) or not document_id.strip():
        builder.reject(f"oura:{kind.name}:{ref}", f"{kind.name} document has no id")
        return None
    identity = f"oura:{kind.name}:{document_id}"
    try:
        day = parse_day(document.get("day"))
    except ValueError as exc:
        builder.reject(identity, f"{kind.name} document has no valid day: {exc}")
        return None
    if not _belongs_to_user(document, identity, builder, ctx):
        return None
    return _Head(identity, day)


def _belongs_to_user(
    document: Mapping[str, Any], identity: str, builder: BatchBuilder, ctx: NormalizeContext
) -> bool:
    """False, after rejecting it, when a document names another vendor user.

    Oura's v2 documents carry no user id (the token decides whose data it is), so this
    only acts on a document that does carry a `user_id`.
    """
    named = document.get("user_id")
    if named is None or ctx.vendor_user_id is None or str(named) == ctx.vendor_user_id:
        return True
    builder.reject(
        identity,
        f"document belongs to Oura user {named!r}, not the connected {ctx.vendor_user_id!r}",
    )
    return False


def _field(document: Mapping[str, Any], path: FieldPath) -> object:
    """The value at `path`; None when Oura left any step of it null or out."""
    value: object = document
    for step, key in enumerate(path):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError(f"{'.'.join(path[:step])} is {_json_type(value)}, not an object")
        value = value.get(key)
    return value


def _add_fields(
    builder: BatchBuilder,
    document: Mapping[str, Any],
    fields: MetricFields,
    head: _Head,
    *,
    combine: Combine = "replace",
    rank: float = 0.0,
    timestamp: datetime | None = None,
) -> int:
    """Add each mapped field that has a value; the number of fields that had one."""
    present = 0
    for metric, path in fields:
        try:
            value = _field(document, path)
        except ValueError as exc:
            present += 1
            builder.reject(head.identity, f"{metric}: {exc}")
            continue
        if value is None:
            continue
        present += 1
        builder.add(
            metric,
            value,
            day=head.day,
            identity=head.identity,
            timestamp=timestamp,
            combine=combine,
            rank=rank,
        )
    return present


def _skip_unscored(builder: BatchBuilder, head: _Head, what: str) -> None:
    builder.skip(head.identity, f"{what} has no value yet (Oura sent null): nothing to store")


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
