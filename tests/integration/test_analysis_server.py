"""Analysis end to end: ingest months of data, stream an analysis from the real server."""

from __future__ import annotations

import json
from datetime import date

import pytest
from langgraph_sdk import get_client

from auren_client import AnalysisEvent, AurenClient
from tests.support import payloads
from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import DevServer

pytestmark = pytest.mark.integration

END = date(2026, 11, 20)
QUICK_MODEL = {"model_timeout_seconds": 2, "model_max_retries": 1}


async def seed(auren: AurenClient, user_id: str, *, drop_last: int = 7) -> None:
    report = await auren.ingest(
        user_id, "oura", payloads.oura_sleep_page(90, END, drop_last=drop_last)
    )
    assert report.accepted > 0
    await auren.ingest(user_id, "oura", payloads.oura_readiness_page(30, start=date(2026, 10, 22)))


async def collect(auren: AurenClient, user_id: str, **kwargs: object) -> list[AnalysisEvent]:
    return [
        e async for e in auren.stream_analysis(user_id, "How is my recovery?", as_of=END, **kwargs)
    ]  # type: ignore[arg-type]


async def test_streamed_analysis_with_the_model(
    server: DevServer, model: OpenAIStandIn, user_id: str
) -> None:
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
        events = await collect(auren, user_id)
    types = [e.type for e in events]
    assert types[-1] == "done"
    analyzers = {e.data.get("analyzer") for e in events if e.type == "progress"} - {None}
    assert analyzers == {"hrv", "rhr", "sleep", "training", "bands"}
    # Progress and findings stream before the narrative's tokens.
    assert types.index("finding") < types.index("token")
    tokens = [e for e in events if e.type == "token"]
    assert {e.source for e in tokens} == {"model"}
    result = events[-1].result
    assert result is not None
    assert result.narrative_source == "model"
    assert result.narrative == "".join(e.text for e in tokens) == model.reply
    hrv = next(f for f in result.findings if f["id"] == "hrv_status")
    assert hrv["values"]["status"] == "below_normal"
    assert result.assessment["hrv_status"] == "below_normal"
    prompt = json.dumps(model.requests[-1]["messages"])
    assert "HRV (lnRMSSD) below your normal range" in prompt


@pytest.mark.parametrize(
    ("mode", "reply", "reason"),
    [
        ("fail", None, "failed"),
        ("hang", None, "failed"),
        ("drop", None, "failed"),
        ("ok", "Your HRV dropped by 37 percent.", "numbers no finding states: 37"),
    ],
)
async def test_model_trouble_falls_back_to_the_deterministic_narrative(
    server: DevServer, model: OpenAIStandIn, user_id: str, mode: str, reply: str | None, reason: str
) -> None:
    model.set(mode, reply or model.reply)
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
        result = await auren.analyze(user_id, as_of=END, context=QUICK_MODEL)
    assert result.narrative_source == "deterministic"
    assert reason in (result.fallback_reason or "")
    assert {f["id"] for f in result.findings} >= {"hrv_status", "sleep_debt"}
    assert "HRV" in result.narrative


async def test_without_a_model_the_deterministic_writer_streams(
    memory_server: DevServer, user_id: str
) -> None:
    async with AurenClient(url=memory_server.url) as auren:
        await seed(auren, user_id)
        events = await collect(auren, user_id)
    tokens = [e for e in events if e.type == "token"]
    assert tokens
    assert {e.source for e in tokens} == {"deterministic"}
    result = events[-1].result
    assert result is not None
    assert result.narrative == "".join(e.text for e in tokens)
    assert "OPENAI_API_KEY" in (result.fallback_reason or "")


async def test_findings_are_remembered_and_state_stays_bounded(
    server: DevServer, model: OpenAIStandIn, user_id: str
) -> None:
    sdk = get_client(url=server.url)
    async with AurenClient(url=server.url) as auren:
        await seed(auren, user_id)
        first = await auren.analyze(user_id, as_of=END)
        threads = await sdk.threads.search(metadata={"user_id": user_id, "graph": "analysis"})
        size_after_one = len(
            json.dumps((await sdk.threads.get_state(threads[0]["thread_id"]))["values"])
        )
        for _ in range(4):
            await auren.analyze(user_id, as_of=END)
        size_after_five = len(
            json.dumps((await sdk.threads.get_state(threads[0]["thread_id"]))["values"])
        )
    assert size_after_five <= size_after_one * 1.05
    remembered = await sdk.store.search_items(["users", user_id, "findings"], limit=100)
    ids = {item["value"]["id"] for item in remembered["items"]}
    assert ids == {f["id"] for f in first.findings}
    other = await sdk.store.search_items(["users", "someone-else", "findings"], limit=100)
    assert other["items"] == []
