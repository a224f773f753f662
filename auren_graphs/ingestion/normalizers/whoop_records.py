"""Recognising one WHOOP record: its kind, detected from its fields, and the id that
names it in identities.

The other WHOOP modules share these, and `_RecordError`, the error a record is rejected
with; names with a leading underscore are private to the WHOOP normalizer's modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

RecordKind = Literal["cycle", "recovery", "sleep", "workout"]
Record = Mapping[str, Any]


class _RecordError(ValueError):
    """One record cannot be used; the message is the reason reported for it."""


# --- the kind of a record -------------------------------------------------------------


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


# --- the id of a record ---------------------------------------------------------------


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
