"""The rollout graph in-process: routers, and whole rollouts against a stand-in platform.

The platform calls (assistant versions) go to a small fake with the API's semantics (a
new version becomes the latest; metadata merges); saver and store are in memory.
Analysis runs are simulated by writing their records into the store.
"""

from __future__ import annotations

import copy
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command

from auren_contract import active_rollouts_namespace, rollout_history_namespace
from auren_graphs.assignment import cohort_of, finished, resolve, run_record, write_run_record
from auren_graphs.rollout import stages
from auren_graphs.rollout.graph import (
    builder,
    route_after_approval_gate,
    route_after_decide,
    route_after_monitor,
    route_after_start,
)
from auren_graphs.rollout.state import HISTORY_LIMIT, RolloutState, bounded_history

ASSISTANT = "00000000-0000-4000-8000-00000000a001"
CONTROL = {"swc_multiplier": 0.5, "style": "concise"}
CANDIDATE = {"swc_multiplier": 0.75, "style": "concise"}


# -- routers ---------------------------------------------------------------------------------


def state(**fields: Any) -> RolloutState:
    return RolloutState(assistant="a", candidate_version=2, **fields)


def test_route_after_start() -> None:
    assert route_after_start(state()) == "collect_metrics"
    assert route_after_start(state(error={"kind": "invalid", "resume_at": None})) == "__end__"
    assert route_after_start(state(error={"resume_at": "approval_gate"})) == "approval_gate"
    assert route_after_start(state(error={"resume_at": "monitor"})) == "monitor"


def test_route_after_approval_gate() -> None:
    assert route_after_approval_gate(state()) == "approval_gate"
    assert route_after_approval_gate(state(approval={"decision": "approve"})) == "assign"
    assert route_after_approval_gate(state(approval={"decision": "reject"})) == "reject"


def test_route_after_monitor() -> None:
    assert route_after_monitor(state()) == "monitor"
    assert route_after_monitor(state(window_closed=True)) == "decide"
    assert route_after_monitor(state(window_closed=True, abort={"reason": "x"})) == "roll_back"


def test_route_after_decide() -> None:
    options = {"stages": [10, 50, 100]}
    passed = {"passed": True}
    waiting = {"passed": False, "waiting": True}
    assert route_after_decide(state(options=options, verdict=waiting)) == "monitor"
    assert route_after_decide(state(options=options, verdict={"passed": False})) == "roll_back"
    assert route_after_decide(state(options=options, stage_index=0, verdict=passed)) == "assign"
    assert route_after_decide(state(options=options, stage_index=1, verdict=passed)) == "assign"
    assert route_after_decide(state(options=options, stage_index=2, verdict=passed)) == "complete"


def test_history_is_bounded() -> None:
    entries = [{"seq": n} for n in range(HISTORY_LIMIT + 10)]
    kept = bounded_history([], entries)
    assert len(kept) == HISTORY_LIMIT and kept[-1] == {"seq": HISTORY_LIMIT + 9}
    assert bounded_history(kept, None) == []


# -- a stand-in for the server's API ------------------------------------------------------------


def not_found() -> httpx.HTTPStatusError:
    response = httpx.Response(404, request=httpx.Request("GET", "http://server"))
    return httpx.HTTPStatusError("404", request=response.request, response=response)


