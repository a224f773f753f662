"""Reading a user's stored metrics: the one place that decodes the store's metric items.

Used by the metrics route (`GET /users/{user}/metrics/{metric}`), the analysis graph and
the report. A metric has one item per local day; a search over fewer days than a page
holds is read whole in one page. Offset paging is not stable (the store orders by write
time only, and one ingestion writes many items at once), so spans of days are searched
instead, each in one page, by `day_num` (the in-memory store compares range filters as
floats, so not by the ISO day).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from langgraph.store.base import BaseStore, Item

from auren_contract import METRICS, MetricRow, day_number, metric_namespace

#: Days searched at once: one item per day, so a span fits in one page.
DAYS_PER_SEARCH = 366
#: The longest window one request may ask for.
MAX_DAYS = 3660
_EARLIEST = datetime.min.replace(tzinfo=UTC)


class WindowError(ValueError):
    """A window a caller asked for that cannot be read."""


def _aware(moment: datetime) -> datetime:
    # Naive is UTC: stored instants are aware, and aware and naive do not compare.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The [start, end] asked for: dates select local days, datetimes select instants
    (samples by their timestamp, daily values by their day)."""

    first_day: date
    last_day: date
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of(cls, start: date, end: date) -> Window:
        lo = _aware(start) if isinstance(start, datetime) else None
        hi = _aware(end) if isinstance(end, datetime) else None
        window = cls(lo.date() if lo else start, hi.date() if hi else end, lo, hi)
        if window.first_day > window.last_day or (lo and hi and lo > hi):
            raise WindowError(f"start {start.isoformat()} is after end {end.isoformat()}")
        if (window.last_day - window.first_day).days > MAX_DAYS:
            raise WindowError(f"ask for at most {MAX_DAYS} days at a time")
        return window

    def search_days(self) -> tuple[date, date]:
        """The days to read: a local day may differ from an instant's UTC date by up to a
        day either way, so a datetime bound widens by one (rows are then kept exactly)."""
        first = self.first_day - timedelta(days=1) if self.start else self.first_day
        last = self.last_day + timedelta(days=1) if self.end else self.last_day
        return first, last

    def keeps(self, row: MetricRow) -> bool:
        if row.timestamp is None:
            return self.first_day <= row.day <= self.last_day
        if self.start is not None and row.timestamp < self.start:
            return False
        if self.end is not None and row.timestamp > self.end:
            return False
        if self.start is None and row.day < self.first_day:
            return False
        return not (self.end is None and row.day > self.last_day)


def day_range_filter(first: date, last: date) -> dict[str, Any]:
    """A store search filter for metric items of days first..last."""
    return {"day_num": {"$gte": day_number(first), "$lte": day_number(last)}}


async def day_items(
    store: BaseStore, user_id: str, metric: str, first: date, last: date
) -> AsyncIterator[Item]:
    """The user's items of `metric` for days first..last, each once, span by span."""
    seen: set[str] = set()
    while first <= last:
        upto = min(first + timedelta(days=DAYS_PER_SEARCH - 1), last)
        items = await store.asearch(
            metric_namespace(user_id, metric),
            filter=day_range_filter(first, upto),
            limit=DAYS_PER_SEARCH + 1,
        )
        for item in items:
            if item.key not in seen:
                seen.add(item.key)
                yield item
        first = upto + timedelta(days=1)


def rows_of_item(value: Mapping[str, Any], metric: str) -> list[MetricRow]:
    """The rows one metric item holds."""
    day = date.fromisoformat(str(value["day"]))
    unit = str(value.get("unit") or METRICS[metric].unit)
    return [
        MetricRow(
            metric=metric,
            value=float(row["value"]),
            unit=unit,
            day=day,
            timestamp=_aware(datetime.fromisoformat(row["timestamp"]))
            if row.get("timestamp")
            else None,
            device=str(row.get("device", "")),
        )
        for row in value.get("rows", [])
    ]


async def metric_rows(
    store: BaseStore, user_id: str, metric: str, window: Window
) -> list[MetricRow]:
    """The user's stored values of `metric` in `window`, by day, timestamp, device."""
    rows: list[MetricRow] = []
    async for item in day_items(store, user_id, metric, *window.search_days()):
        rows.extend(row for row in rows_of_item(item.value, metric) if window.keeps(row))
    rows.sort(key=lambda r: (r.day, r.timestamp or _EARLIEST, r.device))
    return rows
