"""Where AUREN's records live, and one connection pool per event loop to reach them.

Modules declare their tables with `register_schema`; the first pool of a process creates
them all, once, under an advisory lock (several processes may start at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from auren_graphs.persistence.pool import AurenPool, make_pool
from auren_graphs.settings import Settings, get_settings

_SCHEMAS: dict[str, str] = {}
_POOLS: dict[asyncio.AbstractEventLoop, AurenPool] = {}
_READY: set[asyncio.AbstractEventLoop] = set()
_SCHEMA_LOCK = "auren_records_schema"


def register_schema(name: str, ddl: str) -> None:
    """Declare a table (idempotent DDL: CREATE ... IF NOT EXISTS)."""
    _SCHEMAS[name] = ddl


def records_uri(settings: Settings) -> str:
    """AUREN_POSTGRES_URI; else the platform's Postgres (DATABASE_URI, which `langgraph
    dev` sets to ":memory:"); else the embedded Postgres (started on first use)."""
    if settings.postgres_uri:
        return settings.postgres_uri
    if settings.database_uri and settings.database_uri.startswith(("postgres://", "postgresql://")):
        return settings.database_uri
    from auren_graphs.persistence.embedded import embedded_uri  # may start Postgres

    return embedded_uri(settings.data_dir)


async def _pool() -> AurenPool:
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None:
        settings = get_settings()
        uri = await asyncio.to_thread(records_uri, settings)
        pool = make_pool(uri, max_size=settings.pool_max_size, timeout=5.0, prepare_threshold=None)
        # Another task of this loop may have made one while we waited for the URI.
        pool = _POOLS.setdefault(loop, pool)
        await pool.open(wait=False)
    if loop not in _READY:
        await _create_tables(pool, get_settings().db_wait_seconds * 10)
        _READY.add(loop)
    return pool


async def _create_tables(pool: AurenPool, wait: float) -> None:
    async with pool.connection(timeout=wait) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_SCHEMA_LOCK])
        for ddl in _SCHEMAS.values():
            await conn.execute(ddl)


@asynccontextmanager
async def connection(wait: float = 5.0) -> AsyncIterator[AsyncConnection[DictRow]]:
    """A connection (autocommit; open a transaction with `conn.transaction()`)."""
    pool = await _pool()
    async with pool.connection(timeout=wait) as conn:
        yield conn


async def close_pool() -> None:
    """Close this event loop's pool (the server's shutdown)."""
    loop = asyncio.get_running_loop()
    _READY.discard(loop)
    pool = _POOLS.pop(loop, None)
    if pool is not None:
        await pool.close()
