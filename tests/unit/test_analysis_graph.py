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
from tests.support.identity import as_user

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


def apple(days: int, *, with_others: bool = True) -> list[Observation]:
    """Apple Health as it arrives: SDNN spot checks (several a day), resting HR, sleep."""
    out = []
    for n in range(days):
        day = END_DAY - timedelta(days=n)
        out += [
            Observation("hrv_sdnn", 40.0 + k, day, "apple_health", f"a:{day}:sdnn{k}")
            for k in range(3)
        ]
        if with_others:
            out += [
                Observation("resting_heart_rate", 55.0, day, "apple_health", f"a:{day}:rhr"),
                Observation("sleep_duration", 7.2 * 3600, day, "apple_health", f"a:{day}:s"),
            ]
    return out


async def test_sdnn_is_never_used_as_rmssd() -> None:
    out = await run(await seeded(apple(40, with_others=False)))
    assert [f["id"] for f in out["findings"]] == ["hrv_not_analysed"]
    assert "ln_rmssd" not in out["assessment"]
    assert out["devices"] == {}
    assert "SDNN" in out["narrative"]
    assert "not enough" not in out["narrative"].lower()


async def test_an_sdnn_only_user_is_told_why_hrv_is_not_analysed_and_what_is() -> None:
    store = await seeded(apple(40))
    out = await run(store)
    ids = [f["id"] for f in out["findings"]]
    assert "hrv_status" not in ids
    assert "rhr_status" in ids and "sleep_duration" in ids
    why = next(f for f in out["findings"] if f["id"] == "hrv_not_analysed")
    assert "not comparable with the overnight rMSSD baseline" in why["summary"]
    assert "Analysed instead: resting heart rate, sleep." in why["summary"]
    assert why["values"]["sdnn_days"] == 40
    assert why["day"] == END_DAY.isoformat()
    assert why["grade"] == "P" and "Task Force" in why["source"]
    assert "not comparable" in out["narrative"]
    assert "not enough hrv" not in out["narrative"].lower()
    remembered = await store.asearch(("users", "u", "findings"), limit=100)
    assert "hrv_not_analysed" in {i.value["id"] for i in remembered}


async def test_an_sdnn_only_user_with_nothing_else_is_told_nothing_else_is_analysed_yet() -> None:
    out = await run(await seeded(apple(3, with_others=False)))
    (why,) = out["findings"]
    assert "Nothing else is analysed yet" in why["summary"]
    assert why["values"]["sdnn_days"] == 3


async def test_rmssd_wins_over_sdnn_when_both_are_there() -> None:
    out = await run(await seeded([*history(40), *apple(40, with_others=False)]))
    ids = {f["id"] for f in out["findings"]}
    assert "hrv_status" in ids and "hrv_not_analysed" not in ids


async def test_each_finding_describes_the_newest_day_of_its_own_data() -> None:
    # HRV stopped arriving five days before the last sleep night; readiness ten days before.
    observations = [
        o
        for o in history(45)
        if not (o.metric == "hrv_rmssd" and o.day > END_DAY - timedelta(days=5))
        and not (o.metric == "readiness_score" and o.day > END_DAY - timedelta(days=10))
    ]
    out = await run(await seeded(observations))
    days = {f["id"]: f["day"] for f in out["findings"]}
    assert days["hrv_status"] == (END_DAY - timedelta(days=5)).isoformat()
    assert days["readiness_band"] == (END_DAY - timedelta(days=10)).isoformat()
    assert days["sleep_debt"] == days["rhr_status"] == END_DAY.isoformat()
    hrv = next(f for f in out["findings"] if f["id"] == "hrv_status")
    assert hrv["values"]["status"] != "insufficient_data"  # reported as of its own day
    # The composites and the assessment describe the newest day of any input.
    assert out["assessment"]["hrv_n7"] == 2  # only 2 HRV days left in the newest week
    composite = [f for f in out["findings"] if f["analyzer"] == "composite"]
    assert composite and {f["day"] for f in composite} == {END_DAY.isoformat()}
    # A finding's words never say "today": they name the day they describe.
    for f in out["findings"]:
        assert "today" not in f"{f['title']} {f['summary']}".lower(), f
        assert f["day"] in f["summary"] or f["id"] in {
            "hrv_status",
            "rhr_status",
            "sleep_debt",
            "sleep_duration",
            "training_monotony",
            "hrv_trend",
            "hrv_alert",
        }


async def test_the_narrative_names_the_day_and_says_today_only_when_it_is() -> None:
    store = await seeded(history(40))
    fresh = await run(store)
    assert f"Today, {END_DAY.isoformat()}:" in fresh["narrative"]
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user("u", "analysis", str(uuid.uuid4()))
    later = END_DAY + timedelta(days=1)
    out = await graph.ainvoke({"user_id": "u", "as_of": later.isoformat()}, config)
    assert f"Yesterday, {END_DAY.isoformat()}:" in out["narrative"]
    assert "today" not in out["narrative"].lower()


async def test_stale_data_is_narrated_as_of_its_day_with_its_age_never_as_today() -> None:
    store = await seeded(history(40, drop_last=7))
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    as_of = END_DAY + timedelta(days=9)
    out = await graph.ainvoke(
        {"user_id": "u", "as_of": as_of.isoformat()}, as_user("u", "analysis", "t")
    )
    assert out["findings"]
    assert {f["day"] for f in out["findings"]} == {END_DAY.isoformat()}
    assert out["narrative"].startswith(
        f"As of {END_DAY.isoformat()} (9 days old on {as_of.isoformat()}, nothing newer):"
    )
    assert "today" not in out["narrative"].lower()


@pytest.mark.parametrize(
    ("reply", "source", "reason"),
    [
        ("Your HRV is below your normal range today.", "deterministic", "'today'"),
        ("Your HRV is below your normal range.", "deterministic", "does not name the day"),
        (
            "As of 2026-11-20, 9 days old, your 7-day HRV average was below your normal range.",
            "model",
            None,
        ),
    ],
)
async def test_a_model_narrative_of_stale_data_must_say_as_of_and_not_today(
    monkeypatch: pytest.MonkeyPatch, reply: str, source: str, reason: str | None
) -> None:
    from auren_graphs.analysis import nodes

    prompts: list[Any] = []

    async def model(state: Any, context: Any) -> str:
        prompts.append(
            nodes.messages(state.request, state.findings, "concise", "English", state.as_of)
        )
        return reply

    monkeypatch.setattr(nodes, "_model_unavailable", lambda: None)
    monkeypatch.setattr(nodes, "_model_narrative", model)
    store = await seeded(history(40, drop_last=7))
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    as_of = END_DAY + timedelta(days=9)
    out = await graph.ainvoke(
        {"user_id": "u", "as_of": as_of.isoformat()}, as_user("u", "analysis", "t")
    )
    assert out["narrative_source"] == source
    if reason is None:
        assert out["narrative"] == reply and out["fallback_reason"] is None
    else:
        assert reason in out["fallback_reason"]
        assert "today" not in out["narrative"].lower()
    human = prompts[0][1][1]
    assert f'Say "as of {END_DAY.isoformat()}" and that the data is 9 days old' in human
    assert f'"day": "{END_DAY.isoformat()}"' in human


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
