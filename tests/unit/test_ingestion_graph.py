"""The ingestion graph compiled in-process with in-memory saver and store."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from auren_contract import (
    following_upload_keys,
    metric_namespace,
    series_upload_key,
    uploads_namespace,
)
from auren_graphs.ingestion import worker
from auren_graphs.ingestion.graph import builder, route_after_check_input, route_after_ingest
from auren_graphs.ingestion.state import IngestError, IngestionState
from tests.support import payloads
from tests.support.identity import as_user


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


async def _run(store: InMemoryStore, inputs: dict[str, Any]) -> dict[str, Any]:
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    return await graph.ainvoke(inputs, as_user(inputs["user_id"], "ingestion"))


async def test_manual_payload_is_stored_and_reported(store: InMemoryStore) -> None:
    out = await _run(
        store, {"user_id": "u1", "device": "manual", "payload": payloads.manual_entries(2)}
    )
    assert out.get("error") is None
    assert (out["report"]["accepted"], out["report"]["duplicates"]) == (4, 0)
    item = await store.aget(metric_namespace("u1", "resting_heart_rate"), "2026-10-01")
    assert item is not None
    assert item.value["rows"][0]["value"] == 50.0


async def test_second_delivery_counts_duplicates(store: InMemoryStore) -> None:
    inputs = {"user_id": "u1", "device": "oura", "payload": payloads.oura_readiness_page(3)}
    await _run(store, inputs)
    again = await _run(store, inputs)
    assert (again["report"]["accepted"], again["report"]["duplicates"]) == (0, 6)


async def test_uploads_are_consumed_in_turn_and_removed(store: InMemoryStore) -> None:
    keys = []
    for n in range(3):
        key = f"k{n}"
        start = f"2026-10-0{n + 1}"
        await store.aput(uploads_namespace("u2"), key, {"payload": payloads.apple_export(5, start)})
        keys.append(key)
    out = await _run(store, {"user_id": "u2", "device": "apple_health", "uploads": keys})
    assert out["report"]["accepted"] == 15
    assert await store.asearch(uploads_namespace("u2")) == []


async def test_the_upload_after_a_runs_last_is_read_ahead_for_the_next_run(
    store: InMemoryStore,
) -> None:
    keys = await _stage_series(store, "u6", uploads=3, records=4)
    first = await _run_as(store, "u6", keys[:1])
    assert worker.prefetching(("u6", keys[1])) and worker.prefetching(("u6", keys[2]))
    second = await _run_as(store, "u6", keys[1:])
    assert (first["report"]["accepted"], second["report"]["accepted"]) == (4, 8)
    assert not worker.prefetching(("u6", keys[1])) and not worker.prefetching(("u6", keys[2]))
    assert await store.asearch(uploads_namespace("u6")) == []


async def test_another_user_naming_the_same_series_gets_none_of_its_readings(
    store: InMemoryStore,
) -> None:
    # Bob names Alice's next upload keys in his own run: readings are keyed by the
    # authenticated user, and his run reads only his own uploads.
    keys = await _stage_series(store, "alice", uploads=2, records=3)
    await _run_as(store, "alice", keys[:1])
    assert worker.prefetching(("alice", keys[1]))
    bob = await _run_as(store, "bob", keys[1:])
    assert bob["report"]["accepted"] == 0
    assert await store.asearch(metric_namespace("bob", "heart_rate")) == []
    assert worker.prefetching(("alice", keys[1]))  # still Alice's, for her next run
    alice = await _run_as(store, "alice", keys[1:])
    assert alice["report"]["accepted"] == 3


async def _stage_series(store: InMemoryStore, user: str, uploads: int, records: int) -> list[str]:
    """Apple uploads named as the client names an export's (one series), a day apart."""
    series = uuid.uuid4().hex
    keys = [series_upload_key(series, n) for n in range(uploads)]
    for n, key in enumerate(keys):
        payload = payloads.apple_export(records, f"2026-10-0{n + 1}")
        await store.aput(
            uploads_namespace(user), key, {"device": "apple_health", "payload": payload}
        )
    return keys


async def _run_as(store: InMemoryStore, user: str, uploads: list[str]) -> dict[str, Any]:
    """An Apple run of `user` (authenticated as such) on `uploads`."""
    return await _run(store, {"user_id": user, "device": "apple_health", "uploads": uploads})


def test_a_series_key_names_the_ones_after_it() -> None:
    key = series_upload_key("0123456789abcdef0123456789abcdef", 41)
    assert key == "0123456789abcdef0123456789abcdef-000041"
    assert following_upload_keys(key, 2) == [
        "0123456789abcdef0123456789abcdef-000042",
        "0123456789abcdef0123456789abcdef-000043",
    ]
    assert following_upload_keys(key, 0) == []
    assert following_upload_keys("f00d", 2) == []  # not a series: nothing is guessed


async def test_invalid_payload_stores_nothing(store: InMemoryStore) -> None:
    out = await _run(
        store, {"user_id": "u3", "device": "apple_health", "payload": payloads.BILLION_LAUGHS}
    )
    assert out["error"]["kind"] == "invalid_payload"
    assert "entit" in out["error"]["message"].lower()
    # (The in-memory store creates an empty namespace on a read; no item may exist.)
    for namespace in await store.alist_namespaces(prefix=("users", "u3")):
        assert await store.asearch(namespace) == []


async def test_input_without_payload_is_refused(store: InMemoryStore) -> None:
    out = await _run(store, {"user_id": "u4", "device": "manual"})
    assert out["error"]["kind"] == "invalid_input"


def test_routers_follow_device_and_cursor() -> None:
    state = IngestionState(user_id="u", device="whoop", uploads=["a", "b"], cursor=1)
    assert route_after_check_input(state) == "ingest_whoop"
    assert route_after_ingest(state) == "ingest_whoop"
    assert route_after_ingest(state.model_copy(update={"cursor": 2})) == "__end__"
    refused = state.model_copy(update={"error": IngestError(kind="invalid_input", message="x")})
    assert route_after_check_input(refused) == "__end__"


async def test_a_thread_carries_nothing_from_one_run_into_the_next(store: InMemoryStore) -> None:
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user("u5", "ingestion")
    await store.aput(uploads_namespace("u5"), "k", {"payload": payloads.apple_export(3)})
    first = await graph.ainvoke(
        {"user_id": "u5", "device": "apple_health", "uploads": ["k"]}, config
    )
    inline = {"user_id": "u5", "device": "manual", "payload": payloads.manual_entries(1)}
    second = await graph.ainvoke(inline, config)
    third = await graph.ainvoke(inline, config)
    assert first["report"]["accepted"] == 3
    assert second.get("error") is None
    assert (second["report"]["accepted"], second["report"]["records"]) == (2, 2)
    assert (third["report"]["accepted"], third["report"]["duplicates"]) == (0, 2)
