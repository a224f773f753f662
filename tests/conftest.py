"""Fixtures shared by the whole suite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.config import AUTH_ENV, CLIENT_KEY_ENV
from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import DevServer, running_server, server_env, throwaway_postgres


@pytest.fixture(scope="session", autouse=True)
def _clients_send_the_service_key() -> Iterator[None]:
    """Servers started by the suite enforce auth; this process's clients send the
    service key by default (set for the session, undone after it)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CLIENT_KEY_ENV.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    with throwaway_postgres() as uri:
        yield uri


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
        **AUTH_ENV,
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=openai_standin.base_url,
        AUREN_MODEL_BREAKER_RESET_SECONDS="1",
    )
    with running_server(env) as server:
        yield server


@pytest.fixture(scope="session")
def memory_server(postgres_uri: str) -> Iterator[DevServer]:
    """`langgraph dev` on its own in-memory runtime (`langgraph.platform.json`): threads,
    checkpoints and the store in memory; AUREN's own records (connections, webhook
    events) still in Postgres, here the suite's."""
    env = server_env(postgres_uri, **AUTH_ENV)
    with running_server(env, "langgraph.platform.json") as server:
        yield server


@pytest.fixture
def user_id() -> str:
    """A fresh user per test, so tests never see each other's data."""
    return f"user-{uuid.uuid4().hex[:12]}"
