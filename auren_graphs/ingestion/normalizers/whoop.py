"""WHOOP API v2 documents to canonical observations.

The payload is what WHOOP's v2 API returns, untouched: a page `{"records": [...],
"next_token": ...}` from `/v2/cycle`, `/v2/recovery`, `/v2/activity/sleep` or
`/v2/activity/workout`, or one record from a by-id endpoint. A bare list of records is
accepted too. The kind of each record is detected from its fields, never passed in.

Field names are WHOOP's own, from the developer documentation
(developer.whoop.com/docs/developing/user-data/{cycle,recovery,sleep,workout}) and the
v2 OpenAPI schemas behind it (Cycle/CycleScore, Recovery/RecoveryScore,
Sleep/SleepScore/SleepStageSummary, WorkoutV2/WorkoutScore). In v2, sleep and workout
ids are UUIDs, cycle ids are integers, and a recovery is keyed by its `cycle_id`.

Calendar days (metrics.md: a daily value belongs to the user's local day). `start` and
`end` are UTC instants; the record's own `timezone_offset` makes them local:

- sleep: the local date of `end`, the morning the member wakes up.
- workout: the local date of `start`; its timestamp is `start`, in local time.
- cycle: see `_cycle_day`: the day the member wakes into.
- recovery: see `_Links.recovery_day`: the day of the sleep it was scored from.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal

from auren_graphs.canonical import BatchBuilder, Combine, NormalizedBatch, PayloadError
from auren_graphs.ingestion.normalizers.common import (
    NormalizeContext,
    load_json,
    number,
    parse_instant,
)

RecordKind = Literal["cycle", "recovery", "sleep", "workout"]
Record = Mapping[str, Any]

KJ_PER_KCAL = 4.184
MS_PER_S = 1000.0

SCORED = "SCORED"
NOT_READY_STATES = frozenset({"PENDING_SCORE", "UNSCORABLE"})

# A cycle that opens at or after local noon (an evening sleep onset) is the next day's.
CYCLE_NEXT_DAY_FROM = time(12, 0)

_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


class _RecordError(ValueError):
    """One record cannot be used; the message is the reason reported for it."""


# --- public entry point ---------------------------------------------------------------


def normalize(payload: object, ctx: NormalizeContext) -> NormalizedBatch:
    """Canonical observations from one WHOOP v2 page or record.

    Bad records are rejected one by one with a reason; records whose score is not ready
    are skipped. Raises `PayloadError` when the payload is not a WHOOP document at all.
    """
    records = _records_of(load_json(payload))
    builder = BatchBuilder("whoop")
    links = _Links.of(records)
    for index, raw in enumerate(records):
        _normalize_record(raw, index, ctx, links, builder)
        builder.end_record(ref=f"whoop:records[{index}]")
    return builder.batch


# --- the payload's shape --------------------------------------------------------------


def _records_of(document: Any) -> Sequence[Any]:
    """The records a payload carries: a page's `records`, a bare list, or one record."""
    if isinstance(document, dict) and "records" in document:
        records = document["records"]
        if not isinstance(records, list):
            raise PayloadError(f"WHOOP page: 'records' is {_json_type(records)}, not a list")
        return records
    if isinstance(document, dict):
        if _detect_kind(document) is None:
            raise PayloadError(
                "not a WHOOP v2 document: expected a page {records, next_token} or one cycle, "
                f"recovery, sleep or workout record; got an object with keys {_keys(document)}"
            )
        return [document]
    if isinstance(document, list):
        # A bare list has no WHOOP envelope to vouch for it, so it must hold WHOOP records.
        if document and not any(isinstance(r, dict) and _detect_kind(r) for r in document):
            raise PayloadError(
                "not a WHOOP v2 document: none of the list's items is a cycle, recovery, "
                "sleep or workout record"
            )
        return document
    raise PayloadError(
        f"not a WHOOP v2 document: expected a page {{records, next_token}} or one record, "
        f"got {_json_type(document)}"
    )


@dataclass(frozen=True, slots=True)
class _Marker:
    """How a kind of record is recognised: all keys of any one `fields` set at the top
    level, or any of `score_fields` inside its `score`."""

    kind: RecordKind
    fields: tuple[frozenset[str], ...]
    score_fields: frozenset[str]


# Checked in order: a recovery and a sleep both carry `cycle_id`, a workout's score also
# has `kilojoule`, so the more specific kinds come first. Records that are not scored
# have no `score`, hence the top-level markers.
_MARKERS: tuple[_Marker, ...] = (
    _Marker(
        "recovery", (frozenset({"sleep_id"}),), frozenset({"recovery_score", "hrv_rmssd_milli"})
    ),
    _Marker(
        "sleep",
        (frozenset({"nap"}), frozenset({"cycle_id", "start"})),
        frozenset({"stage_summary", "sleep_needed"}),
    ),
    _Marker(
        "workout",
        (frozenset({"sport_name"}), frozenset({"sport_id"})),
        frozenset({"zone_durations", "percent_recorded", "distance_meter"}),
    ),
    _Marker("cycle", (frozenset({"id", "start"}),), frozenset({"kilojoule"})),
)


