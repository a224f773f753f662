"""The rollout graph's nodes: small async functions returning partial updates.

Waiting holds no worker: the approval gate and each stage's monitoring are
`interrupt()`s. The monitoring interrupt is resumed by the rollout's cron (created for
the rollout's thread when stage 1 starts, with a `Command(resume=...)` payload, deleted
when the rollout ends) or by an explicit resume call (`auren rollout advance|abort`).

Platform calls (assistant versions, crons) go through the server's own API in-process
(`langgraph_sdk.get_client()` without a URL); the store through the runtime.
Every node is safe to run again after a crash: store keys are deterministic, the
assistant is only written when it does not already behave as the target version, and
the cron is looked up before one is created.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import interrupt
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from auren_graphs import observability
from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.identity import require_operator
from auren_graphs.rollout.assignment import (
    ACTIVE_KEY,
    ACTIVE_STATUSES,
    context_hash,
    history_namespace,
    read_active,
    rollout_namespace,
    runs_namespace,
    utc_now,
)
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.guardrails import VersionMetrics, evaluate, summarize
from auren_graphs.rollout.state import RolloutState

Update = dict[str, Any]

#: The graph whose assistants a rollout changes (the guardrails are the analysis's).
ANALYSIS_GRAPH = "analysis"
ROLLOUT_ID_NAMESPACE = uuid.UUID("9a3f2c1e-6b7d-4e8a-b5c4-0d1e2f3a4b5c")
_METHOD_KEYS = frozenset(
    {
        "swc_multiplier",
        "acute_multiplier",
        "default_sleep_need_hours",
        "alert_after_days",
        "lookback_days",
    }
)
_PAGE = 500
_MAX_RECORDS = 50_000
_WAITING_NODE = {"awaiting_approval": "approval_gate", "rolling_out": "monitor"}


# -- helpers ----------------------------------------------------------------------------


def _store(runtime: Runtime[RolloutContext]) -> BaseStore:
    if runtime.store is None:
        raise RuntimeError("the rollout graph needs a store; run it on the LangGraph server")
    return runtime.store


@functools.cache
def _platform() -> LangGraphClient:
    """The server's own API, in-process (no network, past auth)."""
    return get_client(api_key=None)


def _options(state: RolloutState) -> RolloutContext:
    return RolloutContext.model_validate(state.options)


def _now() -> datetime:
    return datetime.now(UTC)


def _thread_id() -> str:
    return str(get_config().get("configurable", {}).get("thread_id") or "")


def _run_assistant_id() -> str:
    return str(get_config().get("metadata", {}).get("assistant_id") or "")


async def _record(
    runtime: Runtime[RolloutContext], state: RolloutState, event: str, **fields: Any
) -> Update:
    """One decision: into the store (all of them) and the state's bounded history."""
    seq = state.seq + 1
    entry = {
        "seq": seq,
        "event": event,
        "rollout_id": state.rollout_id,
        "stage": fields.pop("stage", state.stage_index if state.stage_index >= 0 else None),
        "percent": fields.pop("percent", state.percent),
        "at": utc_now(),
        **fields,
    }
    namespace = history_namespace(str(state.assistant_id), str(state.rollout_id))
    await _store(runtime).aput(namespace, f"{seq:03d}-{event}", entry, index=False)
    return {"history": [entry], "seq": seq}


async def _update_active(
    runtime: Runtime[RolloutContext], assistant_id: str, **changes: Any
) -> dict[str, Any]:
    store = _store(runtime)
    record = {**(await read_active(store, assistant_id) or {}), **changes, "updated_at": utc_now()}
    await store.aput(rollout_namespace(assistant_id), ACTIVE_KEY, record, index=False)
    return record


