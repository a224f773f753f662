"""Postgres stopped and started again while clients ingest and push.

The server runs on a Postgres of its own that is stopped (a fast shutdown cuts every
session, as a restart or failover does) for a few seconds, then started again. Meanwhile
ingesting clients retry until acknowledged (as in `reliability.kill`), and a prober sends
pushes and reads `/health` with short timeouts. Counted: acknowledged values lost,
duplicates, answers of 5xx other than 503 and runs failing with anything but
`ServiceUnavailableError` (an unclear error), requests that hang past their timeout,
and the time from Postgres being back to a fresh ingestion being acknowledged.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections import Counter

import httpx

from auren_client import AurenClient, AurenError
from reliability.common import Row, reliability_env
from reliability.kill import Ledger, audit, client_loop, manual_call
from tests.support.config import SERVICE_KEY
from tests.support.server import DevServer, StoppablePostgres, running_server, stoppable_postgres

PROBE_TIMEOUT = 30.0  # a probe answered later than this is a hang


class Prober:
    """Pushes and `/health` reads at a steady pace, their answers tallied."""

    def __init__(self, url: str, user: str, token: str) -> None:
        self.url, self.user, self.token = url, user, token
        self.answers: Counter[str] = Counter()
        self.status_5xx = 0
        self.hangs = 0
        self.sent = 0

    async def push(self, http: httpx.AsyncClient) -> None:
        payload, _ = manual_call(self.user, self.sent)
        self.sent += 1
        await self._send(
            http,
            "POST",
            "/webhooks/manual",
            json=payload,
            headers={"authorization": f"Bearer {self.token}", "x-auren-user": self.user},
        )

    async def health(self, http: httpx.AsyncClient) -> None:
        await self._send(http, "GET", "/health")

    async def _send(self, http: httpx.AsyncClient, method: str, path: str, **kw: object) -> None:
        try:
            answer = await http.request(method, self.url + path, timeout=PROBE_TIMEOUT, **kw)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            self.hangs += 1
            return
        except httpx.TransportError as exc:
            self.answers[f"{path} {type(exc).__name__}"] += 1
            return
        self.answers[f"{path} {answer.status_code}"] += 1
        if answer.status_code >= 500 and answer.status_code != 503:
            self.status_5xx += 1
        elif answer.status_code == 503 and "postgres" not in answer.text.lower():
            self.answers[f"{path} 503 without a reason"] += 1
            self.status_5xx += 1

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient() as http:
            while not stop.is_set():
                await asyncio.gather(self.push(http), self.health(http))
                await asyncio.sleep(0.5)


async def time_to_fresh_ingest(url: str, began: float, deadline: float = 60.0) -> float:
    """Seconds from `began` until an ingestion for a user never seen is acknowledged."""
    user = f"rel-pg-fresh-{uuid.uuid4().hex[:8]}"
    payload, _ = manual_call(user, 0)
    async with AurenClient(url=url, api_key=SERVICE_KEY, retries=0, timeout=10) as auren:
        while time.monotonic() - began < deadline:
            try:
                await auren.ingest(user, "manual", payload, timeout=10)
                return time.monotonic() - began
            except AurenError:
                await asyncio.sleep(0.1)
    return float("inf")


async def outages_during_load(
    server: DevServer, postgres: StoppablePostgres, *, outages: int, clients: int, seed: int
) -> Row:
    rng = random.Random(seed)
    row = Row("Postgres stopped and restarted")
    ledger = Ledger()
    stop = asyncio.Event()
    run = uuid.uuid4().hex[:8]
    push_user, token = f"rel-pg-{run}-push", "tok-" + secrets.token_urlsafe(24)
    async with AurenClient(url=server.url, api_key=SERVICE_KEY) as auren:
        await auren.connect_device(push_user, "manual", ingest_token=token)
    prober = Prober(server.url, push_user, token)
    users = [f"rel-pg-{run}-{n}" for n in range(clients)]
    tasks = [
        asyncio.create_task(client_loop(server.url, u, ledger, stop, max_calls=10_000))
        for u in users
    ]
    tasks.append(asyncio.create_task(prober.run(stop)))
    down_for: list[float] = []
    for _ in range(outages):
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        await asyncio.to_thread(postgres.stop)
        down_for.append(rng.uniform(3.0, 8.0))
        await asyncio.sleep(down_for[-1])
        await asyncio.to_thread(postgres.start)
        row.recovery.append(await time_to_fresh_ingest(server.url, time.monotonic()))
        row.trials += 1
    await asyncio.sleep(2.0)
    stop.set()
    await asyncio.gather(*tasks)
    await audit(server.url, ledger, row)
    row.status_5xx = ledger.status_5xx + ledger.unclear + prober.status_5xx
    row.hangs = ledger.hangs + prober.hangs + sum(1 for r in row.recovery if r == float("inf"))
    acked = sum(len(a) for a in ledger.acknowledged.values())
    row.notes.append(
        f"down {min(down_for):.0f}-{max(down_for):.0f} s; {clients} clients, {acked} values "
        f"acknowledged, failed calls retried: {ledger.kinds_text() or 'none'}"
    )
    row.notes.append("probes: " + ", ".join(f"{k} x{n}" for k, n in sorted(prober.answers.items())))
    row.notes.append("recovery = Postgres back to a fresh ingestion acknowledged")
    return row


async def postgres_outage(*, outages: int, clients: int = 3, seed: int = 0) -> Row:
    """A server on a Postgres of its own, `outages` stops and starts under load."""
    with (
        stoppable_postgres() as postgres,
        running_server(reliability_env(postgres.uri)) as server,
    ):
        return await outages_during_load(
            server, postgres, outages=outages, clients=clients, seed=seed
        )
