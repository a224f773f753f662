"""AurenPostgresSaver on a real Postgres: what the platform needs for rollback."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from auren_graphs.persistence import AurenPostgresSaver

pytestmark = pytest.mark.integration


class Counter(TypedDict):
    total: int
    seen: Annotated[list[str], operator.add]


def _graph(saver: AurenPostgresSaver):  # type: ignore[no-untyped-def]
    builder = StateGraph(Counter)
    builder.add_node("bump", lambda s: {"total": s["total"] + 1, "seen": ["bump"]})
    builder.add_edge(START, "bump")
    builder.add_edge("bump", END)
    return builder.compile(checkpointer=saver)


async def _count(conn: AsyncConnection, table: str, thread_id: str) -> int:
    cur = await conn.execute(
        f"SELECT count(*) AS n FROM {table} WHERE thread_id = %s", (thread_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def test_delete_for_runs_returns_thread_to_before_the_run(postgres_uri: str) -> None:
    thread = str(uuid.uuid4())
    async with await AsyncConnection.connect(
        postgres_uri, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        saver = AurenPostgresSaver(conn)  # type: ignore[arg-type]
        await saver.setup()
        graph = _graph(saver)
        config = {"configurable": {"thread_id": thread}}
        await graph.ainvoke({"total": 1, "seen": []}, {**config, "metadata": {"run_id": "run-a"}})
        counts_after_a = {
            t: await _count(conn, t, thread)
            for t in ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        }
        await graph.ainvoke(
            {"total": 10, "seen": ["x"]}, {**config, "metadata": {"run_id": "run-b"}}
        )
        assert (await graph.aget_state(config)).values["total"] == 11

        await saver.adelete_for_runs(["run-b"])

        state = await graph.aget_state(config)
        assert state.values == {"total": 2, "seen": ["bump"]}
        runs = {c.metadata.get("run_id") async for c in saver.alist(config)}
        assert runs == {"run-a"}
        after = {t: await _count(conn, t, thread) for t in counts_after_a}
        assert after == counts_after_a
        # Deleting unknown runs, or none, is harmless.
        await saver.adelete_for_runs(["no-such-run"])
        await saver.adelete_for_runs([])
        assert (await graph.aget_state(config)).values["total"] == 2
