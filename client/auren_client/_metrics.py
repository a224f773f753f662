"""Reading a metric's stored items into sorted, filtered rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ._errors import InvalidArgumentError, UnexpectedResponseError
from ._models import MetricRow

# Sorts daily values (no instant) before the samples of the same day.
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    # A naive datetime is read as UTC: the stored instants are all aware, and an
    # aware one cannot be compared with a naive one.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The [start, end] a caller asked for, as days and (for datetimes) instants."""

    first_day: date
    last_day: date
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of(cls, start: date, end: date) -> Window:
        for name, bound in (("start", start), ("end", end)):
            if not isinstance(bound, date):
                raise InvalidArgumentError(f"{name} must be a date or datetime, got {bound!r}")
        lo = _aware(start) if isinstance(start, datetime) else None
        hi = _aware(end) if isinstance(end, datetime) else None
        window = cls(
            first_day=lo.date() if lo else start,
            last_day=hi.date() if hi else end,
            start=lo,
            end=hi,
        )
        if window.first_day > window.last_day or (lo and hi and lo > hi):
            raise InvalidArgumentError(f"start {start} is after end {end}")
        return window

    def query_days(self, span: int) -> list[tuple[int, int]]:
        """The ranges of ``day_num`` (the day as the integer YYYYMMDD) to ask the store
        for, each of at most ``span`` days.

        One range per search: a metric has one item per day, so a range of fewer days
        than a page holds is read whole in one page. Paging by offset is not stable:
        the store orders by write time only, and one ingestion writes many items at the
        same instant, so pages could repeat some items and skip others.

        Not the ISO ``day``: the in-memory store compares range filters as floats.
        ``day`` is the user's local day, which can differ from the instant's own date
        by up to a day either way (UTC-12 to UTC+14); widen by a day on a datetime
        bound and filter exactly on the client.
        """
        first = self.first_day - timedelta(days=1) if self.start else self.first_day
        last = self.last_day + timedelta(days=1) if self.end else self.last_day
        ranges = []
        while first <= last:
            upto = min(first + timedelta(days=span - 1), last)
            ranges.append((day_number(first), day_number(upto)))
            first = upto + timedelta(days=1)
        return ranges

    def keeps(self, row: MetricRow) -> bool:
        if row.timestamp is None:
            return self.first_day <= row.day <= self.last_day
        if self.start is not None and row.timestamp < self.start:
            return False
        if self.end is not None and row.timestamp > self.end:
            return False
        # A date bound is a local calendar day, so a sample is kept by its day.
        if self.start is None and row.day < self.first_day:
            return False
        return not (self.end is None and row.day > self.last_day)


def day_number(day: date) -> int:
    """A day as the integer YYYYMMDD, as the server stores it in ``day_num``."""
    return day.year * 10_000 + day.month * 100 + day.day


def _timestamp(raw: object) -> datetime | None:
    if raw is None:
        return None
    return _aware(datetime.fromisoformat(str(raw)))


def rows_of_item(value: Mapping[str, Any], metric: str) -> list[MetricRow]:
    """The rows stored in one ``["users", user, "metrics", metric]`` item."""
    try:
        day = date.fromisoformat(str(value["day"]))
        unit = str(value.get("unit", ""))
        return [
            MetricRow(
                metric=str(value.get("metric", metric)),
                value=float(row["value"]),
                unit=unit,
                day=day,
                timestamp=_timestamp(row.get("timestamp")),
                device=str(row.get("device", "")),
            )
            for row in value.get("rows", [])
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise UnexpectedResponseError(
            f"the server stored a malformed {metric!r} item: {exc}"
        ) from exc


def sort_key(row: MetricRow) -> tuple[date, datetime, str]:
    return (row.day, row.timestamp or _EARLIEST, row.device)
