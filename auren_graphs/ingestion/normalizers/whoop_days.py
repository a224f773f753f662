"""Where a WHOOP record falls in time: its instants, its local times in the record's own
`timezone_offset`, and the calendar day of each kind (the rules are in `whoop`'s
docstring).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from auren_graphs.ingestion.normalizers.common import parse_instant
from auren_graphs.ingestion.normalizers.whoop_records import (
    Record,
    _detect_kind,
    _integer_id,
    _RecordError,
    _uuid_id,
)

# A cycle that opens at or after local noon (an evening sleep onset) is the next day's.
CYCLE_NEXT_DAY_FROM = time(12, 0)

_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


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
