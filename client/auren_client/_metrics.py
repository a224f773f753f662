"""Asking the server for a metric's rows: the window as the route takes it."""

from __future__ import annotations

from datetime import date, datetime

from ._errors import InvalidArgumentError


def query_bounds(start: date, end: date) -> dict[str, str]:
    """``start`` and ``end`` as the metrics route takes them: a date is a local day, a
    datetime an instant (the server reads a naive one as UTC)."""
    for name, bound in (("start", start), ("end", end)):
        if not isinstance(bound, date):
            raise InvalidArgumentError(f"{name} must be a date or datetime, got {bound!r}")
    if not isinstance(start, datetime) and not isinstance(end, datetime) and start > end:
        raise InvalidArgumentError(f"start {start} is after end {end}")
    return {"start": start.isoformat(), "end": end.isoformat()}
