"""The connection pool every AUREN component uses: back within a second of Postgres.

psycopg_pool retries a lost connection after 1, 2, 4, 8 ... seconds, so after a ten
second outage it may wait another eight before it looks again. AUREN retries every half
second instead: a connection attempt is cheap next to the requests waiting for it.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
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
        open=False,
        timeout=timeout,
        # A connection Postgres dropped (restart, failover) is replaced, not used.
        check=AsyncConnectionPool.check_connection,
    )
