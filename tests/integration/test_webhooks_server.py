"""Webhooks, pushes, health and metrics on a real `langgraph dev`, Postgres and vendor stand-ins.

The server of this module has its own database (webhook workers of other servers in the
session must not claim its events) and points its WHOOP and Oura base URLs at stand-ins.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from auren_client import AurenClient
from auren_graphs.webhooks import oura, whoop
from tests.support import payloads
from tests.support.config import AUTH_ENV, FIXTURES, SERVICE_KEY
from tests.support.server import (
    DevServer,
    StoppablePostgres,
    running_server,
    server_env,
    stoppable_postgres,
)
from tests.support.vendor_standins import VendorStandIn, WhoopNight, oura_document

pytestmark = pytest.mark.integration

WHOOP_SECRET = "whoop-client-secret-" + secrets.token_hex(8)
OURA_SECRET = "oura-client-secret-" + secrets.token_hex(8)
OURA_VERIFICATION = "oura-verify-" + secrets.token_hex(8)
PUSH_LIMIT = 2 * 2**20  # the test server's push limit (default 16 MiB), to keep tests light
TOKENS: list[str] = []  # every access and ingest token handed out, for the log check
DAYS = (date(2026, 1, 1), date(2026, 12, 31))


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def database(postgres_uri: str) -> Iterator[str]:
    """A database of this module's own inside the session's Postgres."""
    name = f"auren_webhooks_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(postgres_uri, dbname=name)
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def whoop_api() -> Iterator[VendorStandIn]:
    standin = VendorStandIn(prefix="/developer")
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def oura_api() -> Iterator[VendorStandIn]:
    standin = VendorStandIn()
    standin.start()
    yield standin
    standin.stop()


def webhook_env(database: str, whoop_url: str, oura_url: str, **extra: str) -> dict[str, str]:
    return server_env(
        database,
        **AUTH_ENV,
        WHOOP_CLIENT_SECRET=WHOOP_SECRET,
        OURA_CLIENT_SECRET=OURA_SECRET,
        AUREN_OURA_VERIFICATION_TOKEN=OURA_VERIFICATION,
        AUREN_WHOOP_API_URL=whoop_url,
        AUREN_OURA_API_URL=oura_url,
        AUREN_PUSH_MAX_BODY_BYTES=str(PUSH_LIMIT),
        AUREN_WEBHOOK_POLL_SECONDS="0.2",
        AUREN_WEBHOOK_RETRY_BASE_SECONDS="0.3",
        AUREN_WEBHOOK_RETRY_MAX_SECONDS="1",
        AUREN_VENDOR_TIMEOUT_SECONDS="1",
        AUREN_VENDOR_RETRIES="1",
        AUREN_VENDOR_BREAKER_RESET_SECONDS="1",
        **extra,
    )


@pytest.fixture(scope="module")
def hook_server(
    database: str, whoop_api: VendorStandIn, oura_api: VendorStandIn
) -> Iterator[DevServer]:
    with running_server(webhook_env(database, whoop_api.base_url, oura_api.base_url)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def _standins_healthy(whoop_api: VendorStandIn, oura_api: VendorStandIn) -> Iterator[None]:
    yield
    whoop_api.set("ok")
    oura_api.set("ok")


# ---------------------------------------------------------------------- helpers


def vendor_id() -> int:
    return int(uuid.uuid4().int % 10**9) + 10**9


def token() -> str:
    value = "tok-" + secrets.token_urlsafe(24)
    TOKENS.append(value)
    return value


async def connect(
    server: DevServer, user_id: str, device: str, vendor_user: str | int | None, **tokens: str
) -> None:
    async with AurenClient(url=server.url, api_key=SERVICE_KEY) as auren:
        await auren.connect_device(user_id, device, vendor_user, **tokens)


async def metric_rows(server: DevServer, user_id: str, metric: str) -> list[Any]:
    async with AurenClient(url=server.url, api_key=SERVICE_KEY) as auren:
        return await auren.metrics(user_id, metric, *DAYS)


def whoop_delivery(
    document: dict[str, Any], *, secret: str = WHOOP_SECRET, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document).encode()
    stamp = str(int((time.time() if at is None else at) * 1000))
    return body, {
        "content-type": "application/json",
        "x-whoop-signature": whoop.sign(secret, stamp, body),
        "x-whoop-signature-timestamp": stamp,
    }


def oura_delivery(
    document: dict[str, Any], *, secret: str = OURA_SECRET, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document).encode()
    stamp = str(int(time.time() if at is None else at))
    return body, {
        "content-type": "application/json",
        "x-oura-signature": oura.sign(secret, stamp, body),
        "x-oura-timestamp": stamp,
    }


def whoop_note(whoop_user: int, object_id: int | str, kind: str) -> dict[str, Any]:
    return {"user_id": whoop_user, "id": object_id, "type": kind, "trace_id": str(uuid.uuid4())}


def oura_note(oura_user: str, data_type: str, object_id: str) -> dict[str, Any]:
    return {
        "event_type": "update",
        "data_type": data_type,
        "object_id": object_id,
        "user_id": oura_user,
        "event_time": "2026-01-13T08:00:00+00:00",
    }


async def events_of(database: str, user_id: str) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(
        database, autocommit=True, row_factory=dict_row
    ) as conn:
        cursor = await conn.execute(
            "SELECT * FROM auren_webhook_events WHERE user_id = %s ORDER BY id", [user_id]
        )
        return await cursor.fetchall()


async def event_count(database: str) -> int:
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        cursor = await conn.execute("SELECT count(*) FROM auren_webhook_events")
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def settled(database: str, user_id: str, within: float = 45.0) -> list[dict[str, Any]]:
    """The user's events once none is pending."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        rows = await events_of(database, user_id)
        if rows and all(row["status"] != "pending" for row in rows):
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"events still pending: {await events_of(database, user_id)}")


