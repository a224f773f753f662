"""Analysis: the method on a year, the graph in-process, and through the server."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import date, timedelta

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from auren_client import AurenClient
from auren_graphs.analysis import method
from auren_graphs.analysis.graph import builder
from auren_graphs.canonical import Observation
from auren_graphs.ingestion.storage import write_observations
from bench.common import dev_server, header, row
from tests.support.openai_standin import OpenAIStandIn
from tests.support.payloads import oura_readiness_page, oura_sleep_page

END = date(2026, 11, 20)


def _year_records() -> list[dict[str, object]]:
    return [
        {
            "day": (END - timedelta(days=364 - n)).isoformat(),
            "rmssd_ms": 50 + n % 20,
            "resting_hr": 50 + n % 5,
            "sleep_hours": 6 + (n % 4) / 2,
            "training_load": (n % 3) * 100,
            "recovery_score": n % 100,
            "readiness_score": 60 + n % 40,
            "strain": n % 21,
        }
        for n in range(365)
    ]


def _assess_ms() -> float:
    records = _year_records()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        method.assess(records)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def _graph_in_process() -> float:
    store = InMemoryStore()
    observations = [
        Observation(metric, value, END - timedelta(days=n), "oura", f"{metric}:{n}")
        for n in range(120)
        for metric, value in (
            ("hrv_rmssd", 50.0 + n % 20),
            ("resting_heart_rate", 52.0),
            ("sleep_duration", 7 * 3600.0),
            ("readiness_score", 75.0),
        )
    ]
    await write_observations(store, "u", observations)
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        await graph.ainvoke(
            {"user_id": "u", "as_of": END.isoformat()},
            {"configurable": {"thread_id": str(uuid.uuid4())}},
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def _through_server(url: str) -> tuple[float, float, float]:
    user = f"bench-analysis-{uuid.uuid4().hex[:8]}"
    firsts, tokens, ends = [], [], []
    async with AurenClient(url=url) as auren:
        await auren.ingest(user, "oura", oura_sleep_page(120, END))
        await auren.ingest(user, "oura", oura_readiness_page(60, start=END - timedelta(days=59)))
        for _ in range(5):
            start = time.perf_counter()
            first = token = None
            async for event in auren.stream_analysis(user, "How is my recovery?", as_of=END):
                now = time.perf_counter() - start
                if event.type == "progress" and first is None:
                    first = now
                if event.type == "token" and token is None:
                    token = now
            ends.append(time.perf_counter() - start)
            firsts.append(first or 0.0)
            tokens.append(token or 0.0)
    return statistics.median(firsts), statistics.median(tokens), statistics.median(ends)


def run(postgres_uri: str) -> dict[str, float]:
    header("Analysis: method, graph in-process, through the server (model stand-in)")
    assess_ms = _assess_ms()
    local = asyncio.run(_graph_in_process())
    standin = OpenAIStandIn()
    standin.start()
    try:
        with dev_server(
            postgres_uri, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=standin.base_url
        ) as server:
            first, token, end = asyncio.run(_through_server(server.url))
    finally:
        standin.stop()
    row("assess() on 365 days", f"{assess_ms:.1f} ms", "median of 20")
    row("analysis graph in-process (120 days, no model)", f"{local * 1000:.0f} ms", "median of 5")
    row("server: run start to first progress event", f"{first * 1000:.0f} ms", "median of 5")
    row("server: run start to first narrative token", f"{token * 1000:.0f} ms")
    row("server: run start to end", f"{end * 1000:.0f} ms")
    row("server end / in-process graph", f"{end / local:.1f}x", "queue wait and model included")
    return {
        "assess_ms": assess_ms,
        "graph_ms": local * 1000,
        "first_progress_ms": first * 1000,
        "first_token_ms": token * 1000,
        "end_ms": end * 1000,
    }
