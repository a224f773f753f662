"""Waiting and deciding: the approval gate, each stage's start, its monitoring and its
verdict.

Waiting holds no worker: the gate and the monitoring are `interrupt()`s. The operator
answers the gate (`/ops/rollouts/{assistant}/approve|reject|abort`); the monitoring is
resumed by AUREN's ticker once the stage's window is over (`auren_graphs.rollout.ticker`)
or by an operator's `advance` or `abort`. A window that ends with too few runs keeps
waiting, and is looked at again at every tick, until the sample is there or an operator
forces the decision (`advance --force`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from auren_graphs import observability
from auren_graphs.assignment import utc_now
from auren_graphs.identity import require_operator
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.guardrails import evaluate, summarize
from auren_graphs.rollout.records import (
    Update,
    now,
    options_of,
    record,
    search_runs,
    store_of,
    update_active,
)
from auren_graphs.rollout.state import RolloutState


async def approval_gate(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Wait for the operator: `{"decision": "approve"|"reject", "by": ..., "at": ...}`."""
    require_operator(get_config(), "approving a rollout")
    if not options_of(state).approval_required:
        approval: dict[str, Any] = {
            "decision": "approve",
            "by": "auto (approval not required)",
            "at": utc_now(),
        }
    else:
        answer = interrupt(
            {
                "kind": "approval",
                "rollout_id": state.rollout_id,
                "plan": state.plan,
                "resume_with": {"decision": "approve | reject", "by": "who", "at": "when"},
            }
        )
        decision = answer.get("decision") if isinstance(answer, Mapping) else None
        if isinstance(answer, Mapping) and answer.get("action") == "abort":
            decision = "reject"
        if decision not in ("approve", "reject") or not isinstance(answer, Mapping):
            return {"approval": None, "error": None}  # not an answer to this gate: wait on
        approval = {
            "decision": decision,
            "by": str(answer.get("by") or "unknown"),
            "at": str(answer.get("at") or utc_now()),
            "reason": answer.get("reason"),
        }
    event = "approved" if approval["decision"] == "approve" else "rejected"
    entry = await record(
        runtime, state, event, by=approval["by"], reason=approval.get("reason"), verdict=event
    )
    return {"approval": approval, "error": None, **entry}


async def reject(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Rejected at the gate: nothing was assigned; the assistant is untouched."""
    approval = state.approval or {}
    reason = f"rejected by {approval.get('by', 'unknown')}" + (
        f": {approval['reason']}" if approval.get("reason") else ""
    )
    await update_active(runtime, str(state.assistant_id), status="rejected", reason=reason)
    return {"status": "rejected", "reason": reason}


async def assign(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Start the next stage: its percentage of users (lowest buckets) get the candidate."""
    options = options_of(state)
    index = state.stage_index + 1
    percent = options.stages[index]
    begins = now()
    ends = begins + timedelta(seconds=options.window_seconds)
    window = {
        "window_started_at": begins.isoformat(timespec="seconds"),
        "window_ends_at": ends.isoformat(timespec="milliseconds"),
    }
    await update_active(
        runtime,
        str(state.assistant_id),
        status="rolling_out",
        stage_index=index,
        percent=percent,
        waiting=None,
        **window,
    )
    observability.ROLLOUT_STAGE.labels(state.assistant_name).set(percent)
    entry = await record(runtime, state, "stage_started", stage=index, percent=percent, **window)
    return {
        "status": "rolling_out",
        "stage_index": index,
        "percent": percent,
        "window_closed": False,
        "verdict": None,
        "abort": None,
        "force": False,
        "waiting": None,
        **window,
        **entry,
    }


async def monitor(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Wait for the window to end: a tick after `window_ends_at`, an explicit
    `{"action": "advance"}` (with `"force": true`, decided even on too few runs), or
    `{"action": "abort"}`."""
    require_operator(get_config(), "a rollout's monitoring")
    answer = interrupt(
        {
            "kind": "monitor",
            "rollout_id": state.rollout_id,
            "stage": state.stage_index,
            "percent": state.percent,
            "window_ends_at": state.window_ends_at,
            "waiting": state.waiting,
            "resume_with": {"action": "tick | advance | abort", "force": "advance only"},
        }
    )
    action = answer.get("action") if isinstance(answer, Mapping) else None
    if action == "abort" and isinstance(answer, Mapping):
        by = str(answer.get("by") or "unknown")
        reason = f"aborted by {by}" + (f": {answer['reason']}" if answer.get("reason") else "")
        return {"abort": {"by": by, "at": utc_now(), "reason": reason}, "error": None}
    if action == "advance" and isinstance(answer, Mapping):
        forced = {"by": str(answer.get("by") or "unknown")} if answer.get("force") else None
        return {"window_closed": True, "force": forced is not None, "error": None}
    due = datetime.fromisoformat(str(state.window_ends_at))
    return {"window_closed": action == "tick" and now() >= due, "error": None}


async def decide(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Judge the stage: this stage's candidate runs against control's, guardrail by
    guardrail. Too few runs (and no force): the stage waits on, and says so once."""
    options, store, clock = options_of(state), store_of(runtime), time.time()
    assistant_id, rollout_id = str(state.assistant_id), str(state.rollout_id)
    records = await search_runs(store, assistant_id, {"rollout_id": rollout_id})
    candidate = [
        r for r in records if r.get("cohort") == "candidate" and r.get("stage") == state.stage_index
    ]
    control = [r for r in records if r.get("cohort") == "control"]
    window = {"now": clock, "failure_timeout": options.failure_timeout_seconds}
    control_metrics = summarize(control, **window)
    if control_metrics.runs < options.min_sample and options.baseline_runs:
        # At 100% nobody is on control any more: earlier runs of its version count too.
        behaviour = {"context_hash": state.control["context_hash"]}
        earlier = await search_runs(store, assistant_id, behaviour, options.baseline_runs)
        control_metrics = summarize(
            control + [r for r in earlier if r.get("rollout_id") != rollout_id], **window
        )
    verdict = evaluate(
        summarize(candidate, **window), control_metrics, options, require_sample=not state.force
    )
    if "sample" in verdict.failing:
        return await _wait_for_sample(state, runtime, verdict.reason)
    event = "stage_passed" if verdict.passed else "stage_failed"
    fields = {"forced": True} if state.force else {}
    entry = await record(
        runtime,
        state,
        event,
        verdict="pass" if verdict.passed else "fail",
        reason=verdict.reason,
        metrics=verdict.to_dict(),
        **fields,
    )
    return {"verdict": verdict.to_dict(), "waiting": None, **entry}


async def _wait_for_sample(
    state: RolloutState, runtime: Runtime[RolloutContext], reason: str
) -> Update:
    """The window is over but the sample is not there: keep monitoring (recorded once)."""
    waiting = f"waiting for runs: {reason}"
    update: Update = {"verdict": {"passed": False, "waiting": True, "reason": reason}}
    update |= {"waiting": waiting, "window_closed": False}
    if state.waiting is None:
        await update_active(runtime, str(state.assistant_id), waiting=waiting)
        update |= await record(runtime, state, "stage_waiting", reason=reason)
    return update
