"""The worker: loops that claim due events (see `events`) and process them.

It starts with the app and polls every `webhook_poll_seconds`; a new event wakes it at
once. On the way out it lets attempts in flight finish for a grace period, then cancels
them, which rolls them back to pending for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from auren_graphs import observability
from auren_graphs.webhooks.events import Event, EventStore, Outcome, Results, RetryPolicy, failed

logger = logging.getLogger(__name__)

Processor = Callable[[list[Event]], Awaitable[Results]]


@dataclass
class Worker:
    """`slots` loops, each claiming and processing one due event at a time."""

    events: EventStore
    processors: Mapping[str, Processor]
    policy: RetryPolicy
    slots: int
    poll_seconds: float
    attempt_timeout: float
    batch_size: int = 50
    last_poll: float = 0.0
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"auren-webhook-worker-{n}")
            for n in range(self.slots)
        ]

    def wake(self) -> None:
        """A new event was recorded: look now rather than at the next poll."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return not self._stopping and any(not task.done() for task in self._tasks)

    async def stop(self, grace: float) -> None:
        """Let attempts in flight finish for up to `grace` seconds, then cancel them
        (a cancelled attempt rolls back: its event stays pending for the next start)."""
        self._stopping = True
        self._wake.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once()
            except Exception:
                # Postgres away, most likely: the health route says so; keep polling.
                logger.warning("webhook worker: cannot reach the events table", exc_info=True)
                busy = False
            if busy:
                continue
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def run_once(self) -> bool:
        """Process the next batch of due events; False when there is none."""
        self.last_poll = time.monotonic()
        async with self.events.claim(self.batch_size) as claimed:
            if claimed is None:
                return False
            outcomes = await self._attempt(claimed.events)
            for event in claimed.events:
                await claimed.finish(event, outcomes[event.id])
        for event in claimed.events:
            outcome = outcomes[event.id]
            observability.WEBHOOK_EVENTS_PROCESSED.labels(event.vendor, outcome.label).inc()
            if outcome.label != "done":
                logger.info(
                    "webhook event %s (%s) %s: %s",
                    event.id,
                    event.vendor,
                    outcome.label,
                    outcome.error,
                )
        return True

    async def _attempt(self, events: list[Event]) -> dict[int, Outcome]:
        processor = self.processors.get(events[0].vendor)
        if processor is None:
            return {e.id: failed(f"no processor for vendor {e.vendor!r}") for e in events}
        results: Results
        try:
            async with asyncio.timeout(self.attempt_timeout):
                results = await processor(events)
        except Exception as exc:
            results = {e.id: exc for e in events}
        outcomes: dict[int, Outcome] = {}
        for event in events:
            result = results.get(event.id, RuntimeError("the processor gave no outcome"))
            outcomes[event.id] = (
                result if isinstance(result, Outcome) else self.policy.outcome_of(event, result)
            )
        return outcomes
