"""Reading a user's metrics: `GET /users/{user}/metrics/{metric}` and the vocabulary.

The server owns the store's layout: clients get typed rows, never store items. A wrong
metric name is refused with the nearest names; a window is checked before anything is
read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from auren_contract import METRICS, MetricRow, unknown_metric_message
from auren_graphs.http.principal import ServedUser
from auren_graphs.platform import server_store
from auren_graphs.readings import Window, WindowError, metric_rows

router = APIRouter(tags=["metrics"])


class MetricInfo(BaseModel):
    """A canonical metric: its name fixes its unit."""

    name: str = Field(description="Canonical metric name.")
    unit: str = Field(description="Its fixed unit.")
    kind: str = Field(description="sample (an instant), daily, or workout.")
    meaning: str = Field(description="What it measures.")


def _moment(value: str, name: str) -> date:
    """`2026-11-02` is a local day; anything longer is an ISO 8601 instant."""
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            422, f"{name} {value[:40]!r} is not an ISO date (YYYY-MM-DD) or date-time"
        ) from None


Moment = Annotated[
    str,
    Query(
        min_length=10,
        max_length=40,
        description="A local day (YYYY-MM-DD) or an instant (ISO 8601; naive is UTC).",
    ),
]


@router.get("/catalog/metrics", response_model=list[MetricInfo])
async def metric_catalog() -> list[MetricInfo]:
    """Every canonical metric, its unit and meaning."""
    return [MetricInfo(**metric._asdict()) for metric in METRICS.values()]


@router.get(
    "/users/{user_id}/metrics/{metric}",
    response_model=list[MetricRow],
    responses={400: {"description": "unknown metric (with the nearest names)"}},
)
async def user_metric(
    user_id: ServedUser, metric: str, start: Moment, end: Moment
) -> list[MetricRow]:
    """The user's stored values of `metric` from `start` to `end` inclusive: dates select
    local days, date-times select instants. Sorted by day, timestamp, device."""
    if problem := unknown_metric_message(metric):
        raise HTTPException(400, problem)
    try:
        window = Window.of(_moment(start, "start"), _moment(end, "end"))
    except WindowError as exc:
        raise HTTPException(422, str(exc)) from None
    return await metric_rows(await server_store(), user_id, metric, window)
