"""Webhook acknowledgement latency with 50 concurrent senders, next to `GET /ok`.

Both are measured against the same server in the same run, from the same client pool:
first `GET /ok` (the server's cheapest route: the floor of this HTTP stack), then signed
WHOOP deliveries (verify, map the user through the store, commit the event row). The
worker processes the accepted events meanwhile (fetching from a WHOOP stand-in and
ingesting), as it would in production, so its load is part of the figure.
Target (issue 6): p99 < 50 ms and at most 5x `/ok`.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from auren_client import AurenClient
from auren_graphs.webhooks import whoop
from bench.common import dev_server, header, row
from tests.support.vendor_standins import VendorStandIn, WhoopNight

SENDERS = 50
SECRET = "bench-whoop-secret"
USERS = 10


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _Connection:
    """One kept-alive HTTP/1.1 connection, written and read by hand: a client this thin
    leaves the CPU (two cores here, shared with the server and Postgres) to the server,
    where httpx under 50 concurrent requests costs about as much as the server does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


Send = Callable[[_Connection, int], Awaitable[tuple[int, bytes]]]


async def _hammer(connections: list[_Connection], send: Send, per_sender: int) -> list[float]:
    """One sender per connection, all at once, each sending `per_sender` requests one
    after another; the latency of each request."""
    latencies: list[float] = []

    async def sender(n: int, connection: _Connection) -> None:
        for i in range(per_sender):
            start = time.perf_counter()
            status, body = await send(connection, n * per_sender + i)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"{status}: {body[:200]!r}")

    await asyncio.gather(*(sender(n, c) for n, c in enumerate(connections)))
    return latencies


async def _measure(
    url: str, port: int, standin: VendorStandIn, per_sender: int
) -> dict[str, float]:
    nights = []
    async with AurenClient(url=url) as auren:
        for n in range(USERS):
            who = 900_000_000 + n + int(uuid.uuid4().int % 1000) * 1000
            night = WhoopNight(who)
            night.serve(standin)
            standin.grant(f"bench-token-{who}", str(who))
            await auren.connect_device(
                f"bench-hook-{uuid.uuid4().hex[:8]}",
                "whoop",
                who,
                access_token=f"bench-token-{who}",
            )
            nights.append(night)

    async def ok(connection: _Connection, n: int) -> tuple[int, bytes]:
        return await connection.request("GET", "/ok")

    def delivery(kind: str) -> Send:
        async def send(connection: _Connection, n: int) -> tuple[int, bytes]:
            night = nights[n % USERS]
            note = {
                "user_id": night.whoop_user,
                "id": night.sleep_id,
                "type": kind,
                "trace_id": str(uuid.uuid4()),
            }
            body = json.dumps(note).encode()
            stamp = str(int(time.time() * 1000))
            headers = {
                "Content-Type": "application/json",
                "X-WHOOP-Signature": whoop.sign(SECRET, stamp, body),
                "X-WHOOP-Signature-Timestamp": stamp,
            }
            return await connection.request("POST", "/webhooks/whoop", headers, body)

        return send

    connections = [await _Connection.open(port) for _ in range(SENDERS)]
    try:
        # Warm both paths and the owner cache; deletions are recorded but not processed,
        # so the server is idle again when /ok is measured.
        await _hammer(connections, ok, 2)
        await _hammer(connections, delivery("sleep.deleted"), 1)
        ok_times = await _hammer(connections, ok, per_sender)
        bare_times = await _hammer(connections, delivery("sleep.deleted"), per_sender)
        started = time.perf_counter()
        hook_times = await _hammer(connections, delivery("sleep.updated"), per_sender)
        elapsed = time.perf_counter() - started
        probe = connections[0]
        await _drained(probe)
        drained = time.perf_counter() - started
        singles = []
        send = delivery("sleep.updated")
        for n in range(10):
            start = time.perf_counter()
            await send(probe, n)
            await _drained(probe)
            singles.append(time.perf_counter() - start)
    finally:
        for connection in connections:
            connection.close()
    return {
        "ok_p50_ms": statistics.median(ok_times) * 1000,
        "ok_p99_ms": _percentile(ok_times, 0.99) * 1000,
        "ack_p50_ms": statistics.median(hook_times) * 1000,
        "ack_p99_ms": _percentile(hook_times, 0.99) * 1000,
        "ack_bare_p50_ms": statistics.median(bare_times) * 1000,
        "ack_bare_p99_ms": _percentile(bare_times, 0.99) * 1000,
        "ack_per_minute": len(hook_times) / elapsed * 60,
        "burst_drained_s": drained,
        "single_processed_ms": statistics.median(singles) * 1000,
    }


async def _drained(connection: _Connection) -> None:
    """Until /health reports no event waiting (in-flight events still count as waiting)."""
    while True:
        _, body = await connection.request("GET", "/health")
        if json.loads(body)["components"]["webhooks"]["backlog"] == 0:
            return
        await asyncio.sleep(0.05)


def run(postgres_uri: str) -> dict[str, float]:
    per_sender = int(os.environ.get("AUREN_BENCH_WEBHOOKS_PER_SENDER", "40"))
    header(f"Webhook acknowledgement, {SENDERS} concurrent senders, next to GET /ok")
    standin = VendorStandIn(prefix="/developer")
    standin.start()
    try:
        with dev_server(
            postgres_uri, WHOOP_CLIENT_SECRET=SECRET, AUREN_WHOOP_API_URL=standin.base_url
        ) as server:
            figures = asyncio.run(_measure(server.url, server.port, standin, per_sender))
    finally:
        standin.stop()
    ratio = figures["ack_p99_ms"] / figures["ok_p99_ms"]
    n = SENDERS * per_sender
    row("GET /ok p50 / p99", f"{figures['ok_p50_ms']:.1f} / {figures['ok_p99_ms']:.1f} ms", f"{n}")
    row(
        "POST /webhooks/whoop ack p50 / p99",
        f"{figures['ack_p50_ms']:.1f} / {figures['ack_p99_ms']:.1f} ms",
        f"{n} signed deliveries, worker processing meanwhile",
    )
    row(
        "  the same, events with nothing to process (deletions)",
        f"{figures['ack_bare_p50_ms']:.1f} / {figures['ack_bare_p99_ms']:.1f} ms",
        "verify, map, commit only",
    )
    row("ack p99 / ok p99", f"{ratio:.1f}x", "target: p99 < 50 ms and <= 5x")
    row("acknowledged per minute", f"{figures['ack_per_minute']:,.0f}", "target: > 10,000")
    row(
        f"burst of {n} processed (fetch + ingest) after",
        f"{figures['burst_drained_s']:.1f} s",
        f"{USERS} users, batched per user",
    )
    row(
        "one delivery: sent to processed",
        f"{figures['single_processed_ms']:.0f} ms",
        "median of 10; mostly the run queue",
    )
    return {**{f"webhook_{k}": v for k, v in figures.items()}, "webhook_ack_ok_ratio": ratio}
