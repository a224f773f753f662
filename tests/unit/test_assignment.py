"""Buckets, cohorts, version resolution, the default analysis assistant, and the analysis
graph following a rollout (`auren_graphs.assignment`, which analysis and rollout share)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from auren_contract import active_rollouts_namespace, assistant_id, rollout_runs_namespace
from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.analysis.graph import builder as analysis_builder
from auren_graphs.assignment import (
    DEFAULT_ANALYSIS_ASSISTANT,
    PLATFORM_ASSISTANT_NAMESPACE,
    bucket,
    cohort_of,
    finished,
    platform_assistant_id,
    record_namespaces,
    resolve,
    run_record,
    write_run_record,
)
from auren_graphs.rollout.records import context_hash
from tests.support.identity import as_user
from tests.unit.test_analysis_graph import END_DAY, history, seeded

ROLLOUT = "r-3f9c"
CONTROL = {"swc_multiplier": 0.5}
CANDIDATE = {"swc_multiplier": 1.0}


def active(percent: int, status: str = "rolling_out", rollout_id: str = ROLLOUT) -> dict[str, Any]:
    return {
        "rollout_id": rollout_id,
        "status": status,
        "stage_index": 1,
        "percent": percent,
        "candidate": {"version": 2, "context": CANDIDATE, "context_hash": context_hash(CANDIDATE)},
        "control": {"version": 1, "context": CONTROL, "context_hash": context_hash(CONTROL)},
    }


# -- buckets ---------------------------------------------------------------------------------


def test_bucket_is_stable_across_calls_and_processes() -> None:
    # Pinned: a changed hash would move users between versions in the middle of a rollout.
    assert bucket("user-alice", "r-1") == bucket("user-alice", "r-1") == 21
    assert [bucket(f"u{i}", "r-1") for i in range(5)] == [87, 40, 53, 62, 37]
    # Another interpreter with another hash seed agrees (no use of hash()).
    code = "from auren_graphs.assignment import bucket; print(bucket('user-alice', 'r-1'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "21", out.stderr


def test_bucket_depends_on_the_rollout_too() -> None:
    users = [f"u{i}" for i in range(200)]
    first = [bucket(u, "r-1") for u in users]
    second = [bucket(u, "r-2") for u in users]
    assert sum(a == b for a, b in zip(first, second, strict=True)) < 10  # ~2 by chance


def test_buckets_are_uniform() -> None:
    n = 20_000
    counts = Counter(bucket(f"user-{uuid.UUID(int=i)}", ROLLOUT) for i in range(n))
    assert set(counts) == set(range(100))
    expected = n / 100
    chi2 = sum((counts[b] - expected) ** 2 / expected for b in range(100))
    assert chi2 < 150  # 99 degrees of freedom: p ~ 0.001 at 148
    below_10 = sum(counts[b] for b in range(10)) / n
    assert math.isclose(below_10, 0.10, abs_tol=0.01)


def test_candidates_only_grow_from_stage_to_stage() -> None:
    users = [f"u{i}" for i in range(2000)]
    at = {p: {u for u in users if cohort_of(u, ROLLOUT, p) == "candidate"} for p in (10, 50, 100)}
    assert at[10] <= at[50] <= at[100] == set(users)
    assert not {u for u in users if cohort_of(u, ROLLOUT, 0) == "candidate"}


# -- resolution ---------------------------------------------------------------------------------


def test_resolution_follows_only_a_rolling_out_rollout() -> None:
    assert resolve(None, "u1") is None
    for status in ("planning", "awaiting_approval", "completed", "rolled_back", "rejected"):
        assert resolve(active(100, status), "u1") is None
    everyone = resolve(active(100), "u1")
    assert everyone is not None
    assert (everyone.cohort, everyone.version, everyone.context) == ("candidate", 2, CANDIDATE)
    nobody = resolve(active(0), "u1")
    assert nobody is not None
    assert (nobody.cohort, nobody.version, nobody.stage) == ("control", 1, 1)


def test_context_hash_is_the_behaviour_not_the_spelling() -> None:
    assert context_hash({}) == context_hash(AnalysisContext().model_dump())
    assert context_hash({"swc_multiplier": 0.5}) == context_hash({})
    assert context_hash(CANDIDATE) != context_hash(CONTROL)


def test_run_record_lifecycle() -> None:
    resolution = resolve(active(100), "u1")
    assert resolution is not None
    record = run_record(
        resolution, assistant_id="a", run_id="run-1", user_id="u1", started_at=100.0
    )
    assert record["ok"] is None and record["cohort"] == "candidate" and record["version"] == 2
    done = finished(record, fallback=True, alerts=2, now=101.5)
    assert (done["ok"], done["fallback"], done["alerts"], done["latency_seconds"]) == (
        True,
        True,
        2,
        1.5,
    )


# -- the analysis graph under a rollout ---------------------------------------------------------


def user_in(cohort: str, percent: int) -> str:
    return next(u for i in range(1000) if cohort_of(u := f"u{i}", ROLLOUT, percent) == cohort)


async def analyse(
    store: InMemoryStore, user: str, assistant: str | None, **context: Any
) -> dict[str, Any]:
    graph = analysis_builder.compile(checkpointer=InMemorySaver(), store=store)
    config: dict[str, Any] = as_user(user, "analysis", str(uuid.uuid4()))
    if assistant:
        config["metadata"] = {"assistant_id": assistant, "run_id": str(uuid.uuid4())}
    run_input = {"user_id": user, "as_of": END_DAY.isoformat()}
    return await graph.ainvoke(run_input, config, context=context or None)


def band(out: dict[str, Any]) -> float:
    return float(out["assessment"]["hrv_band_high"] - out["assessment"]["hrv_band_low"])


@pytest.mark.parametrize("cohort", ["candidate", "control"])
async def test_the_analysis_uses_the_assigned_version_and_records_the_run(cohort: str) -> None:
    user = user_in(cohort, 50)
    store = await seeded(history(40, drop_last=7), user=user)
    await store.aput(active_rollouts_namespace(), "asst-1", active(50))
    out = await analyse(store, user, "asst-1")
    assert (out["cohort"], out["rollout_id"]) == (cohort, ROLLOUT)
    assert out["assistant_version"] == (2 if cohort == "candidate" else 1)
    plain = await analyse(store, user, None)  # no assistant in the run: its own context
    assert plain["cohort"] is plain["assistant_version"] is None
    wide = cohort == "candidate"  # swc 1.0 doubles the band of 0.5
    assert math.isclose(band(out), band(plain) * (2 if wide else 1), rel_tol=1e-3)
    records = await store.asearch(rollout_runs_namespace("asst-1"), limit=10)
    assert len(records) == 1
    record = records[0].value
    assert record["ok"] is True and record["cohort"] == cohort and record["user_id"] == user
    assert record["latency_seconds"] >= 0 and record["stage"] == 1
    assert record["alerts"] == sum(1 for f in out["findings"] if f["severity"] == "alert")
    assert record["fallback"] is False  # no model configured is not a fallback


async def test_no_rollout_no_record_and_the_runs_own_context() -> None:
    store = await seeded(history(40), user="u1")
    await store.aput(active_rollouts_namespace(), "asst-1", active(50, "rolled_back"))
    out = await analyse(store, "u1", "asst-1")
    assert out["cohort"] is None and out["assistant_version"] is None
    assert await store.asearch(rollout_runs_namespace("asst-1"), limit=10) == []


async def test_feedback_merged_into_a_record_survives_its_final_write() -> None:
    user = user_in("candidate", 50)
    store = await seeded(history(40), user=user)
    await store.aput(active_rollouts_namespace(), "asst-1", active(50))
    out = await analyse(store, user, "asst-1")
    [item] = await store.asearch(rollout_runs_namespace("asst-1"), limit=10)
    await store.aput(
        rollout_runs_namespace("asst-1"), item.key, {**item.value, "feedback_score": 0.2}
    )
    await write_run_record(store, {**item.value, "alerts": 5})
    merged = (await store.aget(rollout_runs_namespace("asst-1"), item.key)).value  # type: ignore[union-attr]
    assert merged["feedback_score"] == 0.2 and merged["alerts"] == 5
    assert out["cohort"] == "candidate"


# -- the default analysis assistant stands in for the bare graph ---------------------------

DEFAULT_ID = assistant_id(DEFAULT_ANALYSIS_ASSISTANT)
BARE = platform_assistant_id("analysis")


class FakeAssistants:
    """The server's assistants API as the analysis reads it: only `get`."""

    def __init__(self, synced: dict[str, dict[str, Any]]) -> None:
        self.synced = synced
        self.calls = 0

    async def get(self, assistant: str) -> dict[str, Any]:
        self.calls += 1
        if assistant not in self.synced:
            response = httpx.Response(404, request=httpx.Request("GET", "http://x"))
            raise httpx.HTTPStatusError("404", request=response.request, response=response)
        return self.synced[assistant]


