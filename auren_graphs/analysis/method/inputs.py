"""§1 input: validate the records and align them on calendar days (§2)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from auren_graphs.analysis.method.options import is_number


@dataclass(frozen=True, slots=True)
class Series:
    """Valid inputs aligned on every calendar day from the first record to the last (§2).

    `ln_rmssd` is already log-transformed (§3). Invalid or absent values are None (§1).
    """

    days: tuple[date, ...]
    record_present: tuple[bool, ...]
    ln_rmssd: tuple[float | None, ...]
    resting_hr: tuple[float | None, ...]
    sleep_hours: tuple[float | None, ...]
    sleep_need_hours: tuple[float | None, ...]
    training_load: tuple[float | None, ...]
    strain: tuple[float | None, ...]
    recovery_score: tuple[float | None, ...]
    readiness_score: tuple[float | None, ...]

    def __len__(self) -> int:
        return len(self.days)


def valid(
    value: object, low: float | None = None, high: float | None = None, *, low_open: bool = False
) -> float | None:
    """The value as a float if it passes §1 validity and the bounds, else None (missing)."""
    if not is_number(value):
        return None
    v = float(value)
    if low is not None and (v <= low if low_open else v < low):
        return None
    if high is not None and v > high:
        return None
    return v


def parse_day(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"day must be a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"day must be an ISO date string YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"day is not an ISO date YYYY-MM-DD: {value!r}") from exc


def prepare(records: Iterable[Mapping[str, Any]]) -> Series:
    """§1-§2: validate the records, order them, and align them on calendar days.

    Raises ValueError on a missing or malformed `day` or a duplicate day.
    """
    by_day: dict[date, Mapping[str, Any]] = {}
    for record in records:
        if "day" not in record:
            raise ValueError(f"record without a day: {record!r}")
        day = parse_day(record["day"])
        if day in by_day:
            raise ValueError(f"duplicate day: {day.isoformat()}")
        by_day[day] = record
    if not by_day:
        return Series((), (), (), (), (), (), (), (), (), ())
    first, last = min(by_day), max(by_day)
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    recs = [by_day.get(d, {}) for d in days]

    def column(
        key: str, low: float | None = None, high: float | None = None, *, low_open: bool = False
    ) -> tuple[float | None, ...]:
        return tuple(valid(r.get(key), low, high, low_open=low_open) for r in recs)

    rmssd = column("rmssd_ms", 0.0, low_open=True)  # §1: > 0
    return Series(
        days=days,
        record_present=tuple(d in by_day for d in days),
        ln_rmssd=tuple(None if v is None else math.log(v) for v in rmssd),  # §3
        resting_hr=column("resting_hr", 0.0, low_open=True),  # §1: > 0
        sleep_hours=column("sleep_hours", 0.0, 24.0),  # §1: [0, 24]
        # §5 says "if valid" without bounds; a need must be a positive duration within a day.
        sleep_need_hours=column("sleep_need_hours", 0.0, 24.0, low_open=True),
        training_load=column("training_load", 0.0),  # §1: >= 0
        strain=column("strain"),
        recovery_score=column("recovery_score"),
        readiness_score=column("readiness_score"),
    )
