"""Persistence on the real server: the four multitask strategies, and SIGKILL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError

from auren_client import AurenClient
from auren_contract import uploads_namespace
from tests.support import payloads
from tests.support.config import AUTH_ENV, SERVICE_KEY
from tests.support.server import DevServer, running_server, server_env
from tests.support.users import sdk_as, user_thread

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgres", "memory"])
def any_server(request: pytest.FixtureRequest) -> DevServer:
    name = "server" if request.param == "postgres" else "memory_server"
    return request.getfixturevalue(name)


async def _slow_ingestion(sdk: Any, user_id: str, thread_id: str, **kwargs: Any) -> dict[str, Any]:
    """Start an ingestion run over several staged uploads, so it runs for a while."""
    keys = []
    for n in range(6):
        key = uuid.uuid4().hex
        xml = payloads.apple_export(heart_rates=6000, start=f"2026-09-{n + 1:02d}")
        await sdk.store.put_item(
            list(uploads_namespace(user_id)), key, {"device": "apple_health", "payload": xml}
        )
        keys.append(key)
    return await sdk.runs.create(
        thread_id,
        "ingestion",
        input={"user_id": user_id, "device": "apple_health", "uploads": keys},
        **kwargs,
    )


async def _wait_running(sdk: Any, thread_id: str, run_id: str) -> None:
    for _ in range(200):
        if (await sdk.runs.get(thread_id, run_id))["status"] == "running":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the first run never started")


def _second_input(user_id: str) -> dict[str, Any]:
    # Every key is given: a key left out of a run's input keeps the thread's last value.
    return {
        "user_id": user_id,
        "device": "manual",
        "payload": payloads.manual_entries(days=1),
        "uploads": [],
    }


@pytest.mark.parametrize("strategy", ["reject", "enqueue", "interrupt", "rollback"])
async def test_multitask_strategy(any_server: DevServer, user_id: str, strategy: str) -> None:
    sdk = sdk_as(any_server.url, user_id, SERVICE_KEY)
    thread_id = await user_thread(any_server.url, user_id, "ingestion", SERVICE_KEY)
    first = await _slow_ingestion(sdk, user_id, thread_id)
    await _wait_running(sdk, thread_id, first["run_id"])
    if strategy == "reject":
        with pytest.raises(ConflictError):
            await sdk.runs.create(
                thread_id, "ingestion", input=_second_input(user_id), multitask_strategy="reject"
            )
        result = await sdk.runs.join(thread_id, first["run_id"])
        assert result["report"]["accepted"] == 36_000
        return
    second = await sdk.runs.create(
        thread_id, "ingestion", input=_second_input(user_id), multitask_strategy=strategy
    )
    second_result = await sdk.runs.join(thread_id, second["run_id"])
    assert second_result["report"]["accepted"] == 2
    if strategy == "enqueue":
        assert (await sdk.runs.get(thread_id, first["run_id"]))["status"] == "success"
    elif strategy == "interrupt":
        assert (await sdk.runs.get(thread_id, first["run_id"]))["status"] == "interrupted"
    else:
        with pytest.raises(NotFoundError):
            await sdk.runs.get(thread_id, first["run_id"])
        history = await sdk.threads.get_history(thread_id, limit=100)
        assert history, "the second run left its checkpoints"
        assert history[0]["metadata"]["run_id"] == second["run_id"]
        leftover = [
            h["metadata"] for h in history if h["metadata"].get("run_id") == first["run_id"]
        ]
        if "Configuring custom checkpointer" in any_server.log_path.read_text():
            assert leftover == [], leftover
        # The in-memory runtime deletes the cancelled run's checkpoints while the run may
        # still be finishing a step, so under load one can reappear in the history (its
        # state is not the thread's); the Postgres saver deletes in one transaction.
    # The thread is not wedged: another run goes through.
    third = await sdk.runs.wait(thread_id, "ingestion", input=_second_input(user_id))
    assert third["report"]["duplicates"] == 2


@pytest.fixture(scope="module")
def killable_server(postgres_uri: str) -> Iterator[DevServer]:
    with running_server(server_env(postgres_uri, **AUTH_ENV)) as server:
        yield server


async def test_acknowledged_data_survives_sigkill(killable_server: DevServer, user_id: str) -> None:
    async with AurenClient(url=killable_server.url) as auren:
        report = await auren.ingest(user_id, "manual", payloads.manual_entries(days=30))
    assert report.accepted == 60
    killable_server.restart(kill=True)
    async with AurenClient(url=killable_server.url) as auren:
        rows = await auren.metrics(user_id, "heart_rate", date(2026, 9, 1), date(2026, 12, 1))
        again = await auren.ingest(user_id, "manual", payloads.manual_entries(days=30))
    assert len(rows) == 30
    assert (again.accepted, again.duplicates) == (0, 60)


async def test_run_killed_midway_loses_nothing_on_redelivery(
    killable_server: DevServer, user_id: str
) -> None:
    sdk = sdk_as(killable_server.url, user_id, SERVICE_KEY)
    thread_id = await user_thread(killable_server.url, user_id, "ingestion", SERVICE_KEY)
    first = await _slow_ingestion(sdk, user_id, thread_id)
    await _wait_running(sdk, thread_id, first["run_id"])
    killable_server.restart(kill=True)
    # The sender never got an answer, so it delivers again; nothing is doubled.
    async with AurenClient(url=killable_server.url) as auren:
        for n in range(6):
            xml = payloads.apple_export(heart_rates=6000, start=f"2026-09-{n + 1:02d}")
            await auren.ingest(user_id, "apple_health", xml)
        rows = await auren.metrics(user_id, "heart_rate", date(2026, 9, 1), date(2026, 9, 6))
    assert len(rows) == 6 * 6000
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{killable_server.url}/ok")).status_code == 200


def test_each_runtime_is_what_it_claims(server: DevServer, memory_server: DevServer) -> None:
    assert (
        "Configuring custom checkpointer at auren_graphs.persistence" in server.log_path.read_text()
    )
    assert "custom checkpointer" not in memory_server.log_path.read_text().lower()
