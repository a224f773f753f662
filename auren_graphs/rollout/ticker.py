"""AUREN's rollout ticker: keeps rollouts moving without a platform cron.

A task started with the HTTP app (`auren_graphs.http.app`) looks at every active
rollout (one read of `("rollouts", "active")`) every `AUREN_ROLLOUT_TICKER_SECONDS`,
and at each one at most every `tick_seconds` (a rollout option):

- waiting at a stage's monitoring interrupt whose window is over: resume it with a
  tick (the stage is decided, or keeps waiting for runs);
- stopped between nodes with no interrupt (its run was lost in a crash): continue it
  from its last checkpoint;
- anything else (waiting for approval, a window still open): nothing.

Why not a cron: crons are an Enterprise feature of the official image, and the dev
scheduler gives a cron created after a user's cron that user's identity (issue 12).

Idempotent and durable: everything it reads is in the store and the checkpoints, so a
restarted server (or a second replica) finds the same work; runs are made with
`multitask_strategy="reject"`, so a rollout busy with a run (an operator's answer,
another replica's tick) is left alone; a tick that comes early changes nothing (the
monitor checks the window itself); a continued node rewrites the same records.
The runs are system runs (in-process, no identity), as an operator's would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from langgraph.store.base import BaseStore
from langgraph_sdk.client import LangGraphClient

from auren_contract import ROLLOUT_GRAPH, active_rollouts_namespace
from auren_graphs import platform
from auren_graphs.rollout.models import ACTIVE_STATUSES

logger = logging.getLogger(__name__)

TICK = {"action": "tick", "source": "ticker"}
_LIMIT = 1000


def _due(record: Mapping[str, Any], now: float) -> bool:
    """The current stage's window is over."""
    ends = record.get("window_ends_at")
    if record.get("status") != "rolling_out" or not ends:
        return False
    return now >= datetime.fromisoformat(str(ends)).timestamp()


def _interrupts(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    values = [i.get("value") for t in state.get("tasks") or [] for i in t.get("interrupts") or []]
    return [v for v in values if isinstance(v, Mapping)]


class Ticker:
    """One per server process; `look()` is one pass (the loop calls it, tests too)."""

    def __init__(
        self,
        interval: float,
        *,
        sdk: Callable[[], LangGraphClient] = platform.loopback,
        store: Callable[[], Awaitable[BaseStore]] = platform.server_store,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval
        self._sdk, self._store, self._clock = sdk, store, clock
        self._looked: dict[str, float] = {}  # rollout id -> when it was last looked at
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="auren-rollout-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.look()
            except Exception:  # Postgres away, server stopping: the next pass tries again
                logger.warning("the rollout ticker's pass failed", exc_info=True)

    async def look(self) -> list[str]:
        """One pass over the active rollouts; what it did, as `"<action> <rollout id>"`."""
        store = await self._store()
        items = await store.asearch(active_rollouts_namespace(), limit=_LIMIT)
        now, done = self._clock(), []
        for item in items:
            record = item.value
            rollout = str(record.get("rollout_id"))
            if record.get("status") not in ACTIVE_STATUSES or not record.get("thread_id"):
                continue
            spacing = float(record.get("tick_seconds") or 60)
            if now - self._looked.get(rollout, -math.inf) < spacing:
                continue
            self._looked[rollout] = now
            action = await self._look_at(str(record["thread_id"]), record, now)
            if action:
                done.append(f"{action} {rollout}")
        return done

    async def _look_at(self, thread: str, record: Mapping[str, Any], now: float) -> str | None:
        state = await self._state(thread)
        waiting = _interrupts(state)
        if waiting:
            if _due(record, now) and any(v.get("kind") == "monitor" for v in waiting):
                return await self._run(thread, "tick", command={"resume": TICK})
            return None
        if state.get("next"):
            return await self._run(thread, "continue", input=None)
        return None

    async def _state(self, thread: str) -> Mapping[str, Any]:
        sdk = self._sdk()
        try:
            return await sdk.threads.get_state(thread)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
        # The thread's record did not survive a crash (the dev runtime writes threads to
        # disk every few seconds); its checkpoints did. Make the record again.
        await sdk.threads.create(thread_id=thread, if_exists="do_nothing")
        return await sdk.threads.get_state(thread)

    async def _run(self, thread: str, action: str, **kwargs: Any) -> str | None:
        try:
            await self._sdk().runs.create(
                thread,
                ROLLOUT_GRAPH,
                multitask_strategy="reject",
                if_not_exists="create",
                **kwargs,
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 409:
                return None  # a run is on it already (an operator, another replica)
            raise
        return action
