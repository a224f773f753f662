"""The client's service surface on the real server: state, history, memory, timeouts, resume,
and the server's rules reaching the client as its errors."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from langgraph_sdk import get_client

from auren_client import (
    AurenClient,
    AurenTimeoutError,
    DeviceConflictError,
    InvalidArgumentError,
    SyncAurenClient,
)
from auren_graphs.assignment import record_namespaces
from tests.support import payloads
from tests.support.config import SERVICE_KEY
from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import DevServer

pytestmark = pytest.mark.integration
END = date(2026, 11, 20)


class _DroppedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, after: int) -> None:
        self._inner, self._after = inner, after

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._inner:
            yield chunk
            sent += 1
            if sent >= self._after:
                raise httpx.ReadError("connection dropped by the test network")

    async def aclose(self) -> None:
        await self._inner.aclose()


class DropFirstStream(httpx.AsyncBaseTransport):
    """Real HTTP, except that the first run stream's connection drops part-way."""

    def __init__(self, after_chunks: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._after = after_chunks
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not self.dropped and request.url.path.endswith("/runs/stream"):
            self.dropped = True
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _DroppedStream(response.stream, self._after)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def seed(auren: AurenClient, user_id: str) -> None:
    await auren.ingest(user_id, "oura", payloads.oura_sleep_page(90, END, drop_last=7))


async def test_a_dropped_stream_is_resumed_without_losing_or_repeating_events(
    server: DevServer, model: OpenAIStandIn, user_id: str
) -> None:
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
    transport = DropFirstStream(after_chunks=4)
    http = httpx.AsyncClient(
        base_url=server.url, transport=transport, timeout=30, headers={"x-api-key": SERVICE_KEY}
    )
    async with AurenClient(url=server.url, http_client=http) as auren:
        events = [e async for e in auren.stream_analysis(user_id, as_of=END)]
    await http.aclose()
    assert transport.dropped
    result = events[-1].result
    assert result is not None
    assert result.narrative_source == "model"
    findings = Counter(e.finding["id"] for e in events if e.type == "finding" and e.finding)
    assert set(findings) == {f["id"] for f in result.findings}
    assert all(n == 1 for n in findings.values()), findings
    analyzers = Counter(e.data.get("analyzer") for e in events if e.type == "progress")
    assert {a: analyzers[a] for a in ("hrv", "rhr", "sleep", "training", "bands")} == dict.fromkeys(
        ("hrv", "rhr", "sleep", "training", "bands"), 1
    )
    assert "".join(e.text for e in events if e.type == "token") == result.narrative


async def test_a_timeout_cancels_the_run_on_the_server(
    server: DevServer, model: OpenAIStandIn, user_id: str
) -> None:
    model.set("hang")
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
        with pytest.raises(AurenTimeoutError, match="cancelled on the server"):
            async for _ in auren.stream_analysis(
                user_id,
                as_of=END,
                timeout=4,
                context={"model_timeout_seconds": 120, "model_max_retries": 0},
            ):
                pass
    sdk = get_client(url=server.url)
    (thread,) = await sdk.threads.search(metadata={"user_id": user_id, "graph": "analysis"})
    for _ in range(50):
        runs = await sdk.runs.list(thread["thread_id"])
        if runs and all(r["status"] not in ("pending", "running") for r in runs):
            break
        await asyncio.sleep(0.2)
    assert [r["status"] for r in runs] == ["interrupted"]


async def test_state_history_and_memory_of_one_user_only(
    server: DevServer, model: OpenAIStandIn, user_id: str
) -> None:
    other = f"{user_id}-other"
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
        await auren.ingest(user_id, "manual", payloads.manual_entries(2))
        state = await auren.state(user_id)
        history = await auren.history(user_id, limit=50)
        await auren.analyze(user_id, as_of=END)
        hrv = await auren.memory(user_id, "HRV")
        sleep = await auren.memory(user_id, filter={"analyzer": "sleep"})
        analysis_state = await auren.state(user_id, "analysis")
        await seed(auren, other)
        others = await auren.memory(other)
    assert state["report"]["accepted"] == 4
    assert len(history) >= 2
    assert {h["metadata"].get("graph_id") for h in history} == {"ingestion"}
    assert hrv
    assert all("hrv" in f["text"].lower() for f in hrv)
    assert sleep
    assert {f["analyzer"] for f in sleep} == {"sleep"}
    assert analysis_state["narrative"]
    assert others == []


async def test_one_vendor_account_to_twenty_users_at_once_binds_exactly_one(
    server: DevServer,
) -> None:
    users = [f"user-race-{n:02d}-{uuid.uuid4().hex[:6]}" for n in range(20)]
    account = f"race-{uuid.uuid4().hex[:8]}"
    async with AurenClient(url=server.url, retries=0) as auren:
        outcomes = await asyncio.gather(
            *(auren.connect_device(user, "oura", vendor_user_id=account) for user in users),
            return_exceptions=True,
        )
        kinds = Counter(type(outcome).__name__ for outcome in outcomes)
        assert kinds == Counter({"DeviceConnection": 1, "DeviceConflictError": 19}), outcomes
        conflict = next(o for o in outcomes if isinstance(o, DeviceConflictError))
        assert "connected to another user" in str(conflict)
        [winner] = [u for u, o in zip(users, outcomes, strict=True) if not isinstance(o, Exception)]
        stored = {user: await auren.devices(user) for user in users}
    assert [d.vendor_user_id for d in stored[winner]] == [account]
    assert all(stored[user] == [] for user in users if user != winner)


def test_the_sync_twin_streams_and_can_stop_half_way(server: DevServer, user_id: str) -> None:
    with SyncAurenClient(url=server.url) as auren:
        auren.ingest(user_id, "oura", payloads.oura_sleep_page(60, END, drop_last=5))
        events = list(auren.stream_analysis(user_id, as_of=END))
        stream = auren.stream_analysis(user_id, as_of=END)
        first = next(stream)
        stream.close()  # abandoned half-way: closed on the server side, the client usable
        rows = auren.metrics(user_id, "hrv_rmssd", END, END)
    kinds = [event.type for event in events]
    assert kinds[0] == "progress" and kinds[-1] == "done" and "finding" in kinds
    assert events[-1].result is not None and events[-1].result.method_version
    assert first.type == "progress"
    assert [row.value for row in rows] == [40.0]


async def test_the_server_alone_refuses_a_bad_window_or_feedback_score(
    server: DevServer, model: OpenAIStandIn, user_id: str
) -> None:
    # The client checks neither rule: what it raises is the server's refusal.
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
        with pytest.raises(InvalidArgumentError, match="is after end"):
            await auren.metrics(user_id, "hrv_rmssd", date(2026, 11, 20), date(2026, 11, 1))
        with pytest.raises(InvalidArgumentError, match="at most 3660 days"):
            await auren.metrics(user_id, "hrv_rmssd", date(2016, 1, 1), date(2026, 11, 1))
        result = await auren.analyze(user_id, as_of=END)
        assert result.run_id is not None
        for score in (True, "0.5", 1.5, -0.1, None):
            with pytest.raises(InvalidArgumentError, match="score"):
                await auren.feedback(user_id, result.run_id, score)  # type: ignore[arg-type]
        thread = await auren.thread(user_id, "analysis")
        sdk = get_client(url=server.url)
        run = await sdk.runs.get(thread, result.run_id)

        async def recorded() -> list[object]:
            items = [await sdk.store.get_item(list(ns), result.run_id)
                     for ns in record_namespaces(str(run["assistant_id"]))]  # fmt: skip
            return [i["value"].get("feedback_score") for i in items if i is not None]

        assert all(score is None for score in await recorded())
        await auren.feedback(user_id, result.run_id, 0.5)
        assert 0.5 in await recorded()