@pytest.fixture
def server_assistants(monkeypatch: pytest.MonkeyPatch) -> FakeAssistants:
    fake = FakeAssistants({})

    class Loopback:
        assistants = fake

    monkeypatch.setattr("auren_graphs.platform.loopback", lambda: Loopback())
    return fake


def test_the_platforms_assistant_ids_are_what_langgraph_api_makes() -> None:
    # In a process of its own: langgraph_api reads its runtime's settings at import.
    code = "from langgraph_api.graph import NAMESPACE_GRAPH; print(NAMESPACE_GRAPH)"
    env = {
        **os.environ,
        "REDIS_URI": "unused",
        "DATABASE_URI": ":memory:",
        "LANGGRAPH_RUNTIME_EDITION": "inmem",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(PLATFORM_ASSISTANT_NAMESPACE), out.stderr[-2000:]
    assert record_namespaces(BARE)[0] == rollout_runs_namespace(DEFAULT_ID)
    assert record_namespaces("asst-1") == [rollout_runs_namespace("asst-1")]


async def test_a_bare_run_uses_the_synced_default_and_its_rollout(
    server_assistants: FakeAssistants,
) -> None:
    user = user_in("candidate", 50)
    store = await seeded(history(40, drop_last=7), user=user)
    plain = await analyse(store, user, BARE)  # nothing synced: the graph's own defaults
    assert plain["assistant_id"] == BARE and plain["cohort"] is None
    server_assistants.synced[DEFAULT_ID] = {"assistant_id": DEFAULT_ID, "context": CANDIDATE}
    wide = await analyse(store, user, BARE)
    assert wide["assistant_id"] == DEFAULT_ID and wide["cohort"] is None
    assert math.isclose(band(wide), band(plain) * 2, rel_tol=1e-3)
    # An option the caller sets on the run still applies over the default's version.
    own = await analyse(store, user, BARE, swc_multiplier=0.5)
    assert math.isclose(band(own), band(plain), rel_tol=1e-6)
    # A rollout of the default assistant reaches runs of the bare graph.
    await store.aput(active_rollouts_namespace(), DEFAULT_ID, active(50))
    out = await analyse(store, user, BARE)
    assert (out["cohort"], out["assistant_version"], out["assistant_id"]) == (
        "candidate",
        2,
        DEFAULT_ID,
    )
    [record] = await store.asearch(rollout_runs_namespace(DEFAULT_ID), limit=10)
    assert record.value["assistant_id"] == DEFAULT_ID and record.value["ok"] is True


async def test_a_named_assistant_never_asks_for_the_default(
    server_assistants: FakeAssistants,
) -> None:
    store = await seeded(history(40), user="u1")
    await analyse(store, "u1", "asst-1")
    await analyse(store, "u1", None)
    assert server_assistants.calls == 0


def test_analysis_never_imports_the_rollout() -> None:
    code = (
        "import sys, auren_graphs.analysis.graph; "
        "print(sorted(m for m in sys.modules if m.startswith('auren_graphs.rollout')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
