"""Whom a run serves, without a server: the identity rule, and each graph's entry node."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.fernet import Fernet
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from auren_contract import derive_thread_id, is_server_thread_id, user_id_problem
from auren_graphs import auth
from auren_graphs.analysis.graph import builder as analysis_builder
from auren_graphs.crypto import (
    ConfigurationError,
    SecretBox,
    SecretUnreadableError,
    check_configured,
)
from auren_graphs.identity import IdentityError, caller_of_run, require_operator, serving_user
from auren_graphs.ingestion.graph import builder as ingestion_builder
from auren_graphs.settings import Settings
from tests.support import payloads
from tests.support.identity import THREAD_KEY, as_service, as_system, as_user, thread_of

# -- the rule ----------------------------------------------------------------------------


def test_the_caller_is_what_authentication_stamped() -> None:
    assert caller_of_run(as_user("user-a", "analysis")).name == "user-a"
    assert caller_of_run(as_service("t")).kind == "service"
    assert caller_of_run(as_system("t")).kind == "system"
    # A user's cron fires with their identity and no permissions: still theirs.
    cron_run = {"configurable": {"langgraph_auth_user_id": "user-a", "thread_id": "t"}}
    assert caller_of_run(cron_run).kind == "user"
    with pytest.raises(IdentityError):
        caller_of_run({"configurable": {"langgraph_auth_user_id": "weird:id"}})


async def test_a_user_is_served_and_only_they() -> None:
    config = as_user("user-a", "ingestion")
    assert await serving_user(config, None, graph="ingestion") == "user-a"
    assert await serving_user(config, "user-a", graph="ingestion") == "user-a"
    with pytest.raises(IdentityError, match="cannot act for user-b"):
        await serving_user(config, "user-b", graph="ingestion")


async def test_ingestion_runs_only_on_the_users_own_thread() -> None:
    elsewhere = as_user("user-a", "ingestion", thread=str(uuid.uuid4()))
    with pytest.raises(IdentityError, match="own ingestion thread"):
        await serving_user(elsewhere, None, graph="ingestion")
    other_users = as_user("user-a", "ingestion", thread=thread_of("user-b", "ingestion"))
    with pytest.raises(IdentityError):
        await serving_user(other_users, None, graph="ingestion")
    # Analysis may run on any of the user's threads (or none: stateless).
    anywhere = as_user("user-a", "analysis", thread=str(uuid.uuid4()))
    assert await serving_user(anywhere, None, graph="analysis") == "user-a"


async def test_a_service_must_name_the_user_it_acts_for() -> None:
    with pytest.raises(IdentityError, match="X-Auren-User"):
        await serving_user(
            as_service(thread_of("user-a", "ingestion")), "user-a", graph="ingestion"
        )


async def test_a_system_run_proves_its_user_by_the_thread() -> None:
    own = as_system(thread_of("user-a", "ingestion"))
    assert await serving_user(own, "user-a", graph="ingestion") == "user-a"
    with pytest.raises(IdentityError):
        await serving_user(own, "user-b", graph="ingestion")
    with pytest.raises(IdentityError, match="name the user"):
        await serving_user(own, None, graph="ingestion")
    with pytest.raises(IdentityError):
        await serving_user(as_system(str(uuid.uuid4())), "user-a", graph="analysis")


def test_operator_graphs_refuse_users() -> None:
    assert require_operator(as_service("t"), "x").kind == "service"
    assert require_operator(as_system("t"), "x").kind == "system"
    with pytest.raises(IdentityError, match="service API key"):
        require_operator(as_user("user-a", "analysis", "t"), "x")


def test_keyed_thread_ids_are_a_form_only_the_server_makes() -> None:
    first = derive_thread_id(THREAD_KEY, "user-a", "ingestion")
    assert first == derive_thread_id(THREAD_KEY, "user-a", "ingestion")
    assert first != derive_thread_id(THREAD_KEY, "user-b", "ingestion")
    assert first != derive_thread_id(b"another key 0123456789abcdefghij", "user-a", "ingestion")
    assert is_server_thread_id(first)
    assert not is_server_thread_id(str(uuid.uuid4())) and not is_server_thread_id("nope")


@pytest.mark.parametrize(
    "bad", ["", " ", "*", "a.b", "service:0", "x" * 129, "-lead", "ü", "a b", 7, None]
)
def test_one_user_id_rule(bad: Any) -> None:
    assert user_id_problem(bad)


# -- each graph's entry node ---------------------------------------------------------------


async def test_ingestion_refuses_a_run_naming_someone_else_and_stores_nothing() -> None:
    store = InMemoryStore()
    graph = ingestion_builder.compile(checkpointer=InMemorySaver(), store=store)
    entries = payloads.manual_entries(1)
    run = {"user_id": "user-b", "device": "manual", "payload": entries}
    out = await graph.ainvoke(run, as_user("user-a", "ingestion"))
    assert out["error"]["kind"] == "forbidden"
    assert await store.alist_namespaces() == []


async def test_ingestion_refuses_a_command_that_skips_its_entry() -> None:
    from langgraph.types import Command

    store = InMemoryStore()
    graph = ingestion_builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user("user-a", "ingestion")
    await graph.ainvoke({"device": "manual", "payload": payloads.manual_entries(1)}, config)
    forged = {"user_id": "user-b", "payload": payloads.manual_entries(1), "uploads": []}
    with pytest.raises(IdentityError):
        await graph.ainvoke(Command(update=forged, goto="ingest_manual"), config)
    assert not [ns for ns in await store.alist_namespaces() if "user-b" in ns]


async def test_analysis_refuses_a_run_naming_someone_else() -> None:
    graph = analysis_builder.compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    with pytest.raises(IdentityError):
        await graph.ainvoke({"user_id": "user-b"}, as_user("user-a", "analysis", "t"))


# -- tokens ----------------------------------------------------------------------------------

SECRET = "unit-secret-0123456789-0123456789-x"


def _settings(**overrides: Any) -> Settings:
    return Settings(jwt_secret=SECRET, **overrides)


def _token(**claims: Any) -> str:
    return jwt.encode({"sub": "user-a", "exp": int(time.time()) + 60, **claims}, SECRET, "HS256")


def test_a_good_token_names_its_user() -> None:
    assert auth._user_of_token(_token(), _settings()) == "user-a"


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": str(int(time.time()) + 60)}, "exp"),
        ({"exp": int(time.time()) + 10 * 86_400}, "longer"),
        ({"iat": int(time.time()) - 10, "exp": int(time.time()) + 2 * 86_400}, "longer"),
        ({"sub": "*"}, "sub"),
        ({"sub": ""}, "sub"),
        ({"sub": "service:0"}, "sub"),
        ({"pad": "x" * 10_000}, "longer than"),
        ({"exp": int(time.time()) - 120}, "expired"),
    ],
)
def test_loose_claims_are_refused(claims: dict[str, Any], why: str) -> None:
    with pytest.raises(auth.Auth.exceptions.HTTPException) as refused:
        auth._user_of_token(_token(**claims), _settings())
    assert refused.value.status_code == 401 and why in str(refused.value.detail)


def test_issuer_and_audience_when_configured() -> None:
    settings = _settings(jwt_issuer="https://id.example", jwt_audience="auren")
    good = _token(iss="https://id.example", aud="auren")
    assert auth._user_of_token(good, settings) == "user-a"
    for bad in (
        _token(),
        _token(iss="https://evil", aud="auren"),
        _token(iss="https://id.example"),
    ):
        with pytest.raises(auth.Auth.exceptions.HTTPException):
            auth._user_of_token(bad, settings)


# -- secrets at rest ---------------------------------------------------------------------------


def test_secrets_rotate_newest_first() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_old = SecretBox([old]).seal({"access_token": "t"})
    both = SecretBox([new, old])
    assert both.open(sealed_old) == {"access_token": "t"}
    rotated = both.rotate(sealed_old)
    assert SecretBox([new]).open(rotated) == {"access_token": "t"}
    with pytest.raises(SecretUnreadableError):
        SecretBox([new]).open(sealed_old)
    with pytest.raises(SecretUnreadableError):
        both.open(sealed_old[:-4] + "AAAA")  # tampered


def test_auth_required_without_encryption_keys_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="AUREN_ENCRYPTION_KEYS"):
        check_configured(Settings(auth_mode="required"))
    with pytest.raises(ConfigurationError, match="key 2"):
        check_configured(Settings(encryption_keys=f"{Fernet.generate_key().decode()},short"))
    check_configured(Settings(auth_mode="auto"))  # dev: a key is generated instead


def test_make_dev_generates_one_key_and_keeps_it(tmp_path: Any) -> None:
    from auren_graphs.crypto import DEV_KEY_FILE, _dev_key

    key = _dev_key(tmp_path)
    assert _dev_key(tmp_path) == key
    Fernet(key)  # a valid key
    assert (tmp_path / DEV_KEY_FILE).stat().st_mode & 0o777 == 0o600
