"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import DevServer, server_env, throwaway_postgres

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    with throwaway_postgres() as uri:
        yield uri


def _dev_server(env: dict[str, str], config: str = "langgraph.json") -> Iterator[DevServer]:
    workdir = Path(tempfile.mkdtemp(prefix="auren-dev-"))
    server = DevServer(env=env, workdir=workdir, config=config)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def openai_standin() -> Iterator[OpenAIStandIn]:
    """An OpenAI-compatible stand-in on 127.0.0.1; tests switch its mode and reset it."""
    standin = OpenAIStandIn()
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def model(openai_standin: OpenAIStandIn) -> Iterator[OpenAIStandIn]:
    """The stand-in, back in its healthy mode after the test."""
    yield openai_standin
    openai_standin.set("ok")


@pytest.fixture(scope="session")
def server(postgres_uri: str, openai_standin: OpenAIStandIn) -> Iterator[DevServer]:
    """`langgraph dev` on a free port, with checkpoints and the store in Postgres and the
    OpenAI stand-in as its model."""
    env = server_env(
        postgres_uri,
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=openai_standin.base_url,
        AUREN_MODEL_BREAKER_RESET_SECONDS="1",
    )
    yield from _dev_server(env)


@pytest.fixture(scope="session")
def memory_server() -> Iterator[DevServer]:
    """`langgraph dev` on its own in-memory runtime (`langgraph.platform.json`)."""
    yield from _dev_server(server_env(None), config="langgraph.platform.json")


@pytest.fixture
def user_id() -> str:
    """A fresh user per test, so tests never see each other's data."""
    return f"user-{uuid.uuid4().hex[:12]}"
