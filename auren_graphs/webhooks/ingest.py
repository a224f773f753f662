"""Hand a document to the ingestion graph, as the client does, from inside the server.

Same contract as `auren_client`: the user's deterministic ingestion thread, every input
key sent, `multitask_strategy="enqueue"` (a webhook overlapping a client's delivery waits
its turn), and documents over 16 KiB staged in the store and passed by key, because a
run's input is checkpointed with the thread's history (and kept in memory by the dev
server for its lifetime).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langgraph_sdk.client import LangGraphClient

INGESTION_GRAPH = "ingestion"
INLINE_LIMIT = 16 * 1024  # as auren_client's


class IngestRefusedError(Exception):
    """The ingestion graph refused the document as a whole: retrying cannot help."""


class IngestFailedError(Exception):
    """The run itself failed (an error in the graph or the server): worth retrying."""


async def ingest(
    sdk: LangGraphClient, user_id: str, device: str, payload: Any, *, upload_key: str
) -> dict[str, Any]:
    """Ingest `payload` for `user_id`; the run's report (accepted, duplicates, ...).

    `upload_key` names the staged copy of a large payload: fixed per event, so a retried
    attempt overwrites its own staging instead of adding another.
    """
    thread = _thread_id(user_id, INGESTION_GRAPH)
    await sdk.threads.create(
        thread_id=thread,
        if_exists="do_nothing",
        metadata={"user_id": user_id, "graph": INGESTION_GRAPH},
    )
    run_input: dict[str, Any] = {
        "user_id": user_id,
        "device": device,
        "payload": payload,
        "uploads": [],
    }
    if len(json.dumps(payload, separators=(",", ":")).encode()) > INLINE_LIMIT:
        await sdk.store.put_item(
            ["uploads", user_id],
            upload_key,
            {"device": device, "payload": payload, "records": None},
            index=False,
        )
        run_input.update(payload=None, uploads=[upload_key])
    state = await sdk.runs.wait(
        thread,
        INGESTION_GRAPH,
        input=run_input,
        multitask_strategy="enqueue",
        if_not_exists="create",
        raise_error=False,
    )
    return _report(state)


def _thread_id(user_id: str, graph: str) -> str:
    """The client's own deterministic thread id, so webhooks and client deliveries for a
    user queue on the same thread. (Imported here: mypy sees `auren_client` only as the
    `client/` folder.)"""
    from auren_client import thread_id  # type: ignore[import-not-found,unused-ignore]

    return str(thread_id(user_id, graph))


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
    keys = ("accepted", "duplicates", "updated", "records", "rejected_count", "skipped_count")
    return {key: report.get(key, 0) for key in keys}
