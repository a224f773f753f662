"""Starting, reading and answering rollouts: what the ops routes do, on the server.

A rollout runs as the `rollout` graph on one thread per assistant, whose id the server
derives from the assistant's with its own secret (`auren_contract.derive_thread_id`):
a form only the server creates, so nobody can claim it first. Runs are made through
the server's own API in-process (`platform.loopback()`): system runs, which the graph
accepts as an operator's (`identity.require_operator`); the route checked the operator.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from langgraph.store.base import BaseStore
from langgraph_sdk.client import LangGraphClient
from pydantic import ValidationError

from auren_contract import (
    ROLLOUT_GRAPH,
    active_rollouts_namespace,
    assistant_id,
    derive_thread_id,
    rollout_history_namespace,
)
from auren_graphs.assignment import read_active, utc_now
from auren_graphs.assistants import api
from auren_graphs.assistants.models import AssistantVersion
from auren_graphs.records.keys import THREAD_KEY, key
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.models import (
    ACTIVE_STATUSES,
    RolloutDecision,
    RolloutStatus,
    StartRollout,
)

#: The rollout assistant whose options a rollout starts from, once it is synced.
ROLLOUT_ASSISTANT = "rollout-default"
#: While the rollout's thread is busy (a tick), an answer waits this often, this long.
_BUSY_PAUSE, _BUSY_TRIES = 0.25, 40
_HISTORY_PAGE = 200
#: The statuses each answer is for.
EXPECTED = {
    "approve": {"awaiting_approval"},
    "reject": {"awaiting_approval"},
    "abort": {"planning", "awaiting_approval", "rolling_out"},
    "advance": {"rolling_out"},
}


class NoRolloutError(LookupError):
    """The assistant never had a rollout."""


class RolloutConflictError(Exception):
    """Another rollout holds the assistant, or the rollout is not where the call expects."""


class RolloutRefusedError(ValueError):
    """The request itself cannot start a rollout (no such version, nothing changes...)."""


async def rollout_thread(assistant: str) -> str:
    """The assistant's rollout thread: the same on every replica, unguessable to callers."""
    return derive_thread_id(await key(THREAD_KEY), assistant, ROLLOUT_GRAPH)


async def status(store: BaseStore, assistant: str) -> RolloutStatus | None:
    """The assistant's current (or last) rollout, with every decision taken."""
    record = await read_active(store, assistant)
    if record is None:
        return None
    namespace = rollout_history_namespace(assistant, str(record["rollout_id"]))
    decisions: list[RolloutDecision] = []
    while True:
        page = await store.asearch(namespace, limit=_HISTORY_PAGE, offset=len(decisions))
        decisions += [RolloutDecision.of(item.value) for item in page]
        if len(page) < _HISTORY_PAGE:
            return RolloutStatus.of(record, decisions)


async def require_status(store: BaseStore, assistant: AssistantVersion) -> RolloutStatus:
    found = await status(store, assistant.assistant_id)
    if found is None:
        raise NoRolloutError(f"assistant {assistant.name} has never had a rollout")
    return found


def check_options(options: dict[str, Any]) -> None:
    """Options a rollout's context can hold; `RolloutRefusedError` says what is wrong."""
    unknown = sorted(set(options) - set(RolloutContext.model_fields))
    if unknown:
        known = ", ".join(RolloutContext.model_fields)
        raise RolloutRefusedError(f"unknown rollout options {unknown}; the options are: {known}")
    try:
        RolloutContext.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RolloutRefusedError(f"invalid rollout options: {problems}") from None


