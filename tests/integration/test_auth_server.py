"""Authentication and tenant isolation on the real server: the cross-user matrix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from auren_client import AurenClient, AuthenticationError
from tests.support import payloads
from tests.support.config import JWT_SECRET, SERVICE_KEY
from tests.support.config import user_token as token
from tests.support.server import DevServer

pytestmark = pytest.mark.integration


def as_user(server: DevServer, user: str) -> Any:
    return get_client(
        url=server.url, api_key=None, headers={"Authorization": f"Bearer {token(user)}"}
    )


async def refused(attempt: Any, *codes: int) -> None:
    """The call fails with one of `codes` (403 forbidden, or 404: not even visible)."""
    with pytest.raises(Exception) as caught:  # noqa: PT011  (SDK and client errors alike)
        await attempt
    response = getattr(caught.value, "response", None)
    status = getattr(caught.value, "status_code", None) or getattr(response, "status_code", None)
    assert status in codes, (status, caught.value)


@pytest.fixture
async def http(server: DevServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "wrong"},
        {"Authorization": f"Bearer {token('alice', ttl=-120)}"},  # past the 30 s leeway
        {"Authorization": f"Bearer {token('alice', secret='not-the-secret')}"},
        {"Authorization": "Bearer not-a-jwt"},
        {"x-auth-scheme": "langsmith"},  # the dev server's Studio bypass stays closed
    ],
)
async def test_missing_or_bad_credentials_get_401(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for method, path, body in [
        ("POST", "/threads/search", {}),
        ("POST", "/store/namespaces", {}),
        ("POST", "/assistants/search", {}),
    ]:
        response = await http.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, headers, response.text)
        assert SERVICE_KEY not in response.text


async def test_a_user_token_does_what_a_user_may(server: DevServer) -> None:
    """The user's side of the attack suite (reliability/identity*.py): with their own
    token a user ingests, reads and analyses their own data, and nobody else's."""
    alice, bob = f"alice-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"
    async with AurenClient(url=server.url) as service:  # the service key, from the env
        await service.ingest(bob, "manual", payloads.manual_entries(2))
    async with AurenClient(url=server.url, token=token(alice)) as client:
        report = await client.ingest(alice, "manual", payloads.manual_entries(2))
        assert report.accepted == 4
        assert len(await client.metrics(alice, "heart_rate", *payloads.DAYS)) == 2
        assert (await client.state(alice))["report"]["accepted"] == 4
        await client.connect_device(alice, "manual", ingest_token="t" * 32)
        assert [d.device for d in await client.devices(alice)] == ["manual"]
        await refused(client.metrics(bob, "heart_rate", *payloads.DAYS), 403)
        await refused(client.connect_device(alice, "whoop", vendor_user_id="1"), 403)
    sdk_alice = as_user(server, alice)
    mine = await sdk_alice.threads.search(limit=100)
    assert mine and {t["metadata"]["user_id"] for t in mine} == {alice}
    own = await sdk_alice.threads.create()
    assert own["metadata"]["user_id"] == alice
    assert await sdk_alice.assistants.search(limit=5)


async def test_client_reports_bad_credentials_clearly(server: DevServer) -> None:
    async with AurenClient(url=server.url, api_key="wrong-key") as auren:
        with pytest.raises(AuthenticationError, match="401"):
            await auren.ingest("someone", "manual", payloads.manual_entries(1))


async def test_secrets_never_reach_the_log(server: DevServer) -> None:
    async with AurenClient(url=server.url, api_key="wrong-key") as auren:
        with pytest.raises(AuthenticationError):
            await auren.metrics("x", "heart_rate", *payloads.DAYS)
    log = server.log_path.read_text(errors="replace")
    for secret in (SERVICE_KEY, JWT_SECRET, "second-key", "wrong-key", "test-key"):
        assert secret not in log, secret
