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

The work is split by concern: this module reads the payload and takes each record through
its checks; `whoop_records` recognises a record's kind and id, `whoop_days` places it on
its calendar day (`_cycle_day`, `_Links`), and `whoop_fields` says what each kind of
record yields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auren_graphs.canonical import BatchBuilder, NormalizedBatch, PayloadError
from auren_graphs.ingestion.normalizers.common import (
    NormalizeContext,
    load_json,
)
from auren_graphs.ingestion.normalizers.whoop_days import _Links
from auren_graphs.ingestion.normalizers.whoop_fields import (
    _SHAPES,
    _Field,
    _Placement,
    _shape_name,
)
from auren_graphs.ingestion.normalizers.whoop_records import (
    Record,
    RecordKind,
    _detect_kind,
    _record_id,
    _RecordError,
)

SCORED = "SCORED"
NOT_READY_STATES = frozenset({"PENDING_SCORE", "UNSCORABLE"})


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
