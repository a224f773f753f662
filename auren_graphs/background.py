"""AUREN's own background job (not a platform cron: crons are an Enterprise feature, and
a cron run carries a user's identity after one has fired): in process, with no identity.

Every AUREN_BACKGROUND_INTERVAL_SECONDS: renew Oura webhook subscriptions that expire
within a week (when Oura is configured), and prune webhook events processed longer ago
than AUREN_WEBHOOK_EVENT_RETENTION_DAYS. Each task's failure is logged and retried next
round; none stops the others or the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from auren_graphs.devices.subscriptions import SubscriptionError, renew_due
from auren_graphs.devices.vendors import vendor_api
from auren_graphs.settings import Settings
from auren_graphs.webhooks.events import EventStore

logger = logging.getLogger(__name__)
Task = Callable[[], Awaitable[object]]


class BackgroundJob:
    def __init__(self, settings: Settings, events: EventStore | None) -> None:
        self.settings, self.events = settings, events
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0

    def tasks(self) -> dict[str, Task]:
        found: dict[str, Task] = {}
        if self.events is not None:
            events = self.events
            days = self.settings.webhook_event_retention_days
            found["prune webhook events"] = lambda: events.prune(days)
        oura = vendor_api("oura", self.settings)
        if oura.configured and self.settings.public_url:
            found["renew Oura subscriptions"] = lambda: renew_due(self.settings)
        return found

    async def run_once(self) -> None:
        for name, task in self.tasks().items():
            try:
                outcome = await task()
                if outcome:
                    logger.info("background: %s: %s", name, outcome)
            except SubscriptionError as exc:
                logger.warning("background: %s: %s", name, exc)
            except Exception:
                logger.warning("background: %s failed; next round retries", name, exc_info=True)
        self.rounds += 1

    async def _loop(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.settings.background_interval_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="auren-background")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
