"""Riding out a Postgres restart: idempotent calls are retried, then fail clearly.

A connection Postgres drops mid-statement (restart, failover) raises at once; a call
waiting for a connection while Postgres is down waits `db_wait_seconds` per attempt.
Checkpoint writes and store puts are upserts and reads have no effect, so retrying
them until `db_outage_seconds` have passed is safe: a run in flight survives a short
outage unnoticed. After that the call raises `DatabaseUnavailableError`, which the HTTP
surface answers with 503 and the client reports as `ServiceUnavailableError`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_delay,
    wait_fixed,
)

from auren_graphs.settings import get_settings

T = TypeVar("T")
logger = logging.getLogger(__name__)
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)  # PoolTimeout included


class DatabaseUnavailableError(RuntimeError):
    """Postgres stayed unreachable for longer than AUREN rides out (`db_outage_seconds`)."""


async def ride_out(call: Callable[[], Awaitable[T]], what: str) -> T:
    """`await call()`, retried through a Postgres outage of up to `db_outage_seconds`."""
    settings = get_settings()
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            stop=stop_after_delay(settings.db_outage_seconds),
            wait=wait_fixed(0.25),
            reraise=True,
            before_sleep=before_sleep_log(logger, logging.WARNING),
        ):
            with attempt:
                return await call()
    except TRANSIENT as exc:
        raise DatabaseUnavailableError(
            f"Postgres is unavailable ({what} failed for {settings.db_outage_seconds:.0f} s: "
            f"{type(exc).__name__}: {str(exc).strip()[:200]}); retry shortly"
        ) from exc
    raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover
