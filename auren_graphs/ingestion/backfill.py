"""The ingestion graph's backfill: the user's history, fetched from the vendor's API page
by page and ingested like any delivery, on the user's own ingestion thread.

One page per step: the cursor (`auren_graphs.devices.backfill`) is checkpointed after each,
so a backfill cut short resumes where it was (asked again with the same id), and what a
second fetch brings again is stored once. Each page streams a progress event. A vendor's
429 is waited out (`Retry-After`); a refused grant marks the connection `needs_reauth`
and ends the backfill with the reason. The connection's last sync says how it went.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from auren_contract import Rejection
from auren_graphs.devices import backfill, tokens
from auren_graphs.devices.api import VendorError, vendor_client
from auren_graphs.devices.vendors import vendor_api
from auren_graphs.ingestion.context import IngestionContext
from auren_graphs.ingestion.nodes import Update, refuse, serving, write_payload
from auren_graphs.ingestion.state import IngestionState, including
from auren_graphs.records.connections import record_sync
from auren_graphs.settings import get_settings


async def backfill_page(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """Fetch and ingest the cursor's next page, then move the cursor on."""
    user = await serving(state)
    assert state.backfill is not None  # routed here only for a backfill
    api = vendor_api(state.device)
    cursor = state.backfill_cursor or backfill.first_cursor(
        state.backfill.id, api, state.backfill.days
    )
    if backfill.finished(cursor, api):
        return {"backfill_cursor": cursor}
    collection = backfill.collection_of(cursor, api)
    params = backfill.page_params(cursor, api, get_settings().backfill_page_limit)
    try:
        page = await tokens.get_json(
            vendor_client(state.device), user, state.device, collection.path, params
        )
    except VendorError as exc:
        await record_sync(user, state.device, "backfill failed", str(exc))
        return {"backfill_cursor": cursor, **refuse("vendor", str(exc))}
    items, next_token = backfill.page_items(page, collection)
    update: Update = {"backfill_cursor": backfill.after_page(cursor, len(items), next_token)}
    if items:
        written = await write_payload(state.device, user, page, state, runtime)
        if "error" in written:  # a page the normalizer cannot read: skip it, say so
            update["report"] = _with_skipped_page(state, collection.path, written)
        else:
            update.update(written)
    moved = update["backfill_cursor"]
    get_stream_writer()(
        {"event": "backfill", "collection": collection.path, "pages": moved["pages"],
         "records": moved["records"], "done": backfill.finished(moved, api)}
    )  # fmt: skip
    if backfill.finished(moved, api):
        await record_sync(user, state.device, f"backfill ok: {moved['records']} records")
    return update


def _with_skipped_page(state: IngestionState, path: str, written: Update) -> dict[str, Any]:
    reason = str(written["error"]["message"])
    refusal = Rejection(path, f"a page could not be read: {reason}")
    return including(state.report, rejected=[refusal], limit=100).to_dict()


def route_after_backfill_page(state: IngestionState) -> Literal["backfill_page", "__end__"]:
    """The next page until every collection is done, or the vendor refused."""
    cursor = state.backfill_cursor
    if state.error is not None or cursor is None:
        return "__end__"
    return "__end__" if backfill.finished(cursor, vendor_api(state.device)) else "backfill_page"
