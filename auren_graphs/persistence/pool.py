"""The connection pool every AUREN component uses: back within a second of Postgres.

psycopg_pool retries a lost connection after 1, 2, 4, 8 ... seconds, so after a ten
second outage it may wait another eight before it looks again. AUREN retries every half
second instead: a connection attempt is cheap next to the requests waiting for it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.base import AttemptWithBackoff

RECONNECT_EVERY_SECONDS = 0.5


class _SteadyAttempt(AttemptWithBackoff):
    INITIAL_DELAY = RECONNECT_EVERY_SECONDS
    DELAY_BACKOFF = 1.0


class AurenPool(AsyncConnectionPool[AsyncConnection[DictRow]]):
    """An `AsyncConnectionPool` that reconnects at a steady pace after an outage."""

    async def _add_connection(
        self, attempt: AttemptWithBackoff | None, growing: bool = False
    ) -> None:
        await super()._add_connection(
            attempt or _SteadyAttempt(timeout=self.reconnect_timeout), growing
        )


def json_dumps(value: Any) -> bytes:
    """orjson, several times faster than the stdlib for the store's large day items;
    what orjson refuses (keys that are not strings, integers past 64 bits) goes through
    the stdlib as before."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


async def use_fast_json(connection: AsyncConnection[DictRow]) -> None:
    """Make `connection` read and write jsonb with orjson."""
    set_json_dumps(json_dumps, connection)
    set_json_loads(orjson.loads, connection)


def make_pool(
    uri: str, *, max_size: int, timeout: float, prepare_threshold: int | None
) -> AurenPool:
    """A closed pool (open it in the server's loop) of autocommit, dict-row connections."""
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": prepare_threshold,
        "row_factory": dict_row,
    }
    return AurenPool(
        uri,
        min_size=1,
        max_size=max_size,
        kwargs=kwargs,
        configure=use_fast_json,
        open=False,
        timeout=timeout,
        # A connection Postgres dropped (restart, failover) is replaced, not used.
        check=AsyncConnectionPool.check_connection,
    )