def _detect_kind(record: Record) -> RecordKind | None:
    score = record.get("score")
    score_keys = set(score) if isinstance(score, Mapping) else set()
    for marker in _MARKERS:
        if any(keys <= record.keys() for keys in marker.fields) or marker.score_fields & score_keys:
            return marker.kind
    return None


# --- one record -----------------------------------------------------------------------


def _normalize_record(
    raw: object, index: int, ctx: NormalizeContext, links: _Links, builder: BatchBuilder
) -> None:
    ref = f"whoop:records[{index}]"
    try:
        record, kind = _recognise(raw)
        ref = f"whoop:{kind}:{_record_id(kind, record)}"
        _check_owner(kind, record, ctx)
        state = _score_state(record)
        if state != SCORED:
            builder.skip(ref, f"score not ready: {state}")
            return
        shape = _SHAPES[_shape_name(kind, record)]
        placement = shape.place(record, links)
    except _RecordError as exc:
        builder.reject(ref, str(exc))
        return
    _emit(builder, ref, record, shape.fields, placement)


def _recognise(raw: object) -> tuple[Record, RecordKind]:
    if not isinstance(raw, dict):
        raise _RecordError(f"a WHOOP record is a JSON object, not {_json_type(raw)}")
    kind = _detect_kind(raw)
    if kind is None:
        raise _RecordError(f"not a cycle, recovery, sleep or workout record (keys {_keys(raw)})")
    return raw, kind


def _record_id(kind: RecordKind, record: Record) -> str:
    """The id that names the record in identities: stable across deliveries."""
    if kind == "recovery":
        return _integer_id(record, "cycle_id", "recovery")
    if kind == "cycle":
        return _integer_id(record, "id", "cycle")
    return _uuid_id(record, kind)


def _integer_id(record: Record, key: str, kind: str) -> str:
    value = record.get(key)
    if value is None:
        raise _RecordError(f"{kind} has no {key}")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return str(int(value))
    raise _RecordError(f"{kind} {key} {value!r} is not an integer")


def _uuid_id(record: Record, kind: str) -> str:
    value = record.get("id")
    if value is None:
        raise _RecordError(f"{kind} has no id")
    if isinstance(value, int) and not isinstance(value, bool):
        # v1 ids are integers; storing them would duplicate the same activity once the
        # v2 document (UUID) arrives.
        raise _RecordError(
            f"{kind} id {value} is a WHOOP API v1 id; send the v2 document, "
            f"whose {kind} ids are UUIDs"
        )
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise _RecordError(f"{kind} id {value!r} is not a UUID") from None


def _check_owner(kind: RecordKind, record: Record, ctx: NormalizeContext) -> None:
    expected = ctx.vendor_user_id
    owner = record.get("user_id")
    if expected is None or owner is None:
        return
    if str(owner) != str(expected):
        raise _RecordError(
            f"this {kind} belongs to WHOOP user {owner}, but this user is connected to "
            f"WHOOP user {expected}"
        )


def _score_state(record: Record) -> str:
    state = record.get("score_state")
    if state == SCORED:
        if not isinstance(record.get("score"), Mapping):
            raise _RecordError("score_state is SCORED but the record has no score")
        return SCORED
    if isinstance(state, str) and state in NOT_READY_STATES:
        return state
    if state is None:
        raise _RecordError("record has no score_state")
    raise _RecordError(f"unknown score_state {state!r}")


def _emit(
    builder: BatchBuilder,
    ref: str,
    record: Record,
    fields: tuple[_Field, ...],
    placement: _Placement,
) -> None:
    for spec in fields:
        try:
            value = spec.read(record)
        except ValueError as exc:
            builder.reject(ref, f"{spec.metric}: {exc}")
            continue
        builder.add(
            spec.metric,
            value,
            day=placement.day,
            identity=ref,
            timestamp=placement.timestamp,
            combine=placement.combine,
            rank=placement.rank,
        )


# --- instants and days ----------------------------------------------------------------


def _zone(record: Record) -> timezone:
    """The record's `timezone_offset` ('+hh:mm', '-hh:mm' or 'Z') as a fixed zone."""
    text = record.get("timezone_offset")
    if text is None:
        raise _RecordError("record has no timezone_offset, so its local day is unknown")
    if text == "Z":
        return UTC
    match = _OFFSET.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match[2]) > 18 or int(match[3]) > 59:
        raise _RecordError(f"timezone_offset {text!r} is not '+hh:mm', '-hh:mm' or 'Z'")
    sign = -1 if match[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))


