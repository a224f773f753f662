"""Cost growth: a user's 100th batch vs their 1st, and the thread's checkpoint size."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date

from langgraph_sdk import get_client

from auren_client import AurenClient
from bench.common import dev_server, header, row
from bench.generate import oura_pages

BATCHES = 100


async def _grow(url: str) -> tuple[list[float], int, int]:
    user = f"bench-growth-{time.time_ns()}"
    sdk = get_client(url=url)
    pages = oura_pages(BATCHES, 30, start=date(2020, 1, 1))
    durations: list[float] = []
    sizes: list[int] = []
    async with AurenClient(url=url) as auren:
        for n, page in enumerate(pages):
            start = time.perf_counter()
            await auren.ingest(user, "oura", page)
            durations.append(time.perf_counter() - start)
            if n in (0, BATCHES - 1):
                (thread,) = await sdk.threads.search(metadata={"user_id": user})
                state = await sdk.threads.get_state(thread["thread_id"])
                sizes.append(len(json.dumps(state["values"])))
    return durations, sizes[0], sizes[1]


def run(postgres_uri: str) -> dict[str, float]:
    header(f"Cost growth over {BATCHES} batches of one user (30 days of Oura readiness each)")
    with dev_server(postgres_uri) as server:
        durations, first_size, last_size = asyncio.run(_grow(server.url))
    first = sum(durations[:5]) / 5
    last = sum(durations[-5:]) / 5
    row("mean time of batches 1-5", f"{first * 1000:.0f} ms")
    row(f"mean time of batches {BATCHES - 4}-{BATCHES}", f"{last * 1000:.0f} ms")
    row("late / early", f"{last / first:.2f}", "target <= 1.2")
    row("checkpointed state after 1 batch", f"{first_size} B")
    row(f"checkpointed state after {BATCHES} batches", f"{last_size} B")
    row("after 100 / after 1", f"{last_size / first_size:.2f}")
    return {"growth_ratio": last / first, "state_ratio": last_size / first_size}
