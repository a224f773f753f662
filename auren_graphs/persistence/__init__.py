"""Checkpointer and store factories named by `langgraph.json`.

`checkpointer.path` and `store.path` in `langgraph.json` point here. With
`AUREN_POSTGRES_URI` set they use that database, otherwise an embedded Postgres under
`.auren/`. The in-memory mode is not here: `langgraph.platform.json` simply names no
checkpointer or store, so the dev server's own in-memory runtime (which supports every
multitask strategy) is used. The server enters each factory once per event loop, so
every loop gets its own connection pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore, Op, Result
from langgraph.store.postgres.aio import AsyncPostgresStore

from auren_graphs.persistence.embedded import embedded_uri
from auren_graphs.persistence.outage import DatabaseUnavailableError, ride_out
from auren_graphs.persistence.pool import AurenPool, make_pool
from auren_graphs.persistence.saver import AurenPostgresSaver
from auren_graphs.settings import get_settings

__all__ = [
    "AurenPostgresSaver",
    "AurenPostgresStore",
    "DatabaseUnavailableError",
    "checkpointer",
    "database_uri",
    "store",
]


class AurenPostgresStore(AsyncPostgresStore):
    """`AsyncPostgresStore` that retries through a Postgres restart: a batch is reads
    and upserts, so running it again is safe."""

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        return await ride_out(lambda: AsyncPostgresStore.abatch(self, ops), "store")


def database_uri() -> str:
    """The Postgres AUREN uses: AUREN_POSTGRES_URI, else the embedded one."""
    settings = get_settings()
    return settings.postgres_uri or embedded_uri(settings.data_dir)


@asynccontextmanager
async def _pool() -> AsyncIterator[AurenPool]:
    settings = get_settings()
    # prepare_threshold=0: prepared statements break behind poolers like pgbouncer.
    pool = make_pool(
        database_uri(),
        max_size=settings.pool_max_size,
        timeout=settings.db_wait_seconds,
        prepare_threshold=0,
    )
    async with pool:
        yield pool


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[str]]:
    """The server's checkpointer (langgraph.json `checkpointer.path`)."""
    async with _pool() as pool:
        saver = AurenPostgresSaver(pool)
        await saver.setup()
        yield saver


@asynccontextmanager
async def store() -> AsyncIterator[BaseStore]:
    """The server's long-term store (langgraph.json `store.path`)."""
    async with _pool() as pool:
        pg_store = AurenPostgresStore(pool)
        await pg_store.setup()
        yield pg_store
