"""Manual entries to canonical observations.

Manual entries have no vendor format, so the format is ours (shared/brief/metrics.md):

    {"entries": [{"entry_id": "bp-0412", "metric": "resting_heart_rate", "value": 53,
                  "unit": "bpm", "measured_at": "2026-11-02T07:30:00-08:00"}]}

A daily value may give `"date": "2026-11-02"` instead of `measured_at`; an entry may carry
`user_id` (then it must be the user the payload is for) and a free-text `note`. A bare
list of entries, or one entry object on its own, is accepted as well.

`measured_at` may also be a local time without offset, `"2026-11-02T07:30:00"`, with an
IANA `timezone` such as `"America/Los_Angeles"`: the instant and the local day follow
from the zone's rules on that date, DST included. A local time the clocks skipped (the
spring-forward hour) is refused; one they passed twice (the fall-back hour) is the
first of the two. An offset and a zone together: the offset gives the instant, the zone
its local day.

The value is converted to the metric's canonical unit where the conversion is known
(`UNITS`, matched without regard to case or spaces: `beats/min`, `count/min` and
`beats per minute` are bpm); an unknown unit, or one that does not fit the metric, is
refused rather than guessed. The entry's day is its `date`, else the local date of
`measured_at`; `measured_at` is kept as the observation's timestamp.

Whose data it is comes from the call (`NormalizeContext.user_id`, set by the server from
the run or the authenticated push). A call that names no user gets its payload refused:
a `user_id` inside the payload never stands in for the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from auren_graphs.canonical import (
    METRICS,
    BatchBuilder,
    MetricSpec,
    NormalizedBatch,
    PayloadError,
)
from auren_graphs.ingestion.normalizers.common import (
    NormalizeContext,
    load_json,
    number,
    parse_day,
    parse_instant,
    parse_local_instant,
    zone_named,
)

KJ_PER_KCAL = 4.184

Entry = Mapping[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scale:
    """value * multiply / divide turns a value in an accepted unit into the canonical one."""

    multiply: float = 1.0
    divide: float = 1.0

    def apply(self, value: float) -> float:
        return value * self.multiply / self.divide


SAME = Scale()

# For each canonical unit (METRICS), the units an entry may use for it and how to convert.
# Units match case-insensitively ("kJ", "KJ", "kj"). `count/min` is Apple's unit for both
# heart and breathing rate, so it fits both.
UNITS: Mapping[str, Mapping[str, Scale]] = {
    "s": {
        "s": SAME,
        "sec": SAME,
        "ms": Scale(divide=1000),
        "min": Scale(multiply=60),
        "h": Scale(multiply=3600),
        "hr": Scale(multiply=3600),
    },
    "ms": {"ms": SAME, "s": Scale(multiply=1000)},
    "bpm": {"bpm": SAME, "count/min": SAME, "beats/min": SAME},
    "breaths/min": {"breaths/min": SAME, "count/min": SAME, "brpm": SAME},
    "percent": {"percent": SAME, "%": SAME},
    "score": {"score": SAME},
    "strain_0_21": {"strain_0_21": SAME, "strain": SAME},
    "count": {"count": SAME},
    "kcal": {"kcal": SAME, "kJ": Scale(divide=KJ_PER_KCAL)},
    "degC": {"degC": SAME, "°C": SAME, "celsius": SAME},
    "m": {"m": SAME, "km": Scale(multiply=1000), "mi": Scale(multiply=1609.344)},
    "au": {"au": SAME},
}
# Other common spellings, accepted too (messages list only the ones above).
_PER_MINUTE = ("/min", "1/min", "per minute", "count/minute")
ALIASES: Mapping[str, Mapping[str, Scale]] = {
    "s": {
        "second": SAME,
        "seconds": SAME,
        "minute": Scale(multiply=60),
        "minutes": Scale(multiply=60),
        "hour": Scale(multiply=3600),
        "hours": Scale(multiply=3600),
    },
    "ms": {"millisecond": SAME, "milliseconds": SAME},
    "bpm": {
        "beat/min": SAME,
        "beats/minute": SAME,
        "beats per minute": SAME,
        "{beats}/min": SAME,
        **dict.fromkeys(_PER_MINUTE, SAME),
    },
    "breaths/min": {
        "breath/min": SAME,
        "breaths/minute": SAME,
        "breaths per minute": SAME,
        "{breaths}/min": SAME,
        **dict.fromkeys(_PER_MINUTE, SAME),
    },
    "percent": {"pct": SAME},
    "count": {"steps": SAME},
    "kcal": {"kilocalories": SAME, "kilojoules": Scale(divide=KJ_PER_KCAL)},
    "m": {"meters": SAME, "metres": SAME, "miles": Scale(multiply=1609.344)},
}


def unit_key(unit: str) -> str:
    """How units are compared: case and spaces do not matter ("Beats / Min")."""
    return " ".join(unit.lower().split()).replace(" / ", "/").replace("/ ", "/").replace(" /", "/")


_BY_LOWER_CASE: Mapping[str, Mapping[str, Scale]] = {
    canonical: {
        unit_key(unit): scale for unit, scale in {**accepted, **ALIASES.get(canonical, {})}.items()
    }
    for canonical, accepted in UNITS.items()
}
KNOWN_UNITS = frozenset(unit for accepted in _BY_LOWER_CASE.values() for unit in accepted)


class _EntryError(ValueError):
    """One entry cannot be used; the message is the reason reported for it."""


def normalize(payload: object, ctx: NormalizeContext) -> NormalizedBatch:
    """Canonical observations from manual entries.

    A bad entry is refused with its reason and the others are kept. Raises `PayloadError`
    when the payload is not JSON or carries no entries list.
    """
    document = load_json(payload)
    entries = _entries_of(document)
    _check_call_names_a_user(ctx, document, entries)
    builder = BatchBuilder("manual")
    for index, raw in enumerate(entries):
        _normalize_entry(raw, index, ctx, builder)
        builder.end_record(ref=f"manual:entries[{index}]")
    return builder.batch


def _entries_of(document: Any) -> Sequence[Any]:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise PayloadError(
            f'manual payload must be {{"entries": [...]}}, got {_json_type(document)}'
        )
    if "entries" in document:
        entries = document["entries"]
        if not isinstance(entries, list):
            raise PayloadError(f"manual payload: 'entries' is {_json_type(entries)}, not a list")
        return entries
    if "metric" in document:
        return [document]  # a single entry on its own
    keys = ", ".join(sorted(map(str, document))) or "none"
    raise PayloadError(
        'manual payload must be {"entries": [...]} or one entry with a "metric"; '
        f"got an object with keys [{keys}]"
    )


def _check_call_names_a_user(ctx: NormalizeContext, document: Any, entries: Sequence[Any]) -> None:
    """Refuse the payload when the call names no user: whose data it is comes from the
    caller, so a `user_id` in the payload cannot stand in for it."""
    if ctx.user_id and ctx.user_id.strip():
        return
    named = [e.get("user_id") for e in entries if isinstance(e, dict) and e.get("user_id")]
    if isinstance(document, dict) and document.get("user_id"):
        named.append(document["user_id"])
    if named:
        raise PayloadError(
            "manual payload names a user_id but the call names no user: the user comes "
            "from the call (the run's user_id or the authenticated push), never from the "
            "payload; nothing was stored"
        )
    raise PayloadError(
        "manual payload names no user and neither does the call: say whose entries these "
        "are (the run's user_id, or X-Auren-User on a push); nothing was stored"
    )


def _normalize_entry(raw: object, index: int, ctx: NormalizeContext, builder: BatchBuilder) -> None:
    ref = f"manual:entries[{index}]"
    try:
        entry = _as_entry(raw)
        ref = f"manual:{_entry_id(entry)}"
        _check_user(entry, ctx)
        spec = _metric(entry)
        value = _canonical_value(entry, spec)
        day, timestamp = _when(entry, spec)
    except _EntryError as exc:
        builder.reject(ref, str(exc))
        return
    builder.add(spec.name, value, day=day, identity=ref, timestamp=timestamp)


def _as_entry(raw: object) -> Entry:
    if not isinstance(raw, dict):
        raise _EntryError(f"an entry is a JSON object, not {_json_type(raw)}")
    return raw


def _entry_id(entry: Entry) -> str:
    # The id is what recognises a second delivery of the same entry, so it is required.
    value = entry.get("entry_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value is None:
        raise _EntryError("entry has no entry_id")
    raise _EntryError(f"entry_id {value!r} is not a non-empty string")


def _check_user(entry: Entry, ctx: NormalizeContext) -> None:
    owner = entry.get("user_id")
    if owner is not None and str(owner) != ctx.user_id:
        raise _EntryError(
            f"entry belongs to user {owner}, but this payload is for user {ctx.user_id}"
        )


def _metric(entry: Entry) -> MetricSpec:
    name = entry.get("metric")
    if name is None:
        raise _EntryError("entry has no metric")
    spec = METRICS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise _EntryError(f"unknown metric {name!r}")
    return spec


def _canonical_value(entry: Entry, spec: MetricSpec) -> float:
    try:
        value = number(entry.get("value"))
    except ValueError as exc:
        raise _EntryError(f"{spec.name}: value {exc}") from None
    if value is None:
        raise _EntryError(f"{spec.name}: entry has no value")
    return _scale_for(entry.get("unit"), spec).apply(value)


def _scale_for(unit: object, spec: MetricSpec) -> Scale:
    choices = ", ".join(UNITS[spec.unit])
    if unit is None:
        raise _EntryError(f"{spec.name}: entry has no unit (accepted: {choices})")
    key = unit_key(unit) if isinstance(unit, str) else ""
    accepted = _BY_LOWER_CASE[spec.unit]
    if key in accepted:
        return accepted[key]
    if key in KNOWN_UNITS:
        raise _EntryError(
            f"{spec.name}: unit {unit!r} does not fit this metric (accepted: {choices})"
        )
    raise _EntryError(f"{spec.name}: unknown unit {unit!r} (accepted: {choices})")


def _when(entry: Entry, spec: MetricSpec) -> tuple[date, datetime | None]:
    """The entry's day and instant: `date` names the day outright; otherwise the day is
    the local date of `measured_at`, in its own offset or in `timezone`."""
    timestamp = _measured_at(entry)
    day = _optional(entry, "date", parse_day)
    if spec.kind == "sample" and timestamp is None:
        raise _EntryError(f"{spec.name} is a sample at an instant: give measured_at")
    if day is not None:
        return day, timestamp
    if timestamp is not None:
        return timestamp.date(), timestamp
    raise _EntryError(
        "entry needs measured_at (an instant with a UTC offset, or a local time with "
        "timezone) or date (YYYY-MM-DD)"
    )


def _measured_at(entry: Entry) -> datetime | None:
    zone_name = entry.get("timezone")
    if zone_name is None:
        try:
            return _optional(entry, "measured_at", parse_instant)
        except _EntryError as exc:
            if "no UTC offset" in str(exc):
                raise _EntryError(
                    f"{exc}: add the offset, or name the zone in timezone "
                    "(such as 'America/Los_Angeles')"
                ) from None
            raise
    try:
        zone = zone_named(zone_name)
    except ValueError as exc:
        raise _EntryError(f"timezone: {exc}") from None
    return _optional(entry, "measured_at", lambda text: parse_local_instant(text, zone))


def _optional(entry: Entry, key: str, parse: Callable[[object], T]) -> T | None:
    value = entry.get(key)
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise _EntryError(f"{key}: {exc}") from None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"