def _instant(record: Record, key: str) -> datetime:
    value = record.get(key)
    if value is None:
        raise _RecordError(f"record has no {key}")
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise _RecordError(f"{key}: {exc}") from None


def _local(record: Record, key: str) -> datetime:
    return _instant(record, key).astimezone(_zone(record))


def _span(record: Record, *, end_required: bool) -> tuple[datetime, datetime | None]:
    """Local start and end; a cycle still in progress has no end yet."""
    start = _local(record, "start")
    if record.get("end") is None and not end_required:
        return start, None
    end = _local(record, "end")
    if end < start:
        raise _RecordError(f"end {record['end']} is before start {record['start']}")
    return start, end


def _cycle_day(start_local: datetime) -> date:
    """The calendar day a physiological cycle belongs to.

    WHOOP's cycle runs from one sleep onset to the next (developer.whoop.com cycle
    docs; support.whoop.com "WHOOP Cycles") and carries the recovery scored when that
    opening sleep ends: the cycle opened by Monday night's sleep holds Tuesday's recovery
    and Tuesday's strain. So it belongs to the day the member wakes into. The cycle
    record alone must decide it (a cycle page never carries the sleep, and the current
    cycle is delivered again once it has an `end`), so: a cycle that opens in the local
    afternoon or evening belongs to the next date, one that opens after midnight or in
    the morning to that date. This agrees with the opening sleep's day (its local end
    date) unless that sleep starts after noon and ends before midnight, or starts before
    noon and ends after midnight.
    """
    if start_local.time() >= CYCLE_NEXT_DAY_FROM:
        return start_local.date() + timedelta(days=1)
    return start_local.date()


@dataclass(slots=True)
class _Links:
    """Days of the sleeps and cycles in this payload, for the recoveries that name them."""

    sleep_days: dict[str, date] = field(default_factory=dict)
    cycle_days: dict[str, date] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Sequence[Any]) -> _Links:
        links = cls()
        for raw in records:
            if not isinstance(raw, dict):
                continue
            try:
                kind = _detect_kind(raw)
                if kind == "sleep":
                    links.sleep_days[_uuid_id(raw, "sleep")] = _local(raw, "end").date()
                elif kind == "cycle":
                    links.cycle_days[_integer_id(raw, "id", "cycle")] = _cycle_day(
                        _local(raw, "start")
                    )
            except _RecordError:
                continue  # reported when the record itself is normalized
        return links

    def recovery_day(self, record: Record) -> date:
        """The calendar day of a recovery, which has no `timezone_offset` of its own.

        A recovery is scored when its sleep ends, so it belongs to that sleep's day (the
        local date of the sleep's `end`) when this payload carries the sleep; else to the
        day of its cycle when the payload carries the cycle (the same day by
        `_cycle_day`). A `/v2/recovery` page carries neither: then the UTC date of
        `created_at`, the moment WHOOP scored it, just after the member woke. That is the
        local wake-up date for members west of UTC and in Europe; east of UTC an early
        wake-up can fall on the previous UTC date, which is the price of a record that
        states no offset.
        """
        sleep_id = _uuid_or_none(record.get("sleep_id"))
        if sleep_id is not None and sleep_id in self.sleep_days:
            return self.sleep_days[sleep_id]
        cycle_id = record.get("cycle_id")
        if str(cycle_id) in self.cycle_days:
            return self.cycle_days[str(cycle_id)]
        if record.get("created_at") is None:
            raise _RecordError(
                "recovery has no created_at, and neither its sleep nor its cycle is in this "
                "payload, so its day is unknown"
            )
        return _instant(record, "created_at").astimezone(UTC).date()


