"""`GET /users/{user}/report`: the user's trends as one self-contained HTML page.

The same page `auren report USER --out report.html` writes (the CLI fetches it here): no
script, no network, openable offline. A user's token gets only their own.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from auren_graphs.http.principal import ServedUser
from auren_graphs.platform import server_store
from auren_graphs.records.connections import connections_of
from auren_graphs.report import MAX_DAYS, build_report

router = APIRouter(tags=["report"])


@router.get(
    "/users/{user_id}/report",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "the report page"}},
)
async def user_report(
    user_id: ServedUser,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="Days shown, ending `end`.")] = 90,
    end: Annotated[
        date | None, Query(description="The last day shown (default: today, UTC).")
    ] = None,
) -> HTMLResponse:
    """The user's report: HRV, resting HR, sleep and training load with their bands and
    gaps, the findings with their rules and sources, devices and data freshness."""
    connections = [asdict(c) for c in await connections_of(user_id)]
    try:
        page = await build_report(
            await server_store(), user_id, days=days, end=end, connections=connections
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    # The page carries its own CSP (no script at all); `nosniff` keeps it HTML.
    return HTMLResponse(page, headers={"x-content-type-options": "nosniff"})