async def start(
    store: BaseStore, sdk: LangGraphClient, assistant: AssistantVersion, request: StartRollout
) -> RolloutStatus:
    """Start a rollout of `assistant`; returns once its plan waits for approval (or, when
    approval is not required, once stage 1 is monitored)."""
    check_options(request.options)
    current = await read_active(store, assistant.assistant_id)
    if current is not None and current.get("status") in ACTIVE_STATUSES:
        raise RolloutConflictError(
            f"assistant {assistant.name} already has an active rollout {current['rollout_id']} "
            f"({str(current['status']).replace('_', ' ')}, {current.get('percent', 0)}% on "
            f"v{current['candidate']['version']}); approve, reject or abort it first"
        )
    thread = await rollout_thread(assistant.assistant_id)
    # No owner in the metadata: no user's token reaches this thread.
    await sdk.threads.create(
        thread_id=thread,
        if_exists="do_nothing",
        metadata={"graph": ROLLOUT_GRAPH, "assistant_id": assistant.assistant_id},
    )
    synced = await api.get(sdk, assistant_id(ROLLOUT_ASSISTANT))
    run_input: dict[str, Any] = {
        "assistant": assistant.assistant_id,
        "candidate_version": request.candidate_version,
        "control_version": request.control_version,
        "rollout_id": request.rollout_id or None,
        "requested_by": request.by,
    }
    result = await _once(
        sdk.runs.wait(
            thread,
            synced.assistant_id if synced else ROLLOUT_GRAPH,
            input=run_input,
            context=request.options or None,
            multitask_strategy="reject",
            if_not_exists="create",
            raise_error=False,
        ),
        f"assistant {assistant.name} has a rollout run in progress; try again",
    )
    _raise_for(result)
    return await require_status(store, assistant)


async def answer(
    store: BaseStore, sdk: LangGraphClient, assistant: AssistantVersion, verb: str, **value: Any
) -> RolloutStatus:
    """Resume the rollout's interrupt with an operator's answer (`EXPECTED` says when)."""
    current = await require_status(store, assistant)
    if current.status not in EXPECTED[verb]:
        raise RolloutConflictError(
            f"cannot {verb} rollout {current.rollout_id} of {current.assistant_name}: it is "
            f"{current.status.replace('_', ' ')}"
            + (f" ({current.reason})" if current.reason else "")
        )
    thread = current.thread_id or await rollout_thread(assistant.assistant_id)
    if current.status == "planning":
        return await _abandon(store, sdk, assistant, thread, **value)
    resume = {**value, "at": utc_now()}
    for _ in range(_BUSY_TRIES):
        try:
            result = await sdk.runs.wait(
                thread,
                ROLLOUT_GRAPH,
                command={"resume": resume},
                multitask_strategy="reject",
                if_not_exists="create",
                raise_error=False,
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:
                raise
            await asyncio.sleep(_BUSY_PAUSE)  # a tick is running: it is over in a moment
            continue
        _raise_for(result)
        return await require_status(store, assistant)
    raise RolloutConflictError(f"the rollout of {assistant.name} stayed busy; try again")


async def _abandon(
    store: BaseStore, sdk: LangGraphClient, assistant: AssistantVersion, thread: str, **value: Any
) -> RolloutStatus:
    """Abort a rollout still planning. Planning takes a moment and waits for nobody; one
    that stays `planning` lost its run in a crash before its first checkpoint (so the
    ticker cannot continue it): nothing was assigned, so it is closed as rejected."""
    if (await sdk.threads.get(thread)).get("status") == "busy":
        raise RolloutConflictError(f"the rollout of {assistant.name} is planning; try again")
    by = value.get("by") or "unknown"
    reason = f"aborted by {by} while planning" + (
        f": {value['reason']}" if value.get("reason") else ""
    )
    active = await read_active(store, assistant.assistant_id) or {}
    closed = {**active, "status": "rejected", "reason": reason, "updated_at": utc_now()}
    await store.aput(active_rollouts_namespace(), assistant.assistant_id, closed, index=False)
    return await require_status(store, assistant)


async def _once(call: Any, busy: str) -> Any:
    try:
        return await call
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 409:
            raise RolloutConflictError(busy) from None
        raise


def _raise_for(result: object) -> None:
    """A rollout run's answer: its refusal or failure as an error, else nothing."""
    if not isinstance(result, dict):
        raise RuntimeError(f"the rollout run answered {result!r}")
    failure = result.get("__error__")
    if isinstance(failure, dict):
        raise RuntimeError(
            f"the rollout run failed: {failure.get('error')}: {failure.get('message')}"
        )
    error = result.get("error")
    if isinstance(error, dict):
        message = str(error.get("message") or error)
        if error.get("kind") == "conflict":
            raise RolloutConflictError(message)
        raise RolloutRefusedError(message)
