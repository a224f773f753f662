"""The ingestion graph's nodes: small async functions returning partial state updates.

Every node that touches a user's data first asks whom the run serves
(`auren_graphs.identity.serving_user`): the authenticated caller, never the input or the
state, which may only repeat it. A run that may serve nobody is refused and stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from auren_contract import (
    API_VENDORS,
    INGESTION_GRAPH,
    Device,
    IngestReport,
    following_upload_keys,
    uploads_namespace,
)
from auren_graphs import observability
from auren_graphs.canonical import PayloadError
from auren_graphs.identity import IdentityError, serving_user
from auren_graphs.ingestion import worker
from auren_graphs.ingestion.context import IngestionContext
from auren_graphs.ingestion.deletions import delete_records
from auren_graphs.ingestion.normalizers import DERIVATIONS, NormalizeContext
from auren_graphs.ingestion.state import IngestError, IngestionState, including
from auren_graphs.ingestion.storage import write_prepared
from auren_graphs.ingestion.worker import Normalized
from auren_graphs.records.connections import vendor_account_of

Update = dict[str, Any]


def _store(runtime: Runtime[IngestionContext]) -> Any:
    if runtime.store is None:
        raise RuntimeError("the ingestion graph needs a store; run it on the LangGraph server")
    return runtime.store


def refuse(kind: str, message: str) -> Update:
    # State holds plain data (dicts), so checkpoints never need our classes to load.
    error = IngestError(kind=kind, message=message)  # type: ignore[arg-type]
    return {"error": error.model_dump(), "payload": None, "uploads": []}


async def serving(state: IngestionState) -> str:
    return await serving_user(get_config(), state.user_id, graph=INGESTION_GRAPH)


async def check_input(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """Find whom the run serves (refusing a run that may serve nobody), start this run's
    report afresh, refuse an input without exactly one payload, and look up the vendor
    account connected for the user (the thread keeps the last run's state)."""
    fresh: Update = {"report": IngestReport().to_dict(), "cursor": 0, "error": None}
    try:
        user = await serving(state)
    except IdentityError as exc:
        # Nothing of the caller's input is touched, not even staged uploads: the user
        # it names may not be the caller's.
        return {**fresh, **refuse("forbidden", str(exc))}
    fresh["user_id"] = user
    vendor_user_id = await vendor_account_of(user, state.device)
    fresh["vendor_user_id"] = vendor_user_id
    has_inline = state.payload is not None
    if not has_inline and not state.uploads:
        # No document: a backfill or deletions (the thread keeps input keys a run leaves
        # out, so a document always wins over a stale one of these).
        if state.backfill is not None:
            return {**fresh, **_backfill_start(state, vendor_user_id)}
        if state.deletions:
            return fresh
    fresh.update(backfill=None, deletions=[])
    if has_inline == bool(state.uploads):
        await _discard_uploads(user, runtime, state.uploads)
        return {**fresh, **refuse("invalid_input", "give exactly one of `payload` or `uploads`")}
    return fresh


def _backfill_start(state: IngestionState, vendor_user_id: str | None) -> Update:
    """A backfill needs a connected vendor account; asked again with the same id, it
    resumes where its cursor is."""
    if state.device not in API_VENDORS:
        return refuse("invalid_input", f"{state.device} has no vendor API to backfill from")
    if vendor_user_id is None:
        return refuse("vendor", f"no {state.device} account is connected; connect it first")
    cursor = state.backfill_cursor
    same = (
        cursor is not None and state.backfill is not None and cursor.get("id") == state.backfill.id
    )
    return {"backfill_cursor": cursor if same else None}


async def _discard_uploads(user: str, runtime: Runtime[IngestionContext], keys: list[str]) -> None:
    store = _store(runtime)
    for key in keys:
        await store.adelete(uploads_namespace(user), key)


async def _upload_value(
    user: str, runtime: Runtime[IngestionContext], key: str
) -> dict[str, Any] | None:
    item = await _store(runtime).aget(uploads_namespace(user), key)
    if item is None or item.value.get("payload") is None:
        # Already ingested and removed before a restart resumed this step.
        return None
    return dict(item.value)


async def _reading(
    device: Device,
    user: str,
    state: IngestionState,
    runtime: Runtime[IngestionContext],
    context: NormalizeContext,
) -> Awaitable[Normalized] | None:
    """This step's payload being read (in the worker for uploads), or None when there is
    none; the run's next upload starts being read too, while this one is written."""
    if not state.uploads:
        if state.payload is None:
            return None
        return worker.normalized(device, state.payload, context, staged=False)
    key = state.uploads[state.cursor]
    reading: Awaitable[Normalized] | None = worker.claim((user, key), device, context)
    if reading is None:
        value = await _upload_value(user, runtime, key)
        if value is not None:
            reading = asyncio.ensure_future(worker.normalized(device, value, context, staged=True))
    ahead = state.uploads[state.cursor + 1 : state.cursor + 1 + worker.depth()]
    # Near the run's end, the uploads named after its last one: the client's next run
    # starts with them, and reading them now hides that run's start (the dev server
    # picks a queued run up within half a second, then reads its first upload).
    guessed = following_upload_keys(state.uploads[-1], worker.depth() - len(ahead))
    for following in ahead + guessed:
        if not worker.prefetching((user, following)):
            value = await _upload_value(user, runtime, following)
            # A guessed upload only if it is this device's, as the client's series are.
            if value is not None and (following in ahead or value.get("device") == device):
                worker.prefetch((user, following), device, value, context)
    return reading


async def _ingest(
    device: Device, state: IngestionState, runtime: Runtime[IngestionContext]
) -> Update:
    """Normalize the next payload with `device`'s normalizer and merge it into the store.

    A staged upload is deleted once its data is written; the last one also clears the
    thread's `uploads`, so the next run on the thread starts clean.
    """
    user = await serving(state)  # again: a resumed or re-routed step proves it too
    context = NormalizeContext(user, state.vendor_user_id)
    reading = await _reading(device, user, state, runtime, context)
    done = state.uploads[: state.cursor + 1]
    last = state.cursor + 1 >= len(state.uploads)
    update: Update = {"payload": None, "cursor": state.cursor + 1}
    if last:
        update["uploads"] = []
    if reading is not None:
        try:
            result = await reading
        except PayloadError as exc:
            rest = state.uploads[state.cursor :]
            worker.forget([(user, key) for key in rest])
            await _discard_uploads(user, runtime, rest)
            return {**update, **refuse("invalid_payload", str(exc))}
        update.update(await _write(device, user, result, state, runtime))
    await _discard_uploads(user, runtime, done[state.cursor :])
    return update


async def write_payload(
    device: Device,
    user: str,
    payload: Any,
    state: IngestionState,
    runtime: Runtime[IngestionContext],
) -> Update:
    """Normalize one document and merge it into the store: the report with it added, or
    the refusal of a document that is wholly invalid (then nothing of it is stored)."""
    context = NormalizeContext(user, state.vendor_user_id)
    try:
        result = await worker.normalized(device, payload, context, staged=False)
    except PayloadError as exc:
        return refuse("invalid_payload", str(exc))
    return await _write(device, user, result, state, runtime)


async def _write(
    device: Device,
    user: str,
    result: Normalized,
    state: IngestionState,
    runtime: Runtime[IngestionContext],
) -> Update:
    batch = result.batch
    counts = await write_prepared(_store(runtime), user, device, result.prepared, DERIVATIONS)
    observability.record_ingest(device, counts, batch)
    report = including(
        state.report,
        accepted=counts.accepted,
        duplicates=counts.duplicates,
        updated=counts.updated,
        records=batch.records_seen,
        rejected=batch.rejections,
        skipped=batch.skipped,
        outcomes=batch.ledger.outcomes(counts.observation_codes, counts.interval_codes),
        ignored=batch.ledger.ignored,
        limit=runtime.context.report_limit if runtime.context else 100,
    )
    return {"report": report.to_dict()}


async def ingest_oura(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """Oura API v2 documents and pages."""
    return await _ingest("oura", state, runtime)


async def ingest_whoop(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """WHOOP API v2 records and pages."""
    return await _ingest("whoop", state, runtime)


async def ingest_apple_health(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """Apple Health export.xml (or a chunk of it) and Health Auto Export JSON."""
    return await _ingest("apple_health", state, runtime)


async def ingest_manual(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """Manual entries in AUREN's own format."""
    return await _ingest("manual", state, runtime)


async def delete_vendor_records(
    state: IngestionState, runtime: Runtime[IngestionContext]
) -> Update:
    """Remove every value of the records the vendor deleted."""
    user = await serving(state)
    prefix = f"{state.device}:"
    mine = [key for key in state.deletions if key.startswith(prefix)]
    removed = await delete_records(_store(runtime), user, mine)
    report = replace(state.report, deleted=removed)  # values, not records
    return {"report": report.to_dict(), "deletions": []}
