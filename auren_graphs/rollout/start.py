"""The rollout's first node: check the caller and the request, take the assistant (one
active rollout each), and start afresh."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from auren_contract import ANALYSIS_GRAPH, ROLLOUT_RUNS, active_rollouts_namespace
from auren_graphs import platform
from auren_graphs.assignment import read_active, utc_now
from auren_graphs.assistants import api
from auren_graphs.identity import require_operator
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.models import ACTIVE_STATUSES
from auren_graphs.rollout.records import Update, run_config, side, store_of
from auren_graphs.rollout.state import RolloutState

ROLLOUT_ID_NAMESPACE = uuid.UUID("9a3f2c1e-6b7d-4e8a-b5c4-0d1e2f3a4b5c")
_WAITING_NODE = {"awaiting_approval": "approval_gate", "rolling_out": "monitor"}


def _refuse(state: RolloutState, kind: str, message: str) -> Update:
    """Refuse this start. A rollout already waiting on this thread waits on: the refused
    run's input does not become its identity, and the router sends it back to its gate."""
    error = {"kind": kind, "message": message, "resume_at": _WAITING_NODE.get(state.status or "")}
    if error["resume_at"] is None or not state.plan:
        return {"error": error}
    plan = state.plan
    return {
        "error": error,
        "assistant": plan["assistant_id"],
        "rollout_id": plan["rollout_id"],
        "candidate_version": plan["candidate_version"],
        "control_version": plan["control_version"],
    }


def _conflict(name: str, active: dict[str, Any]) -> str:
    return (
        f"assistant {name} already has an active rollout {active['rollout_id']} "
        f"({str(active['status']).replace('_', ' ')}, {active.get('percent', 0)}% on "
        f"v{active['candidate']['version']}); approve, reject or abort it first"
    )


def _fresh(options: RolloutContext, **fields: Any) -> Update:
    """The state of a rollout that has just started: nothing of an earlier one kept."""
    return {
        "options": options.model_dump(mode="json"),
        "status": "planning",
        "stage_index": -1,
        "percent": 0,
        "plan": None,
        "history": None,
        "seq": 0,
        "reason": None,
        "error": None,
        "baseline": {},
        "analysis": {},
        "approval": None,
        "window_started_at": None,
        "window_ends_at": None,
        "window_closed": False,
        "abort": None,
        "verdict": None,
        "force": False,
        "waiting": None,
        **fields,
    }


async def start(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Check the caller and the request, take the assistant, start afresh."""
    require_operator(get_config(), "a rollout")
    store = store_of(runtime)
    run_id = run_config("run_id") or str(uuid.uuid4())
    assistant = await api.find(platform.loopback(), state.assistant)
    if assistant is None:
        return _refuse(state, "invalid", f"no assistant {state.assistant!r}")
    assistant_id = assistant.assistant_id
    last = await read_active(store, assistant_id) or {}
    # Only this very run may find its own rollout here (this node again, after a crash).
    ours = last.get("started_by_run") == run_id
    # An input key left out keeps the thread's last value: a rollout id equal to the last
    # rollout's, from another run, is that carried-over value, not a request to reuse it.
    carried = not ours and last.get("rollout_id") == state.rollout_id
    rollout_id = (None if carried else state.rollout_id) or uuid.uuid5(
        ROLLOUT_ID_NAMESPACE, run_id
    ).hex
    name = assistant.name or assistant_id
    if last.get("status") in ACTIVE_STATUSES and not ours:
        return _refuse(state, "conflict", _conflict(name, last))
    if rollout_id == ROLLOUT_RUNS:
        return _refuse(state, "invalid", f"{ROLLOUT_RUNS!r} cannot be a rollout's id")
    if assistant.graph_id != ANALYSIS_GRAPH:
        return _refuse(state, "invalid", f"only analysis assistants roll out, not {name}")
    versions = {v.version: v for v in await api.versions(platform.loopback(), assistant_id)}
    control_version = state.control_version or assistant.version
    missing = [v for v in (state.candidate_version, control_version) if v not in versions]
    if missing:
        known = ", ".join(f"v{v}" for v in sorted(versions))
        message = f"the assistant has no version {missing[0]} (it has {known})"
        return _refuse(state, "invalid", message)
    candidate = side(versions[state.candidate_version].model_dump())
    control = side(versions[control_version].model_dump())
    if candidate["context_hash"] == control["context_hash"]:
        return _refuse(
            state,
            "invalid",
            f"v{state.candidate_version} and v{control_version} analyse alike: nothing to roll out",
        )
    options = runtime.context if isinstance(runtime.context, RolloutContext) else RolloutContext()
    active = {
        "rollout_id": rollout_id,
        "assistant_id": assistant_id,
        "assistant_name": name,
        "thread_id": run_config("thread_id"),
        "status": "planning",
        "stage_index": -1,
        "percent": 0,
        "stages": options.stages,
        "tick_seconds": options.tick_seconds,
        "candidate": candidate,
        "control": control,
        "requested_by": state.requested_by,
        "started_by_run": run_id,
        "started_at": utc_now(),
        "updated_at": utc_now(),
        "plan": None,
        "reason": None,
        "waiting": None,
    }
    await store.aput(active_rollouts_namespace(), assistant_id, active, index=False)
    return _fresh(
        options,
        rollout_id=rollout_id,
        control_version=control_version,
        assistant_id=assistant_id,
        assistant_name=name,
        graph_id=assistant.graph_id,
        candidate=candidate,
        control=control,
    )
