"""A user's report: one self-contained HTML page of their trends, findings and devices.

Pure logic, testable without a server: `gather` reads the store and computes with the
published method, `render_report` turns that into HTML, `build_report` does both (the
drawing in a worker thread, so a server's event loop is not held).

    html = await build_report(store, "user-alice", days=90, connections=rows)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from langgraph.store.base import BaseStore

from auren_graphs.analysis.method import MethodOptions
from auren_graphs.report.gather import MAX_DAYS, MetricFreshness, ReportData, gather
from auren_graphs.report.render import render_report

__all__ = [
    "MAX_DAYS",
    "MetricFreshness",
    "ReportData",
    "build_report",
    "gather",
    "render_report",
]


async def build_report(
    store: BaseStore,
    user_id: str,
    *,
    days: int = 90,
    end: date | None = None,
    connections: Iterable[Mapping[str, Any]] = (),
    options: MethodOptions | None = None,
) -> str:
    """The report of the `days` days ending `end` (default today, UTC) as an HTML page.

    `connections`: the user's device connections as dicts with `vendor`,
    `vendor_user_id`, `status` and `last_sync_at` (datetime, ISO text or None).
    Raises ValueError when `days` is outside 1..MAX_DAYS.
    """
    data = await gather(
        store, user_id, days=days, end=end, connections=connections, options=options
    )
    return await asyncio.to_thread(render_report, data)
