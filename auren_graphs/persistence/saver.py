"""The Postgres checkpointer the server uses, with what the platform needs added.

`AsyncPostgresSaver` has no `adelete_for_runs`. The server calls it when a run is
rolled back (`multitask_strategy="rollback"`); without it the rollback answers 500 and
can wedge the thread's queue. The platform stamps every checkpoint's metadata with its
`run_id`, so deleting a run's checkpoints, their writes and the blobs no remaining
checkpoint refers to returns the thread to where it was before the run.

It also rides out a Postgres restart (`auren_graphs.persistence.outage`): reads and the
idempotent writes a run makes are retried through a short outage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from auren_graphs.persistence.outage import ride_out

_THREADS_OF_RUNS = """
SELECT DISTINCT thread_id FROM checkpoints WHERE metadata->>'run_id' = ANY(%s)
"""
_DELETE_WRITES = """
DELETE FROM checkpoint_writes w USING checkpoints c
WHERE c.metadata->>'run_id' = ANY(%s)
  AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
  AND w.checkpoint_id = c.checkpoint_id
"""
_DELETE_CHECKPOINTS = "DELETE FROM checkpoints WHERE metadata->>'run_id' = ANY(%s)"
_DELETE_ORPHAN_BLOBS = """
DELETE FROM checkpoint_blobs b
WHERE b.thread_id = ANY(%s)
  AND NOT EXISTS (
    SELECT 1 FROM checkpoints c
    WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
      AND c.checkpoint->'channel_versions'->>b.channel = b.version
  )
"""


class AurenPostgresSaver(AsyncPostgresSaver):
    """`AsyncPostgresSaver` plus `adelete_for_runs`, so every multitask strategy works,
    and retries through a Postgres restart."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await ride_out(lambda: AsyncPostgresSaver.aget_tuple(self, config), "read")

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await ride_out(
            lambda: AsyncPostgresSaver.aput(self, config, checkpoint, metadata, new_versions),
            "checkpoint",
        )

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await ride_out(
            lambda: AsyncPostgresSaver.aput_writes(self, config, writes, task_id, task_path),
            "writes",
        )

    async def adelete_for_runs(self, run_ids: Iterable[str]) -> None:
        ids = [str(run_id) for run_id in run_ids]
        if not ids:
            return
        async with self._cursor() as cur, cur.connection.transaction():
            await cur.execute(_THREADS_OF_RUNS, (ids,))
            threads = [row["thread_id"] for row in await cur.fetchall()]
            await cur.execute(_DELETE_WRITES, (ids,))
            await cur.execute(_DELETE_CHECKPOINTS, (ids,))
            await cur.execute(_DELETE_ORPHAN_BLOBS, (threads,))
