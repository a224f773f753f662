"""Rollout control on the server (`auren_graphs.rollout.control`) without a server: the
checks it makes before any run, and a rollout stuck in planning."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from auren_contract import active_rollouts_namespace
from auren_graphs.assistants.models import AssistantVersion
from auren_graphs.rollout import control

ASSISTANT = AssistantVersion(assistant_id="a1", version=3, graph_id="analysis", name="std")


def record(status: str) -> dict[str, Any]:
    return {
        "rollout_id": "r1",
        "assistant_id": "a1",
        "assistant_name": "std",
        "thread_id": "t1",
        "status": status,
        "stages": [10, 50, 100],
        "candidate": {"version": 2},
        "control": {"version": 1},
    }


class Threads:
    def __init__(self, status: str) -> None:
        self.status = status

    async def get(self, thread: str) -> dict[str, Any]:
        return {"thread_id": thread, "status": self.status}


class Sdk:
    def __init__(self, status: str) -> None:
        self.threads = Threads(status)


async def store_with(status: str) -> InMemoryStore:
    store = InMemoryStore()
    await store.aput(active_rollouts_namespace(), "a1", record(status))
    return store


async def test_a_rollout_stuck_in_planning_can_be_aborted() -> None:
    store = await store_with("planning")
    sdk: Any = Sdk("idle")
    status = await control.answer(store, sdk, ASSISTANT, "abort", by="ops", reason="stuck")
    assert (status.status, status.reason) == ("rejected", "aborted by ops while planning: stuck")
    assert not status.active


async def test_a_rollout_planning_right_now_is_left_to_finish() -> None:
    store = await store_with("planning")
    sdk: Any = Sdk("busy")
    with pytest.raises(control.RolloutConflictError, match="is planning; try again"):
        await control.answer(store, sdk, ASSISTANT, "abort", by="ops")


@pytest.mark.parametrize(
    ("status", "verb"),
    [("rejected", "approve"), ("rolling_out", "approve"), ("awaiting_approval", "advance")],
)
async def test_an_answer_out_of_place_is_refused_before_any_run(status: str, verb: str) -> None:
    store = await store_with(status)
    with pytest.raises(control.RolloutConflictError, match=f"cannot {verb} rollout r1 of std"):
        await control.answer(store, None, ASSISTANT, verb)  # type: ignore[arg-type]


async def test_no_rollout_and_bad_options() -> None:
    with pytest.raises(control.NoRolloutError, match="never had a rollout"):
        await control.require_status(InMemoryStore(), ASSISTANT)
    with pytest.raises(control.RolloutRefusedError, match="unknown rollout options \\['stagez'\\]"):
        control.check_options({"stagez": [100]})
    with pytest.raises(control.RolloutRefusedError, match="stages: Value error, stages must"):
        control.check_options({"stages": [50, 10, 100]})
