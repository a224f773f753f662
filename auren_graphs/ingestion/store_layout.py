"""Where canonical data lies in the store, and the small helpers every writer shares.

The namespaces and day numbers are the contract's (`auren_contract`), re-exported here
for the writers; see `storage` for the layout and how a batch is merged into it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from langgraph.store.base import Item

from auren_contract import (
    Namespace,
    day_number,
    metric_namespace,
    raw_namespace,
    uploads_namespace,
)
from auren_graphs.canonical import ACCEPTED, DUPLICATE, UPDATED

T = TypeVar("T")


def verdict(old: object, new: object) -> int:
    """`ACCEPTED` when there was nothing, `DUPLICATE` when equal, else `UPDATED`."""
    if old is None:
        return ACCEPTED
    return DUPLICATE if old == new else UPDATED


def day_range_filter(first: date, last: date) -> dict[str, Any]:
    """A store search filter for metric items of days first..last."""
    return {"day_num": {"$gte": day_number(first), "$lte": day_number(last)}}


async def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Merging and deriving a chunk's days takes a while: done in a thread, so the
    server's event loop goes on answering (the store calls stay on the loop)."""
    return await asyncio.to_thread(function, *args)


def item_value(found: Any) -> dict[str, Any] | None:
    return dict(found.value) if isinstance(found, Item) else None


__all__ = [
    "Namespace",
    "day_number",
    "day_range_filter",
    "item_value",
    "metric_namespace",
    "off_the_loop",
    "raw_namespace",
    "uploads_namespace",
    "verdict",
]
