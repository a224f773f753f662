"""The rollout ticker's decisions, against a stand-in of the server's API and a real
in-memory store. (On a real server, across a SIGKILL: tests/integration/test_rollout_server.py.)"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from langgraph.store.memory import InMemoryStore

from auren_contract import active_rollouts_namespace
from auren_graphs.rollout.ticker import TICK, Ticker

NOW = time.time()


def iso(offset: float) -> str:
    return datetime.fromtimestamp(NOW + offset, UTC).isoformat(timespec="milliseconds")


def status_error(code: int) -> httpx.HTTPStatusError:
    response = httpx.Response(code, request=httpx.Request("POST", "http://server"))
    return httpx.HTTPStatusError(str(code), request=response.request, response=response)


def waiting_at(kind: str | None, *nodes: str) -> dict[str, Any]:
    """A thread's state: stopped before `nodes`, at an interrupt of `kind` (or none)."""
    interrupts = [{"value": {"kind": kind}}] if kind else []
    return {"next": list(nodes), "tasks": [{"interrupts": interrupts}] if nodes else []}


class FakeServer:
    """Threads and runs of the server's API, as the ticker uses them."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.runs: list[tuple[str, dict[str, Any]]] = []
        self.busy: set[str] = set()
        self.created: list[str] = []

    # threads
    async def get_state(self, thread: str) -> dict[str, Any]:
        if thread not in self.states:
            raise status_error(404)
        return self.states[thread]

    async def create(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if "thread_id" in kwargs:  # threads.create
            self.created.append(kwargs["thread_id"])
            self.states.setdefault(kwargs["thread_id"], waiting_at("monitor", "monitor"))
            return {}
        thread, graph = args  # runs.create
        assert graph == "rollout" and kwargs["multitask_strategy"] == "reject"
        if thread in self.busy:
            raise status_error(409)
        self.runs.append((thread, kwargs))
        return {}


class Sdk:
    def __init__(self, server: FakeServer) -> None:
        self.threads = server
        self.runs = server


async def ticker_with(
    records: list[dict[str, Any]], clock: list[float]
) -> tuple[Ticker, FakeServer]:
    store = InMemoryStore()
    for record in records:
        await store.aput(active_rollouts_namespace(), record["assistant_id"], record)
    server = FakeServer()

    async def the_store() -> InMemoryStore:
        return store

    return Ticker(1.0, sdk=lambda: Sdk(server), store=the_store, clock=lambda: clock[0]), server


def rollout(
    name: str, status: str = "rolling_out", ends: float = -1, tick: int = 5
) -> dict[str, Any]:
    return {
        "assistant_id": f"a-{name}",
        "rollout_id": name,
        "thread_id": f"t-{name}",
        "status": status,
        "window_ends_at": iso(ends),
        "tick_seconds": tick,
    }


async def test_a_monitored_stage_is_ticked_once_its_window_is_over() -> None:
    clock = [NOW]
    ticker, server = await ticker_with([rollout("over"), rollout("open", ends=+30)], clock)
    server.states = {
        "t-over": waiting_at("monitor", "monitor"),
        "t-open": waiting_at("monitor", "monitor"),
    }
    assert await ticker.look() == ["tick over"]
    assert server.runs == [
        (
            "t-over",
            {
                "command": {"resume": TICK},
                "multitask_strategy": "reject",
                "if_not_exists": "create",
            },
        )
    ]
    # Each rollout is looked at every `tick_seconds` of its own, not at every pass.
    clock[0] += 1
    assert await ticker.look() == []
    clock[0] += 5
    assert await ticker.look() == ["tick over"]
    clock[0] += 30
    assert sorted(await ticker.look()) == ["tick open", "tick over"]


async def test_waiting_for_approval_or_ended_rollouts_are_left_alone() -> None:
    clock = [NOW]
    records = [
        rollout("gate", status="awaiting_approval"),
        rollout("done", status="completed"),
        rollout("rejected", status="rejected"),
    ]
    ticker, server = await ticker_with(records, clock)
    server.states = {"t-gate": waiting_at("approval", "approval_gate")}
    assert await ticker.look() == []
    assert server.runs == []


async def test_a_rollout_whose_run_was_lost_is_continued() -> None:
    clock = [NOW]
    ticker, server = await ticker_with([rollout("lost", status="planning", ends=+600)], clock)
    server.states = {"t-lost": waiting_at(None, "collect_metrics")}
    assert await ticker.look() == ["continue lost"]
    assert server.runs[0][1]["input"] is None


async def test_a_busy_rollout_is_someone_elses_and_the_next_look_tries_again() -> None:
    clock = [NOW]
    ticker, server = await ticker_with([rollout("busy")], clock)
    server.states = {"t-busy": waiting_at("monitor", "monitor")}
    server.busy.add("t-busy")
    assert await ticker.look() == []
    server.busy.clear()
    clock[0] += 5
    assert await ticker.look() == ["tick busy"]


async def test_a_thread_lost_in_a_crash_is_made_again_from_its_checkpoints() -> None:
    clock = [NOW]
    ticker, server = await ticker_with([rollout("gone")], clock)
    assert await ticker.look() == ["tick gone"]
    assert server.created == ["t-gone"]


async def test_a_failing_pass_does_not_stop_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [NOW]
    ticker, _ = await ticker_with([], clock)
    ticker.interval = 0.01
    passes = 0
    three = asyncio.Event()

    async def failing() -> list[str]:
        nonlocal passes
        passes += 1
        if passes == 3:
            three.set()
        raise RuntimeError("Postgres is away")

    monkeypatch.setattr(ticker, "look", failing)
    ticker.start()
    await asyncio.wait_for(three.wait(), timeout=5)
    await ticker.stop()
    assert passes >= 3
