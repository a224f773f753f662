"""Planning a rollout: what earlier runs say about each version, what the candidate
changes, and the plan put up for approval."""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime

from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.guardrails import GUARDRAILS, VersionMetrics, evaluate, summarize
from auren_graphs.rollout.records import (
    Update,
    options_of,
    record,
    search_runs,
    store_of,
    update_active,
)
from auren_graphs.rollout.state import RolloutState

#: Context options that change the method (the rest change only the narrative).
_METHOD_KEYS = frozenset(
    {
        "swc_multiplier",
        "acute_multiplier",
        "default_sleep_need_hours",
        "alert_after_days",
        "lookback_days",
    }
)


async def collect_metrics(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Each version's metrics from earlier runs recorded for this assistant (any rollout)."""
    options, store, now = options_of(state), store_of(runtime), time.time()
    baseline: dict[str, Any] = {}
    for name in ("candidate", "control"):
        behaviour = getattr(state, name)["context_hash"]
        records = (
            await search_runs(
                store, str(state.assistant_id), {"context_hash": behaviour}, options.baseline_runs
            )
            if options.baseline_runs
            else []
        )
        metrics = summarize(records, now=now, failure_timeout=options.failure_timeout_seconds)
        baseline[name] = metrics.to_dict()
    return {"baseline": baseline}


async def analyze(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """The candidate against control: what changes, and what earlier runs already say."""
    options = options_of(state)
    before = AnalysisContext.model_validate(state.control["context"]).model_dump(mode="json")
    after = AnalysisContext.model_validate(state.candidate["context"]).model_dump(mode="json")
    changed = {
        key: {"control": before[key], "candidate": after[key]}
        for key in before
        if before[key] != after[key]
    }
    kind = "method" if _METHOD_KEYS & set(changed) else "narrative"
    candidate = VersionMetrics(**state.baseline.get("candidate", {}))
    control = VersionMetrics(**state.baseline.get("control", {}))
    prior = evaluate(candidate, control, options)
    evidence = prior.to_dict() if "sample" not in prior.failing else None
    words = ", ".join(f"{k} {v['control']} -> {v['candidate']}" for k, v in sorted(changed.items()))
    summary = f"v{state.candidate['version']} changes the {kind} ({words}); " + (
        f"earlier runs say: {prior.reason}"
        if evidence
        else f"no earlier runs to compare ({candidate.runs} candidate, {control.runs} control)"
    )
    return {"analysis": {"changed": changed, "kind": kind, "prior": evidence, "summary": summary}}


async def propose_plan(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """The stages, windows and guardrails, put up for approval."""
    options = options_of(state)
    plan = {
        "rollout_id": state.rollout_id,
        "assistant_id": state.assistant_id,
        "assistant_name": state.assistant_name,
        "candidate_version": state.candidate["version"],
        "control_version": state.control["version"],
        "stages": [
            {
                "stage": index,
                "percent": percent,
                "window_seconds": options.window_seconds,
                "min_sample": options.min_sample,
            }
            for index, percent in enumerate(options.stages)
        ],
        "thresholds": {name: options.threshold(name) for name in GUARDRAILS},
        "tick_seconds": options.tick_seconds,
        "approval_required": options.approval_required,
        "shortest_duration_seconds": options.window_seconds * len(options.stages),
        "analysis": state.analysis,
        "baseline": state.baseline,
    }
    status = "awaiting_approval" if options.approval_required else "planning"
    await update_active(runtime, str(state.assistant_id), status=status, plan=plan)
    summary = state.analysis.get("summary")
    entry = await record(runtime, state, "proposed", summary=summary, plan=plan)
    return {"plan": plan, "status": status, **entry}
