"""The analysis graph's nodes: small async functions returning partial updates."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from langgraph.config import get_config, get_stream_writer
from langgraph.runtime import Runtime

from auren_contract import ANALYSIS_GRAPH, findings_namespace
from auren_graphs import observability
from auren_graphs.analysis import method
from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.analysis.findings import Finding, insight_findings
from auren_graphs.analysis.latest import analyzer_findings
from auren_graphs.analysis.narrative import (
    MODEL_BREAKER,
    chunk_text,
    deterministic_narrative,
    freshness,
    messages,
    stale_wording,
    unsupported_numbers,
)
from auren_graphs.analysis.series import read_rows, sdnn_summary, to_records
from auren_graphs.analysis.state import AnalysisState
from auren_graphs.assignment import finished, run_record, version_for_run, write_run_record
from auren_graphs.identity import IdentityError, serving_user
from auren_graphs.settings import get_settings

Update = dict[str, Any]
Assessor = Callable[[method.Series, method.MethodOptions], list[dict[str, Any]]]


def _context(
    runtime: Runtime[AnalysisContext], state: AnalysisState | None = None
) -> AnalysisContext:
    """The run's options: the version chosen for the user (a rollout's, or the default
    assistant's), else the run's own context."""
    if state is not None and state.version_context is not None:
        return AnalysisContext.model_validate(state.version_context)
    return runtime.context if isinstance(runtime.context, AnalysisContext) else AnalysisContext()


def _store(runtime: Runtime[AnalysisContext]) -> Any:
    if runtime.store is None:
        raise RuntimeError("the analysis graph needs a store; run it on the LangGraph server")
    return runtime.store


async def _user(state: AnalysisState) -> str:
    """Whom the run serves: the authenticated caller (`auren_graphs.identity`)."""
    return await serving_user(get_config(), state.user_id, graph=ANALYSIS_GRAPH)


async def load_series(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Find whom the run serves, resolve their version (a rollout may assign one), read
    the daily series and start a fresh analysis."""
    user = await _user(state)
    rollout = await _resolve_version(user, runtime)
    assigned = rollout["version_context"]
    context = _context(runtime) if assigned is None else AnalysisContext.model_validate(assigned)
    as_of = state.as_of or datetime.now(UTC).date()
    rows = await read_rows(_store(runtime), user, as_of, context.lookback_days)
    records, devices = to_records(rows)
    get_stream_writer()({"event": "progress", "stage": "load_series", "days": len(records)})
    return {
        "user_id": user,
        "records": records,
        "devices": devices,
        "hrv_sdnn": sdnn_summary(rows),
        "as_of": as_of,
        "findings": None,
        "results": None,
        "confidences": None,
        "assessment": {},
        "narrative": "",
        "narrative_source": "",
        "fallback_reason": None,
        # Written, not left to the field's default: only written channels reach the
        # run's output, and a result must say which method made it.
        "method_version": method.METHOD_VERSION,
        **rollout,
    }


async def _resolve_version(user: str, runtime: Runtime[AnalysisContext]) -> Update:
    """The version this run uses (`auren_graphs.assignment`): a rollout's assignment, the
    default analysis assistant's current version for a run of the bare graph, else the
    run's own context. Under a rollout, a run record is started for its guardrails."""
    metadata = get_config().get("metadata") or {}
    found = await version_for_run(_store(runtime), metadata.get("assistant_id"), user)
    resolution, context = found.resolution, found.context
    if resolution is None and context is not None:
        # The default assistant stands in for the bare graph: options the caller set on
        # this run still apply over its version's.
        context = {**context, **_options_set(runtime)}
    chosen: Update = {"assistant_id": found.assistant_id, "version_context": context}
    if resolution is None or found.assistant_id is None:
        none: Update = {"assistant_version": None, "cohort": None, "rollout_id": None}
        return {**chosen, **none, "run_record": None}
    run_id = str(metadata.get("run_id") or uuid.uuid4())
    record = run_record(
        resolution,
        assistant_id=found.assistant_id,
        run_id=run_id,
        user_id=user,
        started_at=time.time(),
    )
    await write_run_record(_store(runtime), record)
    return {
        **chosen,
        "assistant_version": resolution.version,
        "cohort": resolution.cohort,
        "rollout_id": resolution.rollout_id,
        "run_record": record,
    }


def _options_set(runtime: Runtime[AnalysisContext]) -> dict[str, Any]:
    """The context options this run's caller set explicitly (not the defaults)."""
    context = runtime.context
    if not isinstance(context, AnalysisContext):
        return {}
    return context.model_dump(mode="json", include=context.model_fields_set)


async def _analyze(
    name: str, assess: Assessor, state: AnalysisState, runtime: Runtime[AnalysisContext]
) -> Update:
    options = _context(runtime, state).method_options()
    series = method.prepare(state.records)
    rows = assess(series, options)
    # Each finding describes the newest day of its analyzer's own data (see latest.py).
    found = analyzer_findings(
        name, series, rows, options, inputs=state.devices, hrv_sdnn=state.hrv_sdnn
    )
    write = get_stream_writer()
    for item in found:
        write({"event": "finding", "finding": item})
    write({"event": "progress", "stage": "analyzer", "analyzer": name, "findings": len(found)})
    confidence = min((f["confidence"] for f in found), default=0.0)
    return {
        "results": {name: rows[-1] if rows else {}},
        "findings": found,
        "confidences": [{"analyzer": name, "confidence": confidence}],
    }


async def analyze_hrv(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """HRV: 7-day lnRMSSD against the 60-day normal range."""
    return await _analyze("hrv", method.assess_hrv, state, runtime)


async def analyze_rhr(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Resting heart rate against its normal range."""
    return await _analyze("rhr", method.assess_rhr, state, runtime)


async def analyze_sleep(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Sleep duration, debt and balance."""
    return await _analyze("sleep", method.assess_sleep, state, runtime)


async def analyze_training(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Foster training monotony and strain."""
    return await _analyze("training", method.assess_training, state, runtime)


async def analyze_bands(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Vendor score bands (WHOOP recovery and strain, Oura readiness)."""
    return await _analyze("bands", method.assess_bands, state, runtime)


async def compose(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Combine the analyzers' fields into composite insights; remember the findings."""
    if not state.records:  # nothing to combine; an SDNN-only user's HRV finding is kept
        await _remember(runtime, await _user(state), state.findings)
        return {}
    row: dict[str, Any] = {"day": state.records[-1]["day"]}
    for part in state.results.values():
        row.update(part)
    row.update(method.insights(row))
    composite = insight_findings(row)
    write = get_stream_writer()
    for item in composite:
        write({"event": "finding", "finding": item})
    await _remember(runtime, await _user(state), [*state.findings, *composite])
    return {"findings": composite, "assessment": row}


async def _remember(
    runtime: Runtime[AnalysisContext], user_id: str, findings: list[Finding]
) -> None:
    """Keep findings in the user's long-term memory, one item per day and finding."""
    store = _store(runtime)
    namespace = findings_namespace(user_id)
    for item in findings:
        text = f"{item['title']}. {item['summary']}"
        await store.aput(
            namespace, f"{item['day']}:{item['id']}", {**item, "text": text}, index=False
        )


@observability.counts_analysis
async def narrate(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """The model's narrative when configured and healthy; the deterministic one otherwise."""
    context = _context(runtime, state)
    reason = _model_unavailable()
    if reason is None:
        try:
            text = await _model_narrative(state, context)
            MODEL_BREAKER.record(ok=True)
            fresh = freshness(state.findings, state.as_of)
            bad = unsupported_numbers(text, state.findings, fresh)
            reason = stale_wording(text, fresh)
            if bad:
                reason = f"the model wrote numbers no finding states: {', '.join(bad[:5])}"
            if reason is None:
                return {"narrative": text, "narrative_source": "model", "fallback_reason": None}
        except Exception as exc:  # any model failure falls back; the findings stand
            MODEL_BREAKER.record(ok=False)
            reason = f"the model failed: {type(exc).__name__}: {str(exc)[:200]}"
    text = deterministic_narrative(state.findings, context.style, state.as_of)
    write = get_stream_writer()
    for chunk in chunk_text(text):
        write({"event": "token", "text": chunk, "source": "deterministic"})
    return {"narrative": text, "narrative_source": "deterministic", "fallback_reason": reason}


def _model_unavailable() -> str | None:
    if not get_settings().openai_api_key:
        return "no model configured (OPENAI_API_KEY is not set)"
    if not MODEL_BREAKER.allows():
        return "the model's circuit breaker is open after repeated failures"
    return None


async def _model_narrative(state: AnalysisState, context: AnalysisContext) -> str:
    # Imported here: it costs about a second, which every server start (and so the
    # recovery after a crash) would pay; the HTTP app warms it up once the server is up.
    from langchain_openai import ChatOpenAI

    settings = get_settings()
    model = ChatOpenAI(
        model=context.model,
        temperature=context.temperature,
        timeout=context.model_timeout_seconds,
        max_retries=context.model_max_retries,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,  # type: ignore[arg-type]
        streaming=True,
    ).with_config(tags=["narrative"])
    prompt = messages(state.request, state.findings, context.style, context.language, state.as_of)
    budget = context.model_timeout_seconds * (context.model_max_retries + 1) + 5
    parts: list[str] = []
    # Each token goes out as the same custom event the deterministic narrative uses, so
    # clients read one stream vocabulary and never this graph's node names.
    write = get_stream_writer()
    async with asyncio.timeout(budget):
        async for chunk in model.astream(prompt):
            if text := str(chunk.content):
                parts.append(text)
                write({"event": "token", "text": text, "source": "model"})
    return "".join(parts)


async def record_run(state: AnalysisState, runtime: Runtime[AnalysisContext]) -> Update:
    """Under a rollout: finish this run's guardrail record (outcome, fallback, latency, alerts)."""
    record = state.run_record
    if record is None:
        return {}
    if record.get("user_id") != await _user(state):
        raise IdentityError("this run's record belongs to another user")
    reason = state.fallback_reason
    # Running without a model is how the server is configured, not a fallback.
    fallback = state.narrative_source != "model" and not (
        reason and observability.fallback_class(reason) == "not_configured"
    )
    alerts = sum(1 for f in state.findings if f.get("severity") == "alert")
    await write_run_record(_store(runtime), finished(record, fallback=fallback, alerts=alerts))
    return {"run_record": None}