class FakeAssistants:
    def __init__(self) -> None:
        base = {
            "assistant_id": ASSISTANT,
            "graph_id": "analysis",
            "name": "analysis-test",
            "description": "test",
            "metadata": {"version": 1, "auren_origin": "sync"},
        }
        self.versions = [
            {**base, "version": 1, "context": CONTROL, "config": {"configurable": CONTROL}},
            {**base, "version": 2, "context": CANDIDATE, "config": {"configurable": CANDIDATE}},
            {**base, "version": 3, "context": CONTROL, "config": {"configurable": CONTROL}},
        ]
        self.latest = 3

    async def get(self, assistant_id: str) -> dict[str, Any]:
        if assistant_id != ASSISTANT:
            raise not_found()
        return copy.deepcopy(next(v for v in self.versions if v["version"] == self.latest))

    async def search(self, *, name: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        return [await self.get(ASSISTANT)] if name == "analysis-test" else []

    async def get_versions(
        self, assistant_id: str, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        return copy.deepcopy(self.versions[offset : offset + limit])

    async def update(self, assistant_id: str, **fields: Any) -> dict[str, Any]:
        current = await self.get(assistant_id)
        metadata = {**current["metadata"], **fields["metadata"]}
        version = {
            **current,
            **fields,
            "metadata": {k: v for k, v in metadata.items() if v is not None},
            "version": len(self.versions) + 1,
        }
        version["config"] = {**fields["config"], "configurable": fields["context"]}
        self.versions.append(version)
        self.latest = version["version"]
        return copy.deepcopy(version)


class FakePlatform:
    def __init__(self) -> None:
        self.assistants = FakeAssistants()


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    fake = FakePlatform()
    monkeypatch.setattr("auren_graphs.platform.loopback", lambda: fake)
    return fake


class Rollout:
    """One rollout graph on one thread, driven like the server drives it."""

    def __init__(self, store: InMemoryStore, rollout_id: str = "r1", **options: Any) -> None:
        self.store = store
        self.graph = builder.compile(checkpointer=InMemorySaver(), store=store)
        self.config: dict[str, Any] = {"configurable": {"thread_id": "rollout-thread"}}
        self.rollout_id = rollout_id
        self.options = {"window_seconds": 60, "min_sample": 2, "tick_seconds": 5, **options}

    async def start(self, *, omit_id: bool = False, **input: Any) -> dict[str, Any]:
        request = {
            "assistant": "analysis-test",
            "candidate_version": 2,
            "control_version": 1,
            "rollout_id": self.rollout_id,
            **input,
        }
        if omit_id:
            del request["rollout_id"]
        return await self.graph.ainvoke(request, self.config, context=self.options)

    async def resume(self, value: dict[str, Any]) -> dict[str, Any]:
        return await self.graph.ainvoke(Command(resume=value), self.config)

    async def waiting_at(self) -> tuple[str, ...]:
        return (await self.graph.aget_state(self.config)).next

    async def active(self) -> dict[str, Any]:
        item = await self.store.aget(active_rollouts_namespace(), ASSISTANT)
        assert item is not None
        return dict(item.value)

    async def history(self) -> list[dict[str, Any]]:
        items = await self.store.asearch(
            rollout_history_namespace(ASSISTANT, self.rollout_id), limit=100
        )
        return sorted((i.value for i in items), key=lambda v: v["seq"])

    async def analyses(self, users: list[str], **outcome: Any) -> None:
        """One finished analysis run per user, resolved as the analysis graph would."""
        record = await self.active()
        for user in users:
            resolution = resolve(record, user)
            assert resolution is not None
            started = run_record(
                resolution,
                assistant_id=ASSISTANT,
                run_id=str(uuid.uuid4()),
                user_id=user,
                started_at=time.time() - 1,
            )
            done = finished(started, fallback=False, alerts=0)
            if "feedback" in outcome:
                done["feedback_score"] = outcome["feedback"](resolution.cohort)
            await write_run_record(self.store, done)


def users_by_bucket(rollout_id: str) -> dict[str, list[str]]:
    """Two users below 10, two from 10 to 49, two from 50 up."""
    groups: dict[str, list[str]] = {"10": [], "50": [], "100": []}
    for i in range(5000):
        user = f"user-{i}"
        key = next(
            k for k in ("10", "50", "100") if cohort_of(user, rollout_id, int(k)) == "candidate"
        )
        if len(groups[key]) < 2:
            groups[key].append(user)
    return groups


# -- whole rollouts -----------------------------------------------------------------------------


async def test_healthy_rollout_goes_10_50_100_and_the_candidate_becomes_latest(
    platform: FakePlatform,
) -> None:
    rollout = Rollout(InMemoryStore())
    out = await rollout.start(requested_by="ops")
    assert out["status"] == "awaiting_approval" and out["error"] is None
    assert out["plan"]["stages"][0] == {
        "stage": 0,
        "percent": 10,
        "window_seconds": 60,
        "min_sample": 2,
    }
    assert out["plan"]["analysis"]["changed"] == {
        "swc_multiplier": {"control": 0.5, "candidate": 0.75}
    }
    assert out["plan"]["analysis"]["kind"] == "method"
    assert await rollout.waiting_at() == ("approval_gate",)
    out = await rollout.resume({"decision": "approve", "by": "alice", "at": "2026-11-20T10:00:00Z"})
    assert (out["status"], out["percent"], out["stage_index"]) == ("rolling_out", 10, 0)
    active = await rollout.active()
    assert (active["thread_id"], active["tick_seconds"]) == ("rollout-thread", 5)
    users = [u for group in users_by_bucket("r1").values() for u in group]
    for percent in (10, 50, 100):
        # A tick inside the window changes nothing.
        await rollout.resume({"action": "tick"})
        assert await rollout.waiting_at() == ("monitor",)
        assert (await rollout.active())["percent"] == percent
        await rollout.analyses(users)
        out = await rollout.resume({"action": "advance", "by": "test"})
    assert out["status"] == "completed"
    assert await rollout.waiting_at() == ()
    events = [(e["event"], e["percent"]) for e in await rollout.history()]
    assert events == [
        ("proposed", 0),
        ("approved", 0),
        ("stage_started", 10),
        ("stage_passed", 10),
        ("stage_started", 50),
        ("stage_passed", 50),
        ("stage_started", 100),
        ("stage_passed", 100),
        ("completed", 100),
    ]
    assert [e["event"] for e in out["history"]] == [e for e, _ in events]
    latest = await platform.assistants.get(ASSISTANT)
    assert latest["version"] == 4 and latest["context"] == CANDIDATE
    assert latest["metadata"]["auren_restored_version"] == 2
    assert latest["metadata"]["auren_switched_from"] == 3
    assert (await rollout.active())["status"] == "completed"
    assert latest["metadata"]["auren_rollout_id"] == "r1"


async def test_bad_feedback_rolls_back_at_10_percent(platform: FakePlatform) -> None:
    rollout = Rollout(InMemoryStore())
    await rollout.start()
    await rollout.resume({"decision": "approve", "by": "alice"})
    platform.assistants.latest = 2  # the operator had synced the candidate: latest is v2
    users = [u for group in users_by_bucket("r1").values() for u in group]
    await rollout.analyses(users, feedback=lambda cohort: 0.0 if cohort == "candidate" else 1.0)
    out = await rollout.resume({"action": "advance"})
    assert out["status"] == "rolled_back" and out["percent"] == 0
    assert "stage 1 (10%) failed" in out["reason"] and "mean user feedback" in out["reason"]
    history = await rollout.history()
    assert [e["event"] for e in history][-2:] == ["stage_failed", "rolled_back"]
    assert history[-2]["metrics"]["failing"] == ["feedback"]
    latest = await platform.assistants.get(ASSISTANT)
    assert latest["context"] == CONTROL and latest["metadata"]["auren_restored_version"] == 1
    active = await rollout.active()
    assert active["status"] == "rolled_back" and resolve(active, users[0]) is None


async def test_too_few_runs_keep_waiting_until_they_come_or_a_forced_decision(
    platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollout = Rollout(InMemoryStore(), min_sample=2)
    await rollout.start()
    await rollout.resume({"decision": "approve"})
    out = await rollout.resume({"action": "advance", "by": "ops"})
    assert (out["status"], out["stage_index"], out["percent"]) == ("rolling_out", 0, 10)
    assert "candidate has 0 finished runs, fewer than the minimum 2" in out["waiting"]
    assert await rollout.waiting_at() == ("monitor",)
    assert "fewer than the minimum 2" in (await rollout.active())["waiting"]
    # The window over, every tick looks again: still short, nothing more recorded.
    later = datetime.now(UTC) + timedelta(seconds=61)
    monkeypatch.setattr(stages, "now", lambda: later)
    await rollout.resume({"action": "tick"})
    await rollout.resume({"action": "tick"})
    events = [e["event"] for e in await rollout.history()]
    assert events.count("stage_waiting") == 1 and "stage_failed" not in events
    # The runs come: the next tick decides the stage on them.
    users = [u for group in users_by_bucket("r1").values() for u in group]
    await rollout.analyses(users)
    out = await rollout.resume({"action": "tick"})
    assert (out["stage_index"], out["percent"], out["waiting"]) == (1, 50, None)
    assert (await rollout.active())["waiting"] is None
    # At 50% nobody new ran: an operator forces the decision on what there is.
    out = await rollout.resume({"action": "advance"})
    assert out["stage_index"] == 1 and out["waiting"]
    out = await rollout.resume({"action": "advance", "force": True, "by": "ops"})
    assert (out["stage_index"], out["percent"]) == (2, 100)
    forced = [e for e in await rollout.history() if e["event"] == "stage_passed"][-1]
    assert forced["forced"] is True and "decided early" in forced["reason"]
    # Nothing was switched while waiting: the assistant is still control (v3).
    assert len(platform.assistants.versions) == 3


async def test_rejected_at_the_gate_changes_nothing(platform: FakePlatform) -> None:
    rollout = Rollout(InMemoryStore())
    await rollout.start()
    out = await rollout.resume({"decision": "reject", "by": "bob", "reason": "not now"})
    assert out["status"] == "rejected" and out["reason"] == "rejected by bob: not now"
    assert out["percent"] == 0 and out["stage_index"] == -1
    assert len(platform.assistants.versions) == 3
    assert [e["event"] for e in await rollout.history()] == ["proposed", "rejected"]


async def test_an_answer_that_is_not_for_the_gate_waits_on(platform: FakePlatform) -> None:
    rollout = Rollout(InMemoryStore())
    await rollout.start()
    await rollout.resume({"action": "tick"})
    assert await rollout.waiting_at() == ("approval_gate",)
    out = await rollout.resume({"action": "abort", "by": "carol"})
    assert out["status"] == "rejected"


async def test_abort_while_monitoring_rolls_back(platform: FakePlatform) -> None:
    rollout = Rollout(InMemoryStore())
    await rollout.start()
    await rollout.resume({"decision": "approve"})
    out = await rollout.resume({"action": "abort", "by": "dave", "reason": "pager"})
    assert out["status"] == "rolled_back" and out["reason"] == "aborted by dave: pager"


async def test_without_approval_stage_one_starts_at_once(platform: FakePlatform) -> None:
    rollout = Rollout(InMemoryStore(), approval_required=False)
    out = await rollout.start()
    assert (out["status"], out["percent"]) == ("rolling_out", 10)
    assert [e["event"] for e in out["history"]] == ["proposed", "approved", "stage_started"]


async def test_a_second_start_is_refused_and_the_first_rollout_waits_on(
    platform: FakePlatform,
) -> None:
    rollout = Rollout(InMemoryStore())
    await rollout.start()
    await rollout.resume({"decision": "approve"})
    refused = await rollout.start(rollout_id="r2", candidate_version=1, control_version=3)
    assert refused["error"]["kind"] == "conflict"
    assert "already has an active rollout r1" in refused["error"]["message"]
    # The refused run's input cut the monitoring interrupt short; it is back where it was.
    assert await rollout.waiting_at() == ("monitor",)
    snapshot = (await rollout.graph.aget_state(rollout.config)).values
    assert (snapshot["rollout_id"], snapshot["candidate_version"]) == ("r1", 2)
    assert (await rollout.active())["rollout_id"] == "r1"
    out = await rollout.resume({"action": "abort"})
    assert out["status"] == "rolled_back" and out["error"] is None
    # Now the assistant is free again. A start that leaves the id out gets a new one (the
    # thread's last value, r1, carried over, is not reused).
    again = await rollout.start(omit_id=True)
    assert again["status"] == "awaiting_approval"
    assert (
        again["rollout_id"] not in ("r1", "r2")
        and again["plan"]["rollout_id"] == again["rollout_id"]
    )
    # Left out again, on a thread whose rollout waits: refused, and it waits on.
    refused = await rollout.start(omit_id=True)
    assert refused["error"]["kind"] == "conflict" and refused["rollout_id"] == again["rollout_id"]
    assert await rollout.waiting_at() == ("approval_gate",)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"assistant": "nope"}, "no assistant 'nope'"),
        ({"rollout_id": "runs"}, "'runs' cannot be a rollout's id"),
        ({"candidate_version": 9}, "has no version 9 (it has v1, v2, v3)"),
        ({"candidate_version": 3}, "analyse alike: nothing to roll out"),
    ],
)
async def test_bad_requests_are_refused(
    platform: FakePlatform, request_: dict[str, Any], message: str
) -> None:
    out = await Rollout(InMemoryStore()).start(**request_)
    assert out["error"]["kind"] == "invalid" and message in out["error"]["message"]
    assert out.get("status") is None
