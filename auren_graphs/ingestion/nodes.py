"""The ingestion graph's nodes: small async functions returning partial state updates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from langgraph.runtime import Runtime

from auren_graphs import observability
from auren_graphs.canonical import Device, PayloadError
from auren_graphs.ingestion import worker
from auren_graphs.ingestion.context import IngestionContext
from auren_graphs.ingestion.normalizers import DERIVATIONS, NormalizeContext
from auren_graphs.ingestion.state import IngestError, IngestionState, Report
from auren_graphs.ingestion.storage import devices_namespace, uploads_namespace, write_prepared
from auren_graphs.ingestion.worker import Normalized

Update = dict[str, Any]


def _store(runtime: Runtime[IngestionContext]) -> Any:
    if runtime.store is None:
        raise RuntimeError("the ingestion graph needs a store; run it on the LangGraph server")
    return runtime.store


def _refuse(kind: str, message: str) -> Update:
    # State holds plain data (dicts), so checkpoints never need our classes to load.
    error = IngestError(kind=kind, message=message)  # type: ignore[arg-type]
    return {"error": error.model_dump(), "payload": None, "uploads": []}


async def check_input(state: IngestionState, runtime: Runtime[IngestionContext]) -> Update:
    """Start this run's report afresh, refuse an input without exactly one payload, and look
    up the vendor account connected for the user (the thread keeps the last run's state)."""
    fresh: Update = {"report": Report().model_dump(), "cursor": 0, "error": None}
    has_inline = state.payload is not None
    if has_inline == bool(state.uploads):
        await _discard_uploads(state, runtime, state.uploads)
        return {**fresh, **_refuse("invalid_input", "give exactly one of `payload` or `uploads`")}
    connection = await _store(runtime).aget(devices_namespace(state.user_id), state.device)
    vendor_user_id = connection.value.get("vendor_user_id") if connection else None
    return {**fresh, "vendor_user_id": None if vendor_user_id is None else str(vendor_user_id)}


async def _discard_uploads(
    state: IngestionState, runtime: Runtime[IngestionContext], keys: list[str]
) -> None:
    store = _store(runtime)
    for key in keys:
        await store.adelete(uploads_namespace(state.user_id), key)


async def _upload_value(
    state: IngestionState, runtime: Runtime[IngestionContext], key: str
) -> dict[str, Any] | None:
    item = await _store(runtime).aget(uploads_namespace(state.user_id), key)
    if item is None or item.value.get("payload") is None:
        # Already ingested and removed before a restart resumed this step.
        return None
    return dict(item.value)


async def _reading(
    device: Device,
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
    reading: Awaitable[Normalized] | None = worker.claim((state.user_id, key))
    if reading is None:
        value = await _upload_value(state, runtime, key)
        if value is not None:
            reading = asyncio.ensure_future(worker.normalized(device, value, context, staged=True))
    for following in state.uploads[state.cursor + 1 : state.cursor + 1 + worker.depth()]:
        if not worker.prefetching((state.user_id, following)):
            value = await _upload_value(state, runtime, following)
            if value is not None:
                worker.prefetch((state.user_id, following), device, value, context)
    return reading


async def _ingest(
    device: Device, state: IngestionState, runtime: Runtime[IngestionContext]
) -> Update:
    """Normalize the next payload with `device`'s normalizer and merge it into the store.

    A staged upload is deleted once its data is written; the last one also clears the
    thread's `uploads`, so the next run on the thread starts clean.
    """
    context = NormalizeContext(state.user_id, state.vendor_user_id)
    reading = await _reading(device, state, runtime, context)
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
            worker.forget([(state.user_id, key) for key in rest])
            await _discard_uploads(state, runtime, rest)
            return {**update, **_refuse("invalid_payload", str(exc))}
        batch = result.batch
        store = _store(runtime)
        counts = await write_prepared(store, state.user_id, device, result.prepared, DERIVATIONS)
        observability.record_ingest(device, counts, batch)
        update["report"] = state.report.including(
            accepted=counts.accepted,
            duplicates=counts.duplicates,
            updated=counts.updated,
            records=batch.records_seen,
            rejected=batch.rejections,
            skipped=batch.skipped,
            outcomes=batch.ledger.outcomes(counts.observation_codes, counts.interval_codes),
            ignored=batch.ledger.ignored,
            limit=runtime.context.report_limit if runtime.context else 100,
        ).model_dump()
    await _discard_uploads(state, runtime, done[state.cursor :])
    return update


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
