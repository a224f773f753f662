"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import DevServer, server_env, throwaway_postgres

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    with throwaway_postgres() as uri:
        yield uri


def _dev_server(env: dict[str, str]) -> Iterator[DevServer]:
    workdir = Path(tempfile.mkdtemp(prefix="auren-dev-"))
    server = DevServer(env=env, workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def server(postgres_uri: str) -> Iterator[DevServer]:
    """`langgraph dev` on a free port, with checkpoints and the store in Postgres."""
    yield from _dev_server(server_env(postgres_uri))


@pytest.fixture(scope="session")
def memory_server() -> Iterator[DevServer]:
    """`langgraph dev` in AUREN's explicit in-memory mode."""
    yield from _dev_server(server_env(None, AUREN_PERSISTENCE="memory"))


@pytest.fixture
def user_id() -> str:
    """A fresh user per test, so tests never see each other's data."""
    return f"user-{uuid.uuid4().hex[:12]}"
