"""The ingestion graph's nodes: small async functions returning partial state updates."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from auren_graphs import observability
from auren_graphs.canonical import Device, NormalizedBatch, PayloadError
from auren_graphs.ingestion.context import IngestionContext
from auren_graphs.ingestion.normalizers import DERIVATIONS, NormalizeContext, normalize
from auren_graphs.ingestion.state import IngestError, IngestionState, Report
from auren_graphs.ingestion.storage import devices_namespace, uploads_namespace, write_batch
from auren_graphs.ingestion.uploads import upload_payload

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


async def _next_payload(state: IngestionState, runtime: Runtime[IngestionContext]) -> Any:
    if not state.uploads:
        return state.payload
    item = await _store(runtime).aget(uploads_namespace(state.user_id), state.uploads[state.cursor])
    if item is None or item.value.get("payload") is None:
        # Already ingested and removed before a restart resumed this step.
        return None
    return item.value


async def _ingest(
    device: Device, state: IngestionState, runtime: Runtime[IngestionContext]
) -> Update:
    """Normalize the next payload with `device`'s normalizer and merge it into the store.

    A staged upload is deleted once its data is written; the last one also clears the
    thread's `uploads`, so the next run on the thread starts clean.
    """
    payload = await _next_payload(state, runtime)
    done = state.uploads[: state.cursor + 1]
    last = state.cursor + 1 >= len(state.uploads)
    update: Update = {"payload": None, "cursor": state.cursor + 1}
    if last:
        update["uploads"] = []
    if payload is not None:
        context = NormalizeContext(state.user_id, state.vendor_user_id)
        try:
            # In a worker thread: a large document takes a while, and the server's
            # event loop keeps answering meanwhile.
            batch = await asyncio.to_thread(
                _normalize, device, payload, context, bool(state.uploads)
            )
        except PayloadError as exc:
            await _discard_uploads(state, runtime, state.uploads[state.cursor :])
            return {**update, **_refuse("invalid_payload", str(exc))}
        counts = await write_batch(_store(runtime), state.user_id, device, batch, DERIVATIONS)
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


def _normalize(
    device: Device, payload: Any, context: NormalizeContext, staged: bool
) -> NormalizedBatch:
    """The payload (an upload item's value when `staged`) normalized by the device's normalizer."""
    document = upload_payload(payload) if staged else payload
    return normalize(device, document, context)


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