def _uuid_or_none(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


# --- what each kind of record yields --------------------------------------------------

Reader = Callable[[Record], float | None]


@dataclass(frozen=True, slots=True)
class _Field:
    metric: str
    read: Reader


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where a record's values go: day, instant, and how they combine with others."""

    day: date
    timestamp: datetime | None = None
    combine: Combine = "replace"
    rank: float = 0.0


@dataclass(frozen=True, slots=True)
class _Shape:
    place: Callable[[Record, _Links], _Placement]
    fields: tuple[_Field, ...]


def _same(value: float) -> float:
    return value


def _ms_to_s(value: float) -> float:
    return value / MS_PER_S


def _kj_to_kcal(value: float) -> float:
    return value / KJ_PER_KCAL


def _score(*path: str, convert: Callable[[float], float] = _same) -> Reader:
    """Reads the number at `score.<path>`; None when WHOOP left it out."""
    where = ".".join(("score", *path))

    def read(record: Record) -> float | None:
        value: Any = record.get("score")
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        try:
            found = number(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        return None if found is None else convert(found)

    return read


_LIGHT = _score("stage_summary", "total_light_sleep_time_milli", convert=_ms_to_s)
_DEEP = _score("stage_summary", "total_slow_wave_sleep_time_milli", convert=_ms_to_s)
_REM = _score("stage_summary", "total_rem_sleep_time_milli", convert=_ms_to_s)


def _asleep_seconds(record: Record) -> float | None:
    """Time asleep: light + slow wave + REM (WHOOP reports no total of its own)."""
    total = 0.0
    for stage in (_LIGHT, _DEEP, _REM):
        part = stage(record)
        if part is None:
            return None
        total += part
    return total


def _workout_seconds(record: Record) -> float | None:
    return (_instant(record, "end") - _instant(record, "start")).total_seconds()


def _rank_of_sleep(record: Record) -> float:
    try:
        return _asleep_seconds(record) or 0.0
    except ValueError:
        return 0.0  # the bad stage value is reported with its metric


def _place_sleep(record: Record, _links: _Links) -> _Placement:
    # Among several long sleeps ending on one day, the one with most time asleep is the
    # main sleep; all its values share that rank so they are kept or dropped together.
    _, end = _span(record, end_required=True)
    assert end is not None
    return _Placement(end.date(), combine="best", rank=_rank_of_sleep(record))


def _place_nap(record: Record, _links: _Links) -> _Placement:
    _, end = _span(record, end_required=True)
    assert end is not None
    return _Placement(end.date(), combine="sum")


def _place_workout(record: Record, _links: _Links) -> _Placement:
    start, _ = _span(record, end_required=True)
    return _Placement(start.date(), timestamp=start)


def _place_cycle(record: Record, _links: _Links) -> _Placement:
    start, _ = _span(record, end_required=False)
    return _Placement(_cycle_day(start))


def _place_recovery(record: Record, links: _Links) -> _Placement:
    return _Placement(links.recovery_day(record))


_SHAPES: dict[str, _Shape] = {
    "recovery": _Shape(
        _place_recovery,
        (
            _Field("recovery_score", _score("recovery_score")),
            _Field("resting_heart_rate", _score("resting_heart_rate")),
            _Field("hrv_rmssd", _score("hrv_rmssd_milli")),  # rMSSD, already in ms
            _Field("spo2", _score("spo2_percentage")),
            _Field("skin_temperature", _score("skin_temp_celsius")),
        ),
    ),
    "cycle": _Shape(
        _place_cycle,
        (
            _Field("strain", _score("strain")),
            _Field("total_energy", _score("kilojoule", convert=_kj_to_kcal)),
            _Field("average_heart_rate", _score("average_heart_rate")),
            _Field("max_heart_rate", _score("max_heart_rate")),
        ),
    ),
    "sleep": _Shape(
        _place_sleep,
        (
            _Field("sleep_duration", _asleep_seconds),
            _Field(
                "time_in_bed", _score("stage_summary", "total_in_bed_time_milli", convert=_ms_to_s)
            ),
            _Field("sleep_light_duration", _LIGHT),
            _Field("sleep_deep_duration", _DEEP),
            _Field("sleep_rem_duration", _REM),
            _Field(
                "sleep_awake_duration",
                _score("stage_summary", "total_awake_time_milli", convert=_ms_to_s),
            ),
            _Field("respiratory_rate", _score("respiratory_rate")),
            _Field("sleep_performance", _score("sleep_performance_percentage")),
            _Field("sleep_efficiency", _score("sleep_efficiency_percentage")),
        ),
    ),
    # A nap never counts as the night's sleep (metrics.md); naps on one day add up.
    "nap": _Shape(_place_nap, (_Field("nap_duration", _asleep_seconds),)),
    "workout": _Shape(
        _place_workout,
        (
            _Field("workout_duration", _workout_seconds),
            _Field("workout_energy", _score("kilojoule", convert=_kj_to_kcal)),
            _Field("workout_strain", _score("strain")),
            _Field("workout_average_heart_rate", _score("average_heart_rate")),
            _Field("workout_max_heart_rate", _score("max_heart_rate")),
            _Field("workout_distance", _score("distance_meter")),
        ),
    ),
}


def _shape_name(kind: RecordKind, record: Record) -> str:
    if kind != "sleep":
        return kind
    nap = record.get("nap", False)
    if not isinstance(nap, bool):
        raise _RecordError(f"nap is {nap!r}, not true or false")
    return "nap" if nap else "sleep"


# --- messages -------------------------------------------------------------------------


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _keys(record: Mapping[Any, Any]) -> str:
    keys = sorted(map(str, record))
    shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
    return f"[{shown}]" if keys else "(none)"
