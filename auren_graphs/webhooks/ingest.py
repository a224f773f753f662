"""Hand a document to the ingestion graph from inside the server, as the client does.

The same rules as `auren_client`: the user's own ingestion thread (its owner checked
first), the contract's input with every key, `multitask_strategy="enqueue"` (a webhook
overlapping a client's delivery waits its turn), and documents that do not fit inline
(the contract's `fits_inline`) staged in the store and passed by key. The run is a
system run (in process, no identity): it names its user, and the graph checks that
claim against the thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auren_contract import (
    INGESTION_GRAPH,
    fits_inline,
    ingestion_input,
    upload_item,
    uploads_namespace,
)
from auren_graphs.platform import loopback
from auren_graphs.threads import own_thread


class IngestRefusedError(Exception):
    """The ingestion graph refused the document as a whole: retrying cannot help."""


class IngestFailedError(Exception):
    """The run itself failed (an error in the graph or the server): worth retrying."""


async def ingest(user_id: str, device: str, payload: Any, *, upload_key: str) -> dict[str, Any]:
    """Ingest `payload` for `user_id`; the run's report (accepted, duplicates, ...).

    `upload_key` names the staged copy of a large payload: fixed per event, so a retried
    attempt overwrites its own staging instead of adding another.
    """
    sdk = loopback()
    thread = await own_thread(user_id, INGESTION_GRAPH)
    run_input = ingestion_input(user_id, device, payload=payload)
    if not fits_inline(payload):
        await sdk.store.put_item(
            list(uploads_namespace(user_id)),
            upload_key,
            upload_item(device, payload),
            index=False,
        )
        run_input.update(payload=None, uploads=[upload_key])
    return await _run(thread, run_input)


async def remove(user_id: str, device: str, records: list[str]) -> dict[str, Any]:
    """Remove every value of `records` (deleted at the vendor); the run's report."""
    thread = await own_thread(user_id, INGESTION_GRAPH)
    return await _run(thread, ingestion_input(user_id, device, deletions=records))


async def _run(thread: str, run_input: dict[str, Any]) -> dict[str, Any]:
    state = await loopback().runs.wait(
        thread,
        INGESTION_GRAPH,
        input=run_input,
        multitask_strategy="enqueue",
        raise_error=False,
    )
    return _report(state)


def _report(state: object) -> dict[str, Any]:
    if not isinstance(state, Mapping):
        raise IngestFailedError(f"the ingestion run returned {type(state).__name__}, not a state")
    failure = state.get("__error__")
    if failure:
        detail = failure.get("message") if isinstance(failure, Mapping) else failure
        raise IngestFailedError(f"the ingestion run failed: {str(detail)[:300]}")
    error = state.get("error")
    if isinstance(error, Mapping):
        raise IngestRefusedError(
            f"the ingestion graph refused the document: {error.get('message')}"
        )
    report = state.get("report")
    if not isinstance(report, Mapping):
        raise IngestFailedError("the ingestion run ended without a report")
    keys = (
        "accepted", "duplicates", "updated", "deleted", "records", "rejected_count",
        "skipped_count",
    )  # fmt: skip
    return {key: report.get(key, 0) for key in keys}
