"""Riding out a Postgres outage: retried while it lasts, then a clear 503-worthy error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from auren_graphs.persistence.outage import DatabaseUnavailableError, ride_out
from auren_graphs.settings import get_settings


@pytest.fixture(autouse=True)
def short_outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AUREN_DB_OUTAGE_SECONDS", "0.6")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def flaky(*failures: BaseException) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "done"

    return calls, call


async def test_a_short_outage_is_ridden_out() -> None:
    calls, call = flaky(psycopg.OperationalError("terminating connection"), PoolTimeout("x"))
    assert await ride_out(call, "checkpoint") == "done"
    assert len(calls) == 3


async def test_a_long_outage_fails_clearly() -> None:
    calls, call = flaky(*[psycopg.OperationalError("connection refused")] * 100)
    with pytest.raises(DatabaseUnavailableError, match=r"Postgres is unavailable \(checkpoint"):
        await ride_out(call, "checkpoint")
    assert 2 <= len(calls) < 100


async def test_other_errors_are_not_retried() -> None:
    calls, call = flaky(psycopg.errors.UniqueViolation("dup"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        await ride_out(call, "checkpoint")
    assert len(calls) == 1
