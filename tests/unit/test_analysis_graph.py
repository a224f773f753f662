"""The analysis graph in-process, with in-memory saver and store."""

from __future__ import annotations

import math
import operator
import uuid
from datetime import date, timedelta
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.store.memory import InMemoryStore

from auren_graphs.analysis.graph import builder
from auren_graphs.analysis.state import append_or_reset, merge_results
from auren_graphs.canonical import Observation
from auren_graphs.ingestion.storage import write_observations
from tests.unit.conftest import as_user

END_DAY = date(2026, 11, 20)


def history(days: int, *, drop_last: int = 0) -> list[Observation]:
    out = []
    for n in range(days):
        day = END_DAY - timedelta(days=days - 1 - n)
        rmssd = 40.0 if n >= days - drop_last else (50.0 if n % 2 else 70.0)
        out += [
            Observation("hrv_rmssd", rmssd, day, "oura", f"o:{day}:hrv"),
            Observation("resting_heart_rate", 52.0 + n % 3, day, "oura", f"o:{day}:rhr"),
            Observation("sleep_duration", 6.5 * 3600, day, "oura", f"o:{day}:sleep"),
            Observation("readiness_score", 72.0, day, "oura", f"o:{day}:ready"),
        ]
    return out


async def seeded(observations: list[Observation], user: str = "u") -> InMemoryStore:
    store = InMemoryStore()
    await write_observations(store, user, observations)
    return store


async def run(store: InMemoryStore, thread: str | None = None, **context: Any) -> dict[str, Any]:
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user("u", "analysis", thread or str(uuid.uuid4()))
    return await graph.ainvoke(
        {"user_id": "u", "as_of": END_DAY.isoformat()}, config, context=context or None
    )


async def test_sustained_drop_gives_hrv_findings_and_deterministic_narrative() -> None:
    out = await run(await seeded(history(40, drop_last=7)))
    ids = {f["id"] for f in out["findings"]}
    assert {
        "hrv_status",
        "rhr_status",
        "sleep_debt",
        "readiness_band",
        "insight_recovery_suppressed",
    } <= ids
    hrv = next(f for f in out["findings"] if f["id"] == "hrv_status")
    assert hrv["values"]["status"] == "below_normal"
    assert hrv["grade"] == "P"
    assert out["assessment"]["hrv_status"] == "below_normal"
    assert out["narrative_source"] == "deterministic"
    assert "OPENAI_API_KEY" in out["fallback_reason"]
    assert "HRV" in out["narrative"]


async def test_engineering_rules_are_never_called_scientific() -> None:
    out = await run(await seeded(history(40, drop_last=7)), alert_after_days=2)
    alert = next(f for f in out["findings"] if f["id"] == "hrv_alert")
    assert alert["grade"] == "E"
    assert "not a published rule" in alert["grade_words"]
    assert "not a published rule" in out["narrative"]


async def test_sdnn_is_never_used_as_rmssd() -> None:
    day = END_DAY
    sdnn = [
        Observation("hrv_sdnn", 45.0, day - timedelta(days=n), "apple_health", f"a{n}")
        for n in range(40)
    ]
    out = await run(await seeded(sdnn))
    assert out["findings"] == []
    assert "no data" in out["narrative"].lower()


async def test_state_stays_bounded_over_repeated_questions() -> None:
    store = await seeded(history(35))
    thread = str(uuid.uuid4())
    first = await run(store, thread)
    for _ in range(3):
        again = await run(store, thread)
    assert len(again["findings"]) == len(first["findings"])


async def test_findings_are_remembered_in_the_store() -> None:
    store = await seeded(history(35))
    out = await run(store)
    remembered = await store.asearch(("users", "u", "findings"), limit=100)
    assert {i.value["id"] for i in remembered} == {f["id"] for f in out["findings"]}


async def test_progress_event_per_analyzer() -> None:
    graph = builder.compile(checkpointer=InMemorySaver(), store=await seeded(history(35)))
    config = as_user("u", "analysis", "t")
    events = [
        e
        async for e in graph.astream(
            {"user_id": "u", "as_of": END_DAY.isoformat()}, config, stream_mode="custom"
        )
    ]
    analyzers = [e["analyzer"] for e in events if e.get("stage") == "analyzer"]
    assert sorted(analyzers) == ["bands", "hrv", "rhr", "sleep", "training"]
    assert any(e["event"] == "token" for e in events)


async def test_swc_multiplier_option_changes_the_band() -> None:
    store = await seeded(history(40))
    narrow = (await run(store))["assessment"]
    wide = (await run(store, swc_multiplier=1.0))["assessment"]
    assert math.isclose(
        wide["hrv_band_high"] - wide["hrv_band_low"],
        2 * (narrow["hrv_band_high"] - narrow["hrv_band_low"]),
        rel_tol=1e-3,
    )


class _Parallel(TypedDict):
    results: Annotated[dict[str, Any], merge_results]
    findings: Annotated[list[Any], append_or_reset]
    seen: Annotated[list[str], operator.add]


@pytest.mark.parametrize("branches", [2, 5, 12])
async def test_reducers_merge_parallel_writes_to_the_same_keys(branches: int) -> None:
    graph = StateGraph(_Parallel)
    names = [f"b{n}" for n in range(branches)]
    for name in names:
        graph.add_node(
            name, lambda s, name=name: {"results": {name: 1}, "findings": [name], "seen": [name]}
        )
        graph.add_edge(START, name)
        graph.add_edge(name, END)
    out = await graph.compile().ainvoke({"results": {}, "findings": [], "seen": []})
    assert set(out["results"]) == set(names)
    assert sorted(out["findings"]) == sorted(names)


def test_reset_markers() -> None:
    assert merge_results({"a": 1}, None) == {}
    assert append_or_reset([1], None) == []
    assert append_or_reset([1], [2]) == [1, 2]