async def whoop_user_connected(server: DevServer, whoop_api: VendorStandIn, user_id: str) -> int:
    who = vendor_id()
    access = token()
    whoop_api.grant(access, str(who))
    await connect(server, user_id, "whoop", who, access_token=access)
    return who


# ---------------------------------------------------------------------- WHOOP


async def test_signed_whoop_deliveries_are_fetched_and_ingested(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    night = WhoopNight(who)
    night.serve(whoop_api)
    for note in (
        whoop_note(who, night.cycle_id, "recovery.updated"),
        whoop_note(who, night.sleep_id, "sleep.updated"),
        whoop_note(who, night.workout_id, "workout.updated"),
    ):
        body, headers = whoop_delivery(note)
        answer = await http.post(f"{hook_server.url}/webhooks/whoop", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "accepted"
    rows = await settled(database, user_id)
    assert [row["status"] for row in rows] == ["done"] * 3, rows
    recovery = await metric_rows(hook_server, user_id, "recovery_score")
    # Dated by its sleep's local wake-up day, which came with it.
    assert [(r.day, r.value, r.device) for r in recovery] == [(date(2026, 11, 2), 67.0, "whoop")]
    assert [r.value for r in await metric_rows(hook_server, user_id, "hrv_rmssd")] == [
        pytest.approx(71.403625)
    ]
    assert len(await metric_rows(hook_server, user_id, "sleep_duration")) == 1
    assert len(await metric_rows(hook_server, user_id, "workout_duration")) == 1
    assert rows[0]["result"]["accepted"] > 0


async def test_a_vendor_delete_removes_what_its_record_produced(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    night = WhoopNight(who)
    night.serve(whoop_api)
    url = f"{hook_server.url}/webhooks/whoop"
    for note in (
        whoop_note(who, night.sleep_id, "sleep.updated"),
        whoop_note(who, night.cycle_id, "recovery.updated"),
    ):
        body, headers = whoop_delivery(note)
        assert (await http.post(url, content=body, headers=headers)).status_code == 200
    await settled(database, user_id)
    assert len(await metric_rows(hook_server, user_id, "sleep_duration")) == 1
    assert len(await metric_rows(hook_server, user_id, "recovery_score")) == 1
    # WHOOP deletes the sleep, then the recovery (v2 names it by its sleep's UUID).
    for note in (
        whoop_note(who, night.sleep_id, "sleep.deleted"),
        whoop_note(who, night.sleep_id, "recovery.deleted"),
    ):
        body, headers = whoop_delivery(note)
        answer = await http.post(url, content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    rows = await settled(database, user_id)
    assert [row["status"] for row in rows][-2:] == ["done", "done"], rows
    assert rows[-2]["result"]["deleted"] > 0
    assert await metric_rows(hook_server, user_id, "sleep_duration") == []
    assert await metric_rows(hook_server, user_id, "recovery_score") == []
    # What the cycle carried (strain) is another record's: kept.
    assert len(await metric_rows(hook_server, user_id, "strain")) == 1
    assert whoop_api.calls_to(f"/v2/activity/sleep/{night.sleep_id}") == [200, 200]


async def test_same_whoop_delivery_twice_is_processed_once(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    night = WhoopNight(who)
    night.serve(whoop_api)
    body, headers = whoop_delivery(whoop_note(who, night.sleep_id, "sleep.updated"))
    url = f"{hook_server.url}/webhooks/whoop"
    first, second = [await http.post(url, content=body, headers=headers) for _ in range(2)]
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (second.status_code, second.json()) == (200, {"status": "duplicate"})
    rows = await settled(database, user_id)
    assert len(rows) == 1 and rows[0]["status"] == "done"
    # A third copy after processing changes nothing either.
    third = await http.post(url, content=body, headers=headers)
    assert third.json() == {"status": "duplicate"}
    await asyncio.sleep(0.6)
    assert whoop_api.calls_to(f"/v2/activity/sleep/{night.sleep_id}") == [200]
    assert len(await events_of(database, user_id)) == 1


def _refusals() -> list[Any]:
    def unsigned(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        return body, {"content-type": "application/json"}

    def tampered(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        return body.replace(b'"user_id": ', b'"user_id":  '), headers

    def wrong_type(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        return body, {**headers, "content-type": "text/plain"}

    return [
        pytest.param(unsigned, 401, id="unsigned"),
        pytest.param(tampered, 401, id="tampered"),
        pytest.param(wrong_type, 415, id="wrong-content-type"),
    ]


@pytest.mark.parametrize("vendor", ["whoop", "oura"])
@pytest.mark.parametrize(("mangle", "status"), _refusals())
async def test_bad_deliveries_are_refused_and_store_nothing(
    hook_server: DevServer,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
    vendor: str,
    mangle: Any,
    status: int,
) -> None:
    body, headers = _valid_delivery(vendor)
    before = await event_count(database)
    body, headers = mangle(body, headers)
    answer = await http.post(f"{hook_server.url}/webhooks/{vendor}", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    assert await event_count(database) == before


def _valid_delivery(vendor: str, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
    if vendor == "whoop":
        return whoop_delivery(whoop_note(vendor_id(), 1, "recovery.updated"), **kwargs)
    return oura_delivery(oura_note("someone", "daily_sleep", "abc"), **kwargs)


@pytest.mark.parametrize("vendor", ["whoop", "oura"])
@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("stale", 401, "old"),
        ("future", 401, "future"),
        ("wrong-secret", 401, "does not match"),
        ("unknown-user", 404, "no AUREN user"),
        ("malformed", 400, "not valid JSON"),
        ("oversized", 413, "limit"),
        ("oversized-chunked", 413, "limit"),
    ],
)
async def test_replayed_foreign_malformed_and_oversized_deliveries(
    hook_server: DevServer,
    database: str,
    http: httpx.AsyncClient,
    vendor: str,
    case: str,
    status: int,
    words: str,
) -> None:
    sign = whoop_delivery if vendor == "whoop" else oura_delivery
    note = (
        whoop_note(vendor_id(), 7, "recovery.updated")
        if vendor == "whoop"
        else oura_note(f"nobody{vendor_id()}", "daily_sleep", "abc")
    )
    content: Any
    if case == "stale":
        content, headers = sign(note, at=time.time() - 600)
    elif case == "future":
        content, headers = sign(note, at=time.time() + 600)
    elif case == "wrong-secret":
        content, headers = sign(note, secret="not-the-secret")
    elif case == "unknown-user":
        content, headers = sign(note)
    elif case == "malformed":
        content, headers = _signed_raw(vendor, b'{"user_id": 1, "id": ')
    else:
        big = {**note, "padding": "x" * (2**20 + 10)}
        content, headers = sign(big)
        if case == "oversized-chunked":
            raw = content

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(raw), 65536):
                    yield raw[start : start + 65536]

            content = chunks()
    before = await event_count(database)
    answer = await http.post(
        f"{hook_server.url}/webhooks/{vendor}", content=content, headers=headers
    )
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]
    assert await event_count(database) == before


def _signed_raw(vendor: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    if vendor == "whoop":
        stamp = str(int(time.time() * 1000))
        return body, {
            "content-type": "application/json",
            "x-whoop-signature": whoop.sign(WHOOP_SECRET, stamp, body),
            "x-whoop-signature-timestamp": stamp,
        }
    stamp = str(int(time.time()))
    return body, {
        "content-type": "application/json",
        "x-oura-signature": oura.sign(OURA_SECRET, stamp, body),
        "x-oura-timestamp": stamp,
    }


async def test_whoop_event_of_a_user_connected_elsewhere_is_not_fetched(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    """The signature is WHOOP's, but the object belongs to another WHOOP account than the
    one the event names: the stand-in refuses the token (404), nothing is ingested."""
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    stranger = WhoopNight(vendor_id())
    stranger.serve(whoop_api)
    body, headers = whoop_delivery(whoop_note(who, stranger.sleep_id, "sleep.updated"))
    answer = await http.post(f"{hook_server.url}/webhooks/whoop", content=body, headers=headers)
    assert answer.status_code == 200
    rows = await settled(database, user_id)
    assert rows[0]["status"] == "skipped" and "not found" in rows[0]["last_error"]
    assert await metric_rows(hook_server, user_id, "sleep_duration") == []


# ---------------------------------------------------------------------- Oura


async def test_signed_oura_deliveries_are_fetched_and_ingested(
    hook_server: DevServer,
    oura_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    oura_user = f"OURA{vendor_id()}"
    access = token()
    oura_api.grant(access, oura_user)
    await connect(hook_server, user_id, "oura", oura_user, access_token=access)
    daily = oura_document("daily_sleep_document")
    night = oura_document("sleep_document")
    oura_api.put(f"/v2/usercollection/daily_sleep/{daily['id']}", oura_user, daily)
    oura_api.put(f"/v2/usercollection/sleep/{night['id']}", oura_user, night)
    for data_type, document in (("daily_sleep", daily), ("sleep", night)):
        body, headers = oura_delivery(oura_note(oura_user, data_type, document["id"]))
        answer = await http.post(f"{hook_server.url}/webhooks/oura", content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text
    rows = await settled(database, user_id)
    assert [row["status"] for row in rows] == ["done", "done"], rows
    assert [r.value for r in await metric_rows(hook_server, user_id, "sleep_score")] == [85.0]
    assert [r.value for r in await metric_rows(hook_server, user_id, "hrv_rmssd")] == [46.0]


async def test_oura_verification_challenge(hook_server: DevServer, http: httpx.AsyncClient) -> None:
    url = f"{hook_server.url}/webhooks/oura"
    good = await http.get(url, params={"verification_token": OURA_VERIFICATION, "challenge": "c-1"})
    assert (good.status_code, good.json()) == (200, {"challenge": "c-1"})
    bad = await http.get(url, params={"verification_token": "guess", "challenge": "c-2"})
    assert bad.status_code == 403 and "error" in bad.json()
    missing = await http.get(url, params={"challenge": "c-3"})
    assert missing.status_code == 400


# ---------------------------------------------------------------------- pushes


async def test_pushes_with_a_valid_ingest_token_are_ingested(
    hook_server: DevServer, database: str, http: httpx.AsyncClient, user_id: str
) -> None:
    push_token, apple_token = token(), token()
    await connect(hook_server, user_id, "manual", None, ingest_token=push_token)
    await connect(hook_server, user_id, "apple_health", None, ingest_token=apple_token)
    entries = payloads.manual_entries(days=3)
    manual = await http.post(
        f"{hook_server.url}/webhooks/manual",
        json=entries,
        headers={"authorization": f"Bearer {push_token}", "x-auren-user": user_id},
    )
    assert manual.status_code == 200 and manual.json()["status"] == "accepted", manual.text
    apple = await http.post(
        f"{hook_server.url}/webhooks/apple_health",
        content=(FIXTURES / "apple" / "health_auto_export.json").read_bytes(),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {apple_token}",
            "x-auren-user": user_id,
        },
    )
    assert apple.status_code == 200 and apple.json()["status"] == "accepted", apple.text
    again = await http.post(
        f"{hook_server.url}/webhooks/manual",
        json=entries,
        headers={"authorization": f"Bearer {push_token}", "x-auren-user": user_id},
    )
    assert again.json() == {"status": "duplicate"}
    rows = await settled(database, user_id)
    assert [row["status"] for row in rows] == ["done", "done"]
    # The pushed copy is dropped once ingested; the row stays for duplicates.
    assert all(row["payload"] is None for row in rows)
    rhr = await metric_rows(hook_server, user_id, "resting_heart_rate")
    assert {r.device for r in rhr} == {"manual", "apple_health"}
    assert len([r for r in rhr if r.device == "manual"]) == 3


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"authorization": "Bearer wrong-token-0123456789"}, 401, id="wrong-token"),
        pytest.param({}, 401, id="no-token"),
        pytest.param(
            {"authorization": "Bearer {token}", "x-auren-user": "someone-else"},
            401,
            id="other-user",
        ),
        pytest.param({"content-type": "text/csv"}, 415, id="wrong-content-type"),
    ],
)
async def test_pushes_without_a_valid_token_are_refused(
    hook_server: DevServer,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
    headers: dict[str, str],
    status: int,
) -> None:
    push_token = token()
    await connect(hook_server, user_id, "manual", None, ingest_token=push_token)
    sent = {"authorization": f"Bearer {push_token}", "x-auren-user": user_id}
    sent |= {k: v.replace("{token}", push_token) for k, v in headers.items()}
    if not headers:
        sent = {"x-auren-user": user_id}
    sent.setdefault("content-type", "application/json")
    before = await event_count(database)
    answer = await http.post(
        f"{hook_server.url}/webhooks/manual",
        content=json.dumps(payloads.manual_entries(days=1)),
        headers=sent,
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    assert await event_count(database) == before


async def test_malformed_and_oversized_pushes_are_refused(
    hook_server: DevServer, database: str, http: httpx.AsyncClient, user_id: str
) -> None:
    push_token = token()
    await connect(hook_server, user_id, "manual", None, ingest_token=push_token)
    auth = {
        "authorization": f"Bearer {push_token}",
        "x-auren-user": user_id,
        "content-type": "application/json",
    }
    url = f"{hook_server.url}/webhooks/manual"
    before = await event_count(database)
    broken = await http.post(url, content=b'{"entries": [', headers=auth)
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    shapeless = await http.post(url, content=b'"just text"', headers=auth)
    assert shapeless.status_code == 400 and "JSON object" in shapeless.json()["error"]
    entry_less = await http.post(url, content=b'{"items": []}', headers=auth)
    assert entry_less.status_code == 400 and "entries" in entry_less.json()["error"]
    huge = await http.post(url, content=b" " * (PUSH_LIMIT + 1), headers=auth)
    assert huge.status_code == 413
    assert await event_count(database) == before


# ---------------------------------------------------------------------- failures


async def test_failing_vendor_is_retried_until_it_recovers(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    night = WhoopNight(who)
    night.serve(whoop_api)
    whoop_api.set("fail")
    body, headers = whoop_delivery(whoop_note(who, night.workout_id, "workout.updated"))
    answer = await http.post(f"{hook_server.url}/webhooks/whoop", content=body, headers=headers)
    assert answer.status_code == 200
    path = f"/v2/activity/workout/{night.workout_id}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = await events_of(database, user_id)
        if rows and rows[0]["attempts"] >= 2:
            break
        await asyncio.sleep(0.2)
    assert rows[0]["status"] == "pending" and "500" in rows[0]["last_error"], rows
    assert len(whoop_api.calls_to(path)) >= 4  # two attempts, each retried once at once
    whoop_api.set("ok")
    rows = await settled(database, user_id)
    assert rows[0]["status"] == "done"
    assert len(await metric_rows(hook_server, user_id, "workout_duration")) == 1


async def test_event_acknowledged_before_sigkill_is_processed_after_restart(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    night = WhoopNight(who)
    night.serve(whoop_api)
    whoop_api.set("hang")  # the worker claims the event and waits on WHOOP
    body, headers = whoop_delivery(whoop_note(who, night.sleep_id, "sleep.updated"))
    answer = await http.post(f"{hook_server.url}/webhooks/whoop", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    hook_server.kill()
    assert [row["status"] for row in await events_of(database, user_id)] == ["pending"]
    whoop_api.set("ok")
    hook_server.start()
    rows = await settled(database, user_id)
    assert rows[0]["status"] == "done"
    assert len(await metric_rows(hook_server, user_id, "sleep_duration")) == 1


async def test_sigterm_keeps_acknowledged_events_and_stops_within_30_s(
    hook_server: DevServer,
    whoop_api: VendorStandIn,
    database: str,
    http: httpx.AsyncClient,
    user_id: str,
) -> None:
    who = await whoop_user_connected(hook_server, whoop_api, user_id)
    night = WhoopNight(who)
    night.serve(whoop_api)
    whoop_api.set("hang")
    body, headers = whoop_delivery(whoop_note(who, night.workout_id, "workout.updated"))
    answer = await http.post(f"{hook_server.url}/webhooks/whoop", content=body, headers=headers)
    assert answer.status_code == 200
    await asyncio.sleep(0.5)  # the worker is now waiting on WHOOP
    started = time.monotonic()
    hook_server.stop()  # SIGTERM
    assert time.monotonic() - started < 30
    assert [row["status"] for row in await events_of(database, user_id)] == ["pending"]
    whoop_api.set("ok")
    hook_server.start()
    assert (await settled(database, user_id))[0]["status"] == "done"
    assert len(await metric_rows(hook_server, user_id, "workout_duration")) == 1


# ---------------------------------------------------------------------- operations


async def test_health_names_every_component(
    hook_server: DevServer, http: httpx.AsyncClient
) -> None:
    answer = await http.get(f"{hook_server.url}/health")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"postgres", "store", "queue", "webhooks", "connections"}
    assert body["components"]["connections"]["needs_reauth"] >= 0
    assert body["components"]["webhooks"]["worker"] == "running"


@pytest.fixture(scope="module")
def stopping_postgres() -> Iterator[StoppablePostgres]:
    with stoppable_postgres() as postgres:
        yield postgres


async def test_health_is_503_naming_postgres_while_it_is_down(
    stopping_postgres: StoppablePostgres,
    whoop_api: VendorStandIn,
    oura_api: VendorStandIn,
    http: httpx.AsyncClient,
) -> None:
    env = webhook_env(stopping_postgres.uri, whoop_api.base_url, oura_api.base_url)
    with running_server(env) as server:
        url = f"{server.url}/health"
        assert (await http.get(url)).status_code == 200
        stopping_postgres.stop()
        started = time.perf_counter()
        down = await http.get(url)
        assert time.perf_counter() - started < 2.5  # each check is bounded by 1 s
        assert down.status_code == 503, down.text
        assert "postgres" in down.json()["down"]
        assert down.json()["components"]["postgres"]["status"] == "down"
        stopping_postgres.start()
        deadline = time.monotonic() + 30
        while (answer := await http.get(url)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            await asyncio.sleep(0.3)
        assert answer.json()["status"] == "ok"


async def test_in_memory_runtime_still_records_webhooks_in_postgres(
    memory_server: DevServer, http: httpx.AsyncClient, user_id: str
) -> None:
    """`make dev-memory` keeps threads, checkpoints and the store in memory, but AUREN's
    own records (connections, webhook events) in Postgres: a push is acknowledged only
    once it is durable, and then ingested."""
    health = await http.get(f"{memory_server.url}/health")
    assert health.status_code == 200, health.text
    assert {c["status"] for c in health.json()["components"].values()} == {"ok"}
    push_token = token()
    await connect(memory_server, user_id, "manual", None, ingest_token=push_token)
    push = await http.post(
        f"{memory_server.url}/webhooks/manual",
        json=payloads.manual_entries(days=1),
        headers={"authorization": f"Bearer {push_token}", "x-auren-user": user_id},
    )
    assert push.status_code == 200, push.text
    deadline = time.monotonic() + 30
    while not await metric_rows(memory_server, user_id, "heart_rate"):
        assert time.monotonic() < deadline, "the push was not ingested"
        await asyncio.sleep(0.3)


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_metrics_show_ingest_counters_moving(
    hook_server: DevServer, http: httpx.AsyncClient, user_id: str
) -> None:
    url = f"{hook_server.url}/metrics/auren"
    before = (await http.get(url)).text
    async with AurenClient(url=hook_server.url, api_key=SERVICE_KEY) as auren:
        await auren.ingest(user_id, "manual", payloads.manual_entries(days=4))
        await auren.ingest(user_id, "manual", payloads.manual_entries(days=4))
        bad = {
            "entries": [
                {
                    "entry_id": "x",
                    "metric": "heart_rate",
                    "value": 900,
                    "unit": "bpm",
                    "measured_at": "2026-10-01T08:00:00+00:00",
                }
            ]
        }
        await auren.ingest(user_id, "manual", bad)
    unsigned = await http.post(
        f"{hook_server.url}/webhooks/whoop", json={}, headers={"x-whoop-signature": "x"}
    )
    assert unsigned.status_code == 401
    answer = await http.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    after = answer.text
    labels = {"device": "manual"}
    assert _sample(after, "auren_samples_ingested_total", **labels, outcome="accepted") == (
        _sample(before, "auren_samples_ingested_total", **labels, outcome="accepted") + 8
    )
    assert _sample(after, "auren_samples_ingested_total", **labels, outcome="duplicate") >= 8
    assert _sample(after, "auren_samples_rejected_total", **labels, reason="implausible") >= 1
    refused = {"vendor": "whoop", "outcome": "refused"}
    assert _sample(after, "auren_webhook_ack_seconds_count", **refused) == (
        _sample(before, "auren_webhook_ack_seconds_count", **refused) + 1
    )
    assert "auren_rollout_stage_percent" in after


async def test_server_log_holds_no_secret_or_token(hook_server: DevServer) -> None:
    """Runs last in this module: every secret and token above has been used by now."""
    log = hook_server.log_path.read_text(errors="replace")
    assert "POST /webhooks/whoop" in log  # the log is the right one, and not empty
    used = [WHOOP_SECRET, OURA_SECRET, OURA_VERIFICATION, SERVICE_KEY, *TOKENS]
    leaked = [value[:8] + "..." for value in used if value in log]
    assert not leaked, f"secrets in the server log: {leaked}"
