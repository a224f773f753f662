"""SIGKILL and SIGTERM of the server while several clients ingest.

Every call carries entries with identities of its own. A call that returned a report is
acknowledged; a call that failed is retried (ingestion is idempotent) until it returns.
At the end the store is read back: acknowledged identities missing are lost, identities
stored more than once are duplicates.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from auren_client import AurenClient, AurenError, ServerError
from reliability.common import Row, row_ids, stored_items, timed_start
from tests.support.config import SERVICE_KEY
from tests.support.server import DevServer

ENTRIES_PER_CALL = 5
UNCLEAR = ("RunFailedError", "UnexpectedResponseError")
CALL_TIMEOUT = 60.0


@dataclass
class Ledger:
    """What the clients were told: acknowledged identities per user, 5xx seen, hangs."""

    acknowledged: dict[str, set[str]] = field(default_factory=dict)
    status_5xx: int = 0
    hangs: int = 0
    failures: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        self.kinds[type(exc).__name__] += 1

    @property
    def unclear(self) -> int:
        """Failures a client could not act on: a run failing with no reason it names."""
        return sum(self.kinds[kind] for kind in UNCLEAR)

    def kinds_text(self) -> str:
        return ", ".join(f"{kind} {n}" for kind, n in self.kinds.most_common())


def manual_call(user: str, call: int) -> tuple[dict[str, Any], set[str]]:
    """A manual payload of heart-rate samples, unique to (user, call), and its identities."""
    base = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(minutes=call * ENTRIES_PER_CALL)
    entries = []
    identities = set()
    for n in range(ENTRIES_PER_CALL):
        entry_id = f"{user}-c{call}-e{n}"
        entries.append(
            {
                "entry_id": entry_id,
                "metric": "heart_rate",
                "value": 50 + (call + n) % 100,
                "unit": "bpm",
                "measured_at": (base + timedelta(minutes=n)).isoformat(),
            }
        )
        identities.add(f"manual:{entry_id}:heart_rate")
    return {"entries": entries}, identities


async def ingest_until_acknowledged(
    url: str, user: str, payload: dict[str, Any], ledger: Ledger, deadline: float
) -> bool:
    """Ingest `payload`, retrying across restarts; True once the server acknowledged it."""
    while time.monotonic() < deadline:
        try:
            async with AurenClient(url=url, api_key=SERVICE_KEY, retries=1, timeout=30) as auren:
                await auren.ingest(user, "manual", payload, timeout=CALL_TIMEOUT)
            return True
        except ServerError as exc:
            ledger.failed(exc)
            if exc.status_code >= 500 and exc.status_code != 503:
                ledger.status_5xx += 1
        except TimeoutError as exc:
            ledger.hangs += 1
            ledger.failed(exc)
        except AurenError as exc:
            ledger.failed(exc)  # connection refused while the server is down
        await asyncio.sleep(0.5)
    return False


async def client_loop(
    url: str, user: str, ledger: Ledger, stop: asyncio.Event, max_calls: int
) -> None:
    acknowledged = ledger.acknowledged.setdefault(user, set())
    for call in range(max_calls):
        if stop.is_set():
            return
        payload, identities = manual_call(user, call)
        if await ingest_until_acknowledged(url, user, payload, ledger, time.monotonic() + 300):
            acknowledged |= identities


async def audit(url: str, ledger: Ledger, row: Row) -> None:
    for user, acknowledged in ledger.acknowledged.items():
        ids = row_ids(await stored_items(url, user))
        row.lost += len(acknowledged - set(ids))
        row.duplicates += sum(n - 1 for n in ids.values() if n > 1)


async def signal_during_ingestion(
    server: DevServer, *, kills: int, clients: int = 4, sigterm: bool = False, seed: int = 0
) -> Row:
    """Kill (or terminate) the server `kills` times at random moments during ingestion."""
    rng = random.Random(seed)
    row = Row("SIGTERM during ingestion" if sigterm else "SIGKILL during ingestion")
    ledger = Ledger()
    stop = asyncio.Event()
    run = uuid.uuid4().hex[:8]
    users = [f"rel-kill-{run}-{n}" for n in range(clients)]
    tasks = [
        asyncio.create_task(client_loop(server.url, u, ledger, stop, max_calls=10_000))
        for u in users
    ]
    stop_times: list[float] = []
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        began = time.monotonic()
        if sigterm:
            await asyncio.to_thread(server.stop)  # SIGTERM; SIGKILL after 30 s
        else:
            await asyncio.to_thread(server.kill)
        stop_times.append(time.monotonic() - began)
        row.recovery.append(await asyncio.to_thread(timed_start, server))
        row.trials += 1
    await asyncio.sleep(2.0)
    stop.set()
    await asyncio.gather(*tasks)
    await audit(server.url, ledger, row)
    row.status_5xx = ledger.status_5xx + ledger.unclear  # an unclear failure counts as a 500
    row.hangs = ledger.hangs
    acked = sum(len(a) for a in ledger.acknowledged.values())
    row.notes.append(
        f"{clients} clients, {acked} values acknowledged, {ledger.failures} failed calls "
        f"retried ({ledger.kinds_text() or 'none'})"
    )
    if sigterm:
        slow = sum(1 for t in stop_times if t > 30)
        row.hangs += slow
        row.notes.append(f"shutdown max {max(stop_times, default=0):.1f} s (limit 30 s)")
    return row
