"""Where canonical data lies in the store, and the small helpers every writer shares.

See `storage` for the layout and how a batch is merged into it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from langgraph.store.base import Item

from auren_graphs.canonical import ACCEPTED, DUPLICATE, UPDATED

Namespace = tuple[str, ...]

T = TypeVar("T")


def metric_namespace(user_id: str, metric: str) -> Namespace:
    return ("users", user_id, "metrics", metric)


def raw_namespace(user_id: str, kind: str) -> Namespace:
    return ("users", user_id, "raw", kind)


def devices_namespace(user_id: str) -> Namespace:
    return ("users", user_id, "devices")


def uploads_namespace(user_id: str) -> Namespace:
    return ("uploads", user_id)


def verdict(old: object, new: object) -> int:
    """`ACCEPTED` when there was nothing, `DUPLICATE` when equal, else `UPDATED`."""
    if old is None:
        return ACCEPTED
    return DUPLICATE if old == new else UPDATED


def day_number(day: date | str) -> int:
    """A day as the integer YYYYMMDD: range filters on it work in every store.

    (The in-memory store compares range filters as floats, so ISO strings cannot be used.)
    """
    text = day.isoformat() if isinstance(day, date) else day
    return int(text.replace("-", ""))


def day_range_filter(first: date, last: date) -> dict[str, Any]:
    """A store search filter for metric items of days first..last."""
    return {"day_num": {"$gte": day_number(first), "$lte": day_number(last)}}


async def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Merging and deriving a chunk's days takes a while: done in a thread, so the
    server's event loop goes on answering (the store calls stay on the loop)."""
    return await asyncio.to_thread(function, *args)


def item_value(found: Any) -> dict[str, Any] | None:
    return dict(found.value) if isinstance(found, Item) else None
