"""Where a backfill is in the vendor's history: a cursor over collections and pages.

A backfill fetches every collection AUREN ingests for the last N days, page by page,
following the vendor's `next_token` to the end of each collection before the next. The
cursor is plain data kept in the ingestion graph's state, checkpointed after every page,
so a backfill cut short (a crash, a SIGKILL) resumes at the page it had reached; pages
fetched twice store nothing twice (ingestion is idempotent).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from auren_graphs.devices.vendors import Collection, VendorApi

Cursor = dict[str, Any]


def first_cursor(
    backfill_id: str, api: VendorApi, days: int, now: datetime | None = None
) -> Cursor:
    """The start of a backfill of the last `days` days (capped by the vendor's limit)."""
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    days = max(1, min(days, api.max_backfill_days))
    return {
        "id": backfill_id,
        "vendor": api.vendor,
        "collection": 0,
        "token": None,
        "start": (end - timedelta(days=days)).isoformat(),
        "end": end.isoformat(),
        "days": days,
        "pages": 0,
        "records": 0,
    }


def finished(cursor: Cursor, api: VendorApi) -> bool:
    return int(cursor["collection"]) >= len(api.collections)


def collection_of(cursor: Cursor, api: VendorApi) -> Collection:
    return api.collections[int(cursor["collection"])]


def page_params(cursor: Cursor, api: VendorApi, limit: int) -> dict[str, str]:
    """The query of the cursor's next page: its window as the collection takes it, the
    page size where the vendor takes one, and the page token once there is one."""
    collection = collection_of(cursor, api)
    start = datetime.fromisoformat(str(cursor["start"]))
    end = datetime.fromisoformat(str(cursor["end"]))
    if collection.window == "instants":  # WHOOP: ISO instants, a limit up to 25
        params = {"start": _zulu(start), "end": _zulu(end), "limit": str(limit)}
    elif collection.window == "oura_instants":  # Oura heart rate
        params = {"start_datetime": start.isoformat(), "end_datetime": end.isoformat()}
    else:  # Oura daily documents: a bare end_date reads as its midnight: one day more
        last = (end + timedelta(days=1)).date()
        params = {"start_date": start.date().isoformat(), "end_date": last.isoformat()}
    if cursor.get("token"):
        params[collection.page_param] = str(cursor["token"])
    return params


def after_page(cursor: Cursor, records: int, next_token: object) -> Cursor:
    """The cursor once a page of `records` was ingested: the same collection's next
    page, or the next collection."""
    token = next_token if isinstance(next_token, str) and next_token else None
    moved = {
        **cursor,
        "pages": int(cursor["pages"]) + 1,
        "records": int(cursor["records"]) + records,
        "token": token,
    }
    if token is None:
        moved["collection"] = int(cursor["collection"]) + 1
    return moved


def page_items(page: Any, collection: Collection) -> tuple[list[Any], object]:
    """A page's records and its next token; a malformed page is an empty last page."""
    if not isinstance(page, dict):
        return [], None
    items = page.get(collection.items_key)
    return (items if isinstance(items, list) else []), page.get("next_token")


def _zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