async def _search_runs(
    store: BaseStore, assistant_id: str, filter: Mapping[str, Any], limit: int = _MAX_RECORDS
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < limit:
        page = await store.asearch(
            runs_namespace(assistant_id),
            filter=dict(filter),
            limit=min(_PAGE, limit - len(out)),
            offset=len(out),
        )
        out += [dict(item.value) for item in page]
        if len(page) < _PAGE:
            break
    return out


def _status_of(exc: Exception) -> int | None:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code
    return None


async def _find_assistant(sdk: LangGraphClient, ref: str) -> dict[str, Any]:
    """An assistant by id or by name; LookupError when there is none (or several)."""
    try:
        uuid.UUID(ref)
    except ValueError:
        found = [a for a in await sdk.assistants.search(name=ref, limit=100) if a["name"] == ref]
        if len(found) != 1:
            problem = "no assistant" if not found else f"{len(found)} assistants"
            raise LookupError(f"{problem} named {ref!r}") from None
        return dict(found[0])
    try:
        return dict(await sdk.assistants.get(ref))
    except httpx.HTTPStatusError as exc:
        if _status_of(exc) == 404:
            raise LookupError(f"no assistant with id {ref!r}") from None
        raise


async def _versions(sdk: LangGraphClient, assistant_id: str) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = []
    while True:
        page = await sdk.assistants.get_versions(assistant_id, limit=100, offset=len(versions))
        versions += [dict(v) for v in page]
        if len(page) < 100:
            return versions


def _side(version: Mapping[str, Any]) -> dict[str, Any]:
    context = dict(version.get("context") or {})
    return {
        "version": int(version["version"]),
        "context": context,
        "context_hash": context_hash(context),
    }


def _behaviour(version: Mapping[str, Any]) -> tuple[object, ...]:
    """What a run of this version depends on (as `auren assistants switch` compares)."""
    config = {k: v for k, v in (version.get("config") or {}).items() if k != "configurable"}
    metadata = {
        k: v
        for k, v in (version.get("metadata") or {}).items()
        if not k.startswith("auren_") and v is not None
    }
    return (
        version.get("graph_id"),
        dict(version.get("context") or {}),
        config,
        version.get("name"),
        version.get("description"),
        metadata,
    )


def _consistent(version: Mapping[str, Any]) -> bool:
    configurable = (version.get("config") or {}).get("configurable") or {}
    return bool(configurable == (version.get("context") or {}))


async def _switch(
    sdk: LangGraphClient, assistant_id: str, target_version: int, rollout_id: str
) -> int | None:
    """Make runs of the assistant behave as `target_version`: `auren assistants switch`.

    A new version copying the target whole (`set_latest` would not restore its context);
    nothing is written when the assistant already behaves as the target. Returns the new
    version's number, or None.
    """
    target = next(v for v in await _versions(sdk, assistant_id) if v["version"] == target_version)
    current: dict[str, Any] = dict(await sdk.assistants.get(assistant_id))
    if _consistent(current) and _behaviour(current) == _behaviour(target):
        return None
    metadata = {
        **(target.get("metadata") or {}),
        "auren_origin": "switch",
        "auren_restored_version": target_version,
        "auren_switched_from": current["version"],
        "auren_rollout_id": rollout_id,
    }
    # The server merges metadata into the current version's: clear what is not the target's.
    current_metadata: dict[str, Any] = dict(current.get("metadata") or {})
    cleared = {k: None for k in current_metadata if k not in metadata}
    config = {k: v for k, v in (target.get("config") or {}).items() if k != "configurable"}
    context = dict(target.get("context") or {})
    if not context:
        config["configurable"] = {}
    written = await sdk.assistants.update(
        assistant_id,
        graph_id=target["graph_id"],
        config=cast("Any", config),
        context=context,
        metadata={**cleared, **metadata},
        name=target.get("name"),
        description=target.get("description"),
    )
    return int(written["version"])


async def _ensure_cron(state: RolloutState, schedule: str) -> str:
    """The rollout's tick cron on its thread, created once (crons of older rollouts go)."""
    sdk, thread = _platform(), _thread_id()
    for cron in await sdk.crons.search(thread_id=thread, limit=100):
        if (cron.get("metadata") or {}).get("auren_rollout_id") == state.rollout_id:
            return str(cron["cron_id"])
        await sdk.crons.delete(str(cron["cron_id"]))
    # The SDK's create_for_thread has no `command`; the API keeps a cron's payload whole
    # and creates each run from it, so the ticks resume the monitoring interrupt.
    payload = {
        "assistant_id": _run_assistant_id() or "rollout",
        "schedule": schedule,
        "command": {"resume": {"action": "tick", "source": "cron"}},
        "multitask_strategy": "reject",
        "metadata": {"auren_rollout_id": state.rollout_id, "auren_kind": "rollout_tick"},
    }
    # Created outside this run's auth context: a cron runs as whoever created it, and the
    # caller's identity (a service key's) comes back without its permissions, so our auth
    # would take it for a user and refuse the rollout's thread. The server's own cron is
    # created with no identity, as a system job.
    call = sdk.http.post(f"/threads/{thread}/runs/crons", json=payload)
    created = await asyncio.create_task(call, context=contextvars.Context())
    return str(created["cron_id"])


async def _delete_crons() -> None:
    sdk, thread = _platform(), _thread_id()
    for cron in await sdk.crons.search(thread_id=thread, limit=100):
        try:
            await sdk.crons.delete(str(cron["cron_id"]))
        except httpx.HTTPStatusError as exc:
            if _status_of(exc) != 404:
                raise


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


# -- nodes --------------------------------------------------------------------------------


async def start(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Check the caller and the request, take the assistant (one active rollout each),
    start afresh."""
    require_operator(get_config(), "a rollout")
    sdk, store = _platform(), _store(runtime)
    run_id = str(get_config().get("configurable", {}).get("run_id") or uuid.uuid4())
    try:
        assistant = await _find_assistant(sdk, state.assistant)
    except LookupError as exc:
        return _refuse(state, "invalid", str(exc))
    assistant_id = str(assistant["assistant_id"])
    active = await read_active(store, assistant_id)
    last = active or {}
    # Only this very run may find its own rollout here (this node again, after a crash).
    ours = last.get("started_by_run") == run_id
    # An input key left out keeps the thread's last value: a rollout id equal to the last
    # rollout's, from another run, is that carried-over value, not a request to reuse it.
    carried = not ours and last.get("rollout_id") == state.rollout_id
    rollout_id = (None if carried else state.rollout_id) or uuid.uuid5(
        ROLLOUT_ID_NAMESPACE, run_id
    ).hex
    if last.get("status") in ACTIVE_STATUSES and not ours:
        return _refuse(
            state,
            "conflict",
            f"assistant {assistant.get('name') or assistant_id} already has an active rollout "
            f"{last['rollout_id']} ({last['status']}, {last.get('percent', 0)}% on "
            f"v{last['candidate']['version']}); approve, reject or abort it first",
        )
    if assistant["graph_id"] != ANALYSIS_GRAPH:
        graph = assistant["graph_id"]
        return _refuse(state, "invalid", f"only analysis assistants roll out, not {graph!r}")
    versions = {int(v["version"]): v for v in await _versions(sdk, assistant_id)}
    control_version = state.control_version or int(assistant["version"])
    missing = [v for v in (state.candidate_version, control_version) if v not in versions]
    if missing:
        known = ", ".join(f"v{v}" for v in sorted(versions))
        message = f"the assistant has no version {missing[0]} (it has {known})"
        return _refuse(state, "invalid", message)
    candidate, control = _side(versions[state.candidate_version]), _side(versions[control_version])
    if candidate["context_hash"] == control["context_hash"]:
        return _refuse(
            state,
            "invalid",
            f"v{state.candidate_version} and v{control_version} analyse alike: nothing to roll out",
        )
    options = runtime.context if isinstance(runtime.context, RolloutContext) else RolloutContext()
    fresh: Update = {
        "rollout_id": rollout_id,
        "control_version": control_version,
        "assistant_id": assistant_id,
        "assistant_name": str(assistant.get("name") or assistant_id),
        "graph_id": str(assistant["graph_id"]),
        "options": options.model_dump(mode="json"),
        "candidate": candidate,
        "control": control,
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
    }
    record = {
        "rollout_id": rollout_id,
        "assistant_id": assistant_id,
        "assistant_name": fresh["assistant_name"],
        "thread_id": _thread_id(),
        "status": "planning",
        "stage_index": -1,
        "percent": 0,
        "stages": options.stages,
        "candidate": candidate,
        "control": control,
        "requested_by": state.requested_by,
        "started_by_run": run_id,
        "started_at": utc_now(),
        "updated_at": utc_now(),
        "plan": None,
        "reason": None,
    }
    await store.aput(rollout_namespace(assistant_id), ACTIVE_KEY, record, index=False)
    return fresh


async def collect_metrics(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Each version's metrics from earlier runs recorded for this assistant (any rollout)."""
    options, store, now = _options(state), _store(runtime), time.time()
    baseline: dict[str, Any] = {}
    for side in ("candidate", "control"):
        behaviour = getattr(state, side)["context_hash"]
        records = (
            await _search_runs(
                store, str(state.assistant_id), {"context_hash": behaviour}, options.baseline_runs
            )
            if options.baseline_runs
            else []
        )
        metrics = summarize(records, now=now, failure_timeout=options.failure_timeout_seconds)
        baseline[side] = metrics.to_dict()
    return {"baseline": baseline}


async def analyze(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """The candidate against control: what changes, and what earlier runs already say."""
    options = _options(state)
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
    options = _options(state)
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
        "thresholds": {
            name: options.threshold(name)
            for name in ("success", "narrative", "latency", "alerts", "feedback")
        },
        "tick_seconds": options.tick_seconds,
        "approval_required": options.approval_required,
        "shortest_duration_seconds": options.window_seconds * len(options.stages),
        "analysis": state.analysis,
        "baseline": state.baseline,
    }
    status = "awaiting_approval" if options.approval_required else "planning"
    await _update_active(runtime, str(state.assistant_id), status=status, plan=plan)
    entry = await _record(
        runtime, state, "proposed", summary=state.analysis.get("summary"), plan=plan
    )
    return {"plan": plan, "status": status, **entry}


async def approval_gate(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Wait for the operator: `{"decision": "approve"|"reject", "by": ..., "at": ...}`."""
    require_operator(get_config(), "approving a rollout")
    if not _options(state).approval_required:
        approval = {"decision": "approve", "by": "auto (approval not required)", "at": utc_now()}
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
        if decision not in ("approve", "reject"):
            return {"approval": None, "error": None}  # not an answer to this gate: wait on
        approval = {
            "decision": decision,
            "by": str(answer.get("by") or "unknown"),
            "at": str(answer.get("at") or utc_now()),
            "reason": answer.get("reason"),
        }
    event = "approved" if approval["decision"] == "approve" else "rejected"
    entry = await _record(
        runtime, state, event, by=approval["by"], reason=approval.get("reason"), verdict=event
    )
    return {"approval": approval, "error": None, **entry}


async def reject(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Rejected at the gate: nothing was assigned; the assistant is untouched."""
    approval = state.approval or {}
    reason = f"rejected by {approval.get('by', 'unknown')}" + (
        f": {approval['reason']}" if approval.get("reason") else ""
    )
    await _update_active(runtime, str(state.assistant_id), status="rejected", reason=reason)
    return {"status": "rejected", "reason": reason}


async def assign(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Start the next stage: its percentage of users (lowest buckets) get the candidate."""
    options = _options(state)
    index = state.stage_index + 1
    percent = options.stages[index]
    begins = _now()
    ends = begins + timedelta(seconds=options.window_seconds)
    window = {
        "window_started_at": begins.isoformat(timespec="seconds"),
        "window_ends_at": ends.isoformat(timespec="milliseconds"),
    }
    await _update_active(
        runtime,
        str(state.assistant_id),
        status="rolling_out",
        stage_index=index,
        percent=percent,
        **window,
    )
    await _ensure_cron(state, options.tick_schedule())
    observability.ROLLOUT_STAGE.labels(state.assistant_name).set(percent)
    entry = await _record(runtime, state, "stage_started", stage=index, percent=percent, **window)
    return {
        "status": "rolling_out",
        "stage_index": index,
        "percent": percent,
        "window_closed": False,
        "verdict": None,
        "abort": None,
        **window,
        **entry,
    }


async def monitor(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Wait for the window to end: a tick from the cron after `window_ends_at`, an
    explicit `{"action": "advance"}`, or `{"action": "abort"}`."""
    require_operator(get_config(), "a rollout's monitoring")
    answer = interrupt(
        {
            "kind": "monitor",
            "rollout_id": state.rollout_id,
            "stage": state.stage_index,
            "percent": state.percent,
            "window_ends_at": state.window_ends_at,
            "resume_with": {"action": "tick | advance | abort", "by": "who", "reason": "why"},
        }
    )
    action = answer.get("action") if isinstance(answer, Mapping) else None
    if action == "abort" and isinstance(answer, Mapping):
        by = str(answer.get("by") or "unknown")
        reason = f"aborted by {by}" + (f": {answer['reason']}" if answer.get("reason") else "")
        return {"abort": {"by": by, "at": utc_now(), "reason": reason}, "error": None}
    if action == "advance":
        return {"window_closed": True, "error": None}
    due = datetime.fromisoformat(str(state.window_ends_at))
    return {"window_closed": action == "tick" and _now() >= due, "error": None}


async def decide(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Judge the stage: this stage's candidate runs against control's, guardrail by guardrail."""
    options, store, now = _options(state), _store(runtime), time.time()
    assistant_id, rollout_id = str(state.assistant_id), str(state.rollout_id)
    records = await _search_runs(store, assistant_id, {"rollout_id": rollout_id})
    candidate = [
        r for r in records if r.get("cohort") == "candidate" and r.get("stage") == state.stage_index
    ]
    control = [r for r in records if r.get("cohort") == "control"]
    window = {"now": now, "failure_timeout": options.failure_timeout_seconds}
    control_metrics = summarize(control, **window)
    if control_metrics.runs < options.min_sample and options.baseline_runs:
        # At 100% nobody is on control any more: earlier runs of its version count too.
        behaviour = {"context_hash": state.control["context_hash"]}
        earlier = await _search_runs(store, assistant_id, behaviour, options.baseline_runs)
        control_metrics = summarize(
            control + [r for r in earlier if r.get("rollout_id") != rollout_id], **window
        )
    verdict = evaluate(summarize(candidate, **window), control_metrics, options)
    event = "stage_passed" if verdict.passed else "stage_failed"
    entry = await _record(
        runtime,
        state,
        event,
        verdict="pass" if verdict.passed else "fail",
        reason=verdict.reason,
        metrics=verdict.to_dict(),
    )
    return {"verdict": verdict.to_dict(), **entry}


async def complete(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Every stage passed: the candidate becomes the assistant's latest version."""
    version = await _switch(
        _platform(), str(state.assistant_id), int(state.candidate["version"]), str(state.rollout_id)
    )
    reason = f"all {len(_options(state).stages)} stages passed; v{state.candidate['version']} " + (
        f"is now the assistant (as v{version})" if version else "was already the assistant"
    )
    await _update_active(
        runtime, str(state.assistant_id), status="completed", percent=100, reason=reason
    )
    await _delete_crons()
    observability.ROLLOUT_STAGE.labels(state.assistant_name).set(100)
    entry = await _record(runtime, state, "completed", reason=reason, new_version=version)
    return {"status": "completed", "percent": 100, "reason": reason, **entry}


async def roll_back(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """A stage failed (or an operator aborted): everyone back on control, and the
    assistant's latest version behaves as control again."""
    if state.abort:
        reason = str(state.abort["reason"])
    else:
        verdict = state.verdict or {}
        reason = f"stage {state.stage_index + 1} ({state.percent}%) failed: {verdict.get('reason')}"
    assistant_id = str(state.assistant_id)
    # Everyone resolves to control at once, before the assistant itself is switched.
    await _update_active(runtime, assistant_id, percent=0)
    version = await _switch(
        _platform(), assistant_id, int(state.control["version"]), str(state.rollout_id)
    )
    await _update_active(runtime, assistant_id, status="rolled_back", reason=reason)
    await _delete_crons()
    observability.ROLLOUT_STAGE.labels(state.assistant_name).set(0)
    entry = await _record(
        runtime, state, "rolled_back", reason=reason, new_version=version, verdict="rollback"
    )
    return {"status": "rolled_back", "percent": 0, "reason": reason, **entry}
