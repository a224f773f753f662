"""Device connections end to end: OAuth connect, backfill, refresh, disconnect, leave.

A real server and Postgres, and WHOOP and Oura stand-ins on 127.0.0.1 that speak the
vendors' OAuth and API protocols (tests/support/oauth_standins.py): authorize redirects
with code and state, rotating refresh tokens that fail with invalid_grant when reused,
short-lived access tokens, revocation, 429s, paged collections.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest

from auren_client import AurenClient, DeviceConnection
from tests.support.config import AUTH_ENV, SERVICE_KEY
from tests.support.oauth_standins import OuraStandIn, WhoopStandIn
from tests.support.server import DevServer, free_port, running_server, server_env
from tests.support.vendor_standins import WhoopNight

pytestmark = pytest.mark.integration

APP = "https://app.example"
VERIFICATION = "verify-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def whoop() -> Iterator[WhoopStandIn]:
    with WhoopStandIn(access_ttl=3600, page_size=4) as standin:
        yield standin


@pytest.fixture(scope="module")
def oura() -> Iterator[OuraStandIn]:
    with OuraStandIn(page_size=5) as standin:
        yield standin


@pytest.fixture(scope="module")
def device_server(postgres_uri: str, whoop: WhoopStandIn, oura: OuraStandIn) -> Iterator[DevServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    for standin in (whoop, oura):
        standin.allow_redirect(f"{url}/connect/{'whoop' if standin is whoop else 'oura'}/callback")
    env = server_env(
        postgres_uri,
        **AUTH_ENV,
        **whoop.env(),
        **oura.env(),
        AUREN_PUBLIC_URL=url,
        AUREN_CONNECT_RETURN_ORIGINS=APP,
        AUREN_OAUTH_PKCE_VENDORS="whoop",  # WHOOP's server takes PKCE; exercise it
        AUREN_OURA_VERIFICATION_TOKEN=VERIFICATION,
        AUREN_TOKEN_REFRESH_MARGIN_SECONDS="1",
        AUREN_VENDOR_RETRIES="3",
        AUREN_WEBHOOK_POLL_SECONDS="0.3",
    )
    with running_server(env, port=port) as server:
        yield server


def whoop_user() -> int:
    return int(uuid.uuid4().int % 10**9) + 10**9


async def connect_through_oauth(
    auren: AurenClient, user_id: str, vendor: str, *, return_to: str = f"{APP}/done"
) -> dict[str, list[str]]:
    """What a browser does: to the vendor's authorize page, which approves and sends it
    to AUREN's callback, which sends it back to the app; the app's query."""
    url = await auren.connect_url(user_id, vendor, return_to=return_to)
    async with httpx.AsyncClient(timeout=30) as browser:
        at_vendor = await browser.get(url)
        assert at_vendor.status_code == 302, at_vendor.text
        callback = at_vendor.headers["location"]
        back = await browser.get(callback)
    assert back.status_code == 302, back.text
    landing = urlsplit(back.headers["location"])
    assert f"{landing.scheme}://{landing.netloc}" == APP
    return parse_qs(landing.query)


async def device(auren: AurenClient, user_id: str, vendor: str) -> DeviceConnection:
    return next(d for d in await auren.devices(user_id) if d.device == vendor)


async def until(check: Any, what: str, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"never: {what}")


async def backfilled(auren: AurenClient, user_id: str, vendor: str) -> DeviceConnection:
    async def done() -> DeviceConnection | None:
        found = await device(auren, user_id, vendor)
        status = found.last_sync_status or ""
        assert not status.startswith("backfill failed"), found
        return found if status.startswith("backfill ok") else None

    return await until(done, f"{vendor} backfill of {user_id} done")


async def table_rows_naming(database: str, *needles: str) -> list[str]:
    """Every row of every table (checkpoint blobs included, as text) holding a needle."""
    found: list[str] = []
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        tables = await (
            await conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE "
                "table_schema NOT IN ('pg_catalog', 'information_schema') "
                "AND table_type = 'BASE TABLE'"
            )
        ).fetchall()
        for schema, table in tables:
            for needle in needles:
                query = (
                    f'SELECT count(*) FROM "{schema}"."{table}" AS t '
                    "WHERE t::text LIKE %s OR encode(convert_to(t::text, 'UTF8'), 'escape') LIKE %s"
                )
                cursor = await conn.execute(query, [f"%{needle}%", f"%{needle}%"])
                (count,) = await cursor.fetchone()  # type: ignore[misc]
                if count:
                    found.append(f"{table}: {needle} x{count}")
    return found


# ---------------------------------------------------------------------------- connect


async def test_connect_backfill_refresh_webhook_disconnect_erase(
    device_server: DevServer, whoop: WhoopStandIn, postgres_uri: str, user_id: str
) -> None:
    """The outside check of issue 14, with WHOOP."""
    who = whoop_user()
    nights = whoop.add_user(who, days=40)
    whoop.oauth.approve_as(who)
    async with AurenClient(url=device_server.url, api_key=SERVICE_KEY) as auren:
        landing = await connect_through_oauth(auren, user_id, "whoop")
        assert landing["auren_status"] == ["connected"], landing
        connection = await backfilled(auren, user_id, "whoop")
        assert connection.vendor_user_id == str(who) and connection.status == "connected"
        # The backfill paged to the end of every collection for the last 30 days.
        recovered = await auren.metrics(
            user_id, "recovery_score", date.today() - timedelta(days=45), date.today()
        )
        expected = [n for n in nights if n.day >= date.today() - timedelta(days=31)]
        assert 28 <= len(recovered) <= len(expected), (len(recovered), len(expected))
        assert len(whoop.requests_to("/v2/cycle")) > 1  # several pages
        # The access token expires; a webhook arrives; the worker refreshes once.
        first_refresh = whoop.oauth.current_refresh_token(who)
        assert first_refresh is not None
        whoop.oauth.access_ttl = 1
        for token in list(whoop.tokens):
            whoop.grant(token, str(who), expires_in=0)  # every access token now expired
        night = WhoopNight(who, day=date.today())
        whoop.add_night(night)
        await deliver_whoop(device_server.url, whoop, who, night.sleep_id, "sleep.updated")
        await until(
            lambda: auren.metrics(user_id, "sleep_duration", night.day, night.day),
            "the webhook's sleep stored",
        )
        assert whoop.oauth.times_presented(first_refresh) == 1
        whoop.oauth.access_ttl = 3600
        # Disconnect: revoked at WHOOP, a later webhook acknowledged and dropped.
        gone = await auren.disconnect(user_id, "whoop")
        assert gone["revoked"] is True and gone["status"] == "disconnected"
        later = WhoopNight(who, day=date.today() - timedelta(days=50))
        whoop.add_night(later)
        answer = await deliver_whoop(device_server.url, whoop, who, later.sleep_id, "sleep.updated")
        assert answer.json()["status"] == "ignored"
        assert (await device(auren, user_id, "whoop")).status == "disconnected"
        # Erase: nothing about the user is left in any table.
        canary = str(nights[-1].sleep_id)
        assert await table_rows_naming(postgres_uri, user_id)  # there was something to erase
        removed = await auren.erase(user_id)
        assert removed["store_items"] > 0 and removed["threads"] >= 1
        assert await table_rows_naming(postgres_uri, user_id, canary) == []


async def deliver_whoop(
    url: str, whoop: WhoopStandIn, who: int, object_id: str, kind: str
) -> httpx.Response:
    from auren_graphs.webhooks import whoop as whoop_hooks

    note = {"user_id": who, "id": object_id, "type": kind, "trace_id": uuid.uuid4().hex}
    body = json.dumps(note).encode()
    stamp = str(int(time.time() * 1000))
    headers = {
        "content-type": "application/json",
        "x-whoop-signature": whoop_hooks.sign(whoop.client_secret, stamp, body),
        "x-whoop-signature-timestamp": stamp,
    }
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{url}/webhooks/whoop", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


async def test_a_refused_grant_marks_the_connection_needs_reauth(
    device_server: DevServer, whoop: WhoopStandIn, user_id: str
) -> None:
    who = whoop_user()
    whoop.add_user(who, days=3)
    whoop.oauth.approve_as(who)
    async with AurenClient(url=device_server.url, api_key=SERVICE_KEY) as auren:
        assert (await connect_through_oauth(auren, user_id, "whoop"))["auren_status"] == [
            "connected"
        ]
        await backfilled(auren, user_id, "whoop")
        whoop.oauth.revoke_user(who)  # the member removed the app at WHOOP
        for token in list(whoop.tokens):
            whoop.grant(token, str(who), expires_in=0)
        with pytest.raises(Exception, match="connect"):
            await auren.backfill(user_id, "whoop", days=2)
        connection = await device(auren, user_id, "whoop")
        assert connection.status == "needs_reauth" and connection.last_error
    async with httpx.AsyncClient() as http:
        health = (await http.get(f"{device_server.url}/health")).json()
    assert health["components"]["connections"]["needs_reauth_by_vendor"].get("whoop", 0) >= 1


async def test_oura_connects_backfills_and_exports(
    device_server: DevServer, oura: OuraStandIn, user_id: str
) -> None:
    member = "oura-" + uuid.uuid4().hex[:10]
    oura.add_user(member, days=20)
    oura.oauth.approve_as(member)
    async with AurenClient(url=device_server.url, api_key=SERVICE_KEY) as auren:
        assert (await connect_through_oauth(auren, user_id, "oura"))["auren_status"] == [
            "connected"
        ]
        await backfilled(auren, user_id, "oura")
        oura.throttle(nth=2, retry_after=1)
        events: list[dict[str, Any]] = []
        report = await auren.backfill(user_id, "oura", days=10, progress=events.append)
        assert report.duplicates > 0 and report.accepted == 0  # all there already
        assert events and events[-1]["done"] is True
        assert all(gap is not None and gap >= wait - 0.05 for wait, gap in oura.retry_gaps())
        archive = zipfile.ZipFile(io.BytesIO(await auren.export(user_id)))
    names = archive.namelist()
    assert "manifest.json" in names and "devices.json" in names
    assert any(n.startswith("metrics/") for n in names)
    text = "".join(archive.read(n).decode() for n in names)
    assert "access_token" not in text and "refresh_token" not in text
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["user_id"] == user_id and sum(manifest["rows_per_metric"].values()) > 0


async def test_a_connect_state_works_once_and_return_to_must_be_allowed(
    device_server: DevServer, whoop: WhoopStandIn, user_id: str
) -> None:
    who = whoop_user()
    whoop.add_user(who, days=1)
    whoop.oauth.approve_as(who)
    async with AurenClient(url=device_server.url, api_key=SERVICE_KEY) as auren:
        with pytest.raises(Exception, match="not allowed"):
            await auren.connect_url(user_id, "whoop", return_to="https://evil.example/x")
        url = await auren.connect_url(user_id, "whoop", return_to=f"{APP}/done")
    async with httpx.AsyncClient(timeout=30) as browser:
        callback = (await browser.get(url)).headers["location"]
        assert (await browser.get(callback)).status_code == 302
        replayed = await browser.get(callback)  # the same state (and code) again
        assert replayed.status_code == 400 and "already used" in replayed.text
        forged = callback.replace("state=", "state=x")
        assert (await browser.get(forged)).status_code == 400


async def test_two_workers_refresh_a_connection_once(
    device_server: DevServer, whoop: WhoopStandIn, postgres_uri: str, user_id: str
) -> None:
    """Two processes need the connection's token after it expired: one refresh happens
    (the row lock), both get the new token."""
    whoop.oauth.access_ttl = 3  # the connection's token expires soon after connecting
    who = whoop_user()
    whoop.add_user(who, days=1)
    whoop.oauth.approve_as(who)
    async with AurenClient(url=device_server.url, api_key=SERVICE_KEY) as auren:
        await connect_through_oauth(auren, user_id, "whoop")
        await backfilled(auren, user_id, "whoop")
    whoop.oauth.access_ttl = 3600  # the refreshed one lives
    await asyncio.sleep(3)
    before = whoop.oauth.current_refresh_token(who)
    script = (
        "import asyncio, sys\n"
        "from auren_graphs.devices.tokens import access_token\n"
        f"print(asyncio.run(access_token({user_id!r}, 'whoop')))\n"
    )
    env = {**device_server.env}
    procs = [
        await asyncio.create_subprocess_exec(
            sys_executable(), "-c", script, env=env, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [(await p.communicate())[0].decode().strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert outputs[0] == outputs[1] and outputs[0]
    assert whoop.oauth.times_presented(before or "") == 1


def sys_executable() -> str:
    import sys

    return sys.executable


async def test_oura_subscriptions_are_made_listed_and_renewed(
    device_server: DevServer, oura: OuraStandIn
) -> None:
    headers = {"x-api-key": SERVICE_KEY}
    async with httpx.AsyncClient(base_url=device_server.url, timeout=60) as http:
        made = await http.post("/ops/oura/subscriptions", headers=headers)
        assert made.status_code == 200, made.text
        listed = (await http.get("/ops/oura/subscriptions", headers=headers)).json()
    assert len(listed) == 15 and all(s["expiration_time"] for s in listed)
    assert oura.verifications and all(v["verified"] for v in oura.verifications)
    from auren_graphs.devices import subscriptions
    from auren_graphs.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url=device_server.url,
        oura_api_url=oura.base_url,
        oura_client_id=oura.client_id,
        oura_client_secret=oura.client_secret,
    )
    later = datetime.now(UTC) + timedelta(days=40)
    assert await subscriptions.renew_due(settings, now=later) == 15


@pytest.fixture
def killable_device_server(
    postgres_uri: str, whoop: WhoopStandIn, oura: OuraStandIn
) -> Iterator[DevServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    whoop.allow_redirect(f"{url}/connect/whoop/callback")
    env = server_env(
        postgres_uri, **AUTH_ENV, **whoop.env(), AUREN_PUBLIC_URL=url,
        AUREN_CONNECT_RETURN_ORIGINS=APP, AUREN_BACKFILL_PAGE_LIMIT="1",
    )  # fmt: skip
    with running_server(env, port=port) as server:
        yield server


async def test_a_backfill_cut_by_sigkill_resumes_without_duplicates(
    killable_device_server: DevServer, whoop: WhoopStandIn, user_id: str
) -> None:
    """One record per page, 20 days: dozens of pages. The server is killed mid-way; the
    same backfill asked again goes on from its last checkpointed page, and every record
    is stored once."""
    server = killable_device_server
    whoop.oauth.access_ttl = 3600
    who = whoop_user()
    whoop.add_user(who, days=20)
    whoop.oauth.approve_as(who)
    async with AurenClient(url=server.url, api_key=SERVICE_KEY) as auren:
        await connect_through_oauth(auren, user_id, "whoop")
        await backfilled(auren, user_id, "whoop")  # the connect's own backfill, first
        backfill_id = uuid.uuid4().hex
        seen = 0
        stream = auren.stream_backfill(user_id, "whoop", days=20, backfill_id=backfill_id)
        async for event in stream:
            seen = int(event.get("pages", 0))
            if seen >= 10:
                break
        await stream.aclose()
    calls_before = len(whoop.requests)
    server.restart(kill=True)
    async with AurenClient(url=server.url, api_key=SERVICE_KEY, retries=5) as auren:
        events = [
            event
            async for event in auren.stream_backfill(
                user_id, "whoop", days=20, backfill_id=backfill_id
            )
        ]
        total_pages = max(int(e.get("pages", 0)) for e in events if e.get("event") == "backfill")
        fetched_after = len(whoop.requests) - calls_before
        # Resumed: the pages before the kill's last checkpoint were not fetched again.
        assert fetched_after < total_pages, (fetched_after, total_pages)
        report = events[-1]["report"]
        assert report.accepted == 0  # the connect's backfill had stored everything once
        rows = await auren.metrics(
            user_id, "recovery_score", date.today() - timedelta(days=25), date.today()
        )
    days = [row.day for row in rows]
    assert len(days) == len(set(days)) >= 18


async def test_an_access_token_expiring_during_a_backfill_is_refreshed(
    killable_device_server: DevServer, whoop: WhoopStandIn, user_id: str
) -> None:
    who = whoop_user()
    whoop.add_user(who, days=20)
    whoop.oauth.approve_as(who)
    whoop.oauth.access_ttl = 2  # tokens outlive a few pages, not a backfill
    try:
        async with AurenClient(url=killable_device_server.url, api_key=SERVICE_KEY) as auren:
            await connect_through_oauth(auren, user_id, "whoop")
            await backfilled(auren, user_id, "whoop")
            refreshes_before = len(whoop.oauth.refresh_tokens(who))
            await asyncio.sleep(2.5)
            since = len(whoop.requests)
            report = await auren.backfill(user_id, "whoop", days=20)
    finally:
        whoop.oauth.access_ttl = 3600
    assert report.rejected_count == 0
    assert len(whoop.oauth.refresh_tokens(who)) > refreshes_before  # refreshed on the way
    refused = [c for c in whoop.requests[since:] if c.kind == "api" and c.status == 401]
    assert len(refused) <= 1  # refreshed ahead of expiry (at most one 401 on the way)
