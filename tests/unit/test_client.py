"""Unit tests of auren_client against an in-memory fake of the LangGraph endpoints it calls."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from auren_client import (
    AurenClient,
    AurenError,
    AurenTimeoutError,
    AuthenticationError,
    ConnectionFailedError,
    DeviceConflictError,
    InvalidArgumentError,
    InvalidPayloadError,
    MetricRow,
    Rejection,
    RequestRejectedError,
    RunFailedError,
    ServerError,
    ServiceUnavailableError,
    SyncAurenClient,
    UnexpectedResponseError,
)
from auren_client._files import split_apple_export
from auren_contract import DEV_SERVER_FILE, INLINE_LIMIT, series_upload_key
from auren_graphs.ingestion.uploads import expand, upload_payload

USER = "user-alice"
INGESTION_THREAD = f"thread-{USER}-ingestion"

# -- the fake server ------------------------------------------------------------------

Fault = int | Exception


class FakeServer:
    """The endpoints the client uses (AUREN's user routes, runs/wait, the store), in memory.

    ``fail(method, path_pattern, *faults)`` makes the next matching requests answer
    with a status code or raise an exception, in order. ``respond`` decides a run's
    final state from its input (by default: one accepted value per payload/record).
    """

    def __init__(self) -> None:
        self.store: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.thread_creates: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.faults: list[tuple[str, str, Fault]] = []
        self.respond: Callable[[dict[str, Any]], Any] = self.default_state
        self.connections: dict[tuple[str, str], dict[str, Any]] = {}
        self.metric_rows: dict[tuple[str, str], list[Any]] = {}
        self.metric_rows_unfiltered = False
        self.run_delay = 0.0

    # test helpers
    def fail(self, method: str, pattern: str, *faults: Fault) -> None:
        self.faults.extend((method, pattern, fault) for fault in faults)

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def client(self, **kwargs: Any) -> AurenClient:
        kwargs.setdefault("retry_backoff", 0)
        return AurenClient("http://fake:2024", http_client=self.http_client(), **kwargs)

    def put(self, namespace: list[str], key: str, value: dict[str, Any]) -> None:
        self.store[(tuple(namespace), key)] = value

    def uploads(self) -> dict[str, dict[str, Any]]:
        return {key: value for (ns, key), value in self.store.items() if ns[0] == "uploads"}

    @staticmethod
    def upload_text(value: dict[str, Any]) -> Any:
        """An upload's document as the server's normalizer gets it (packed ones unpacked)."""
        payload = upload_payload(value)
        return payload.decode() if isinstance(payload, bytes) else payload

    def default_state(self, run_input: dict[str, Any]) -> dict[str, Any]:
        # Like the server: exactly one of an inline payload or upload keys.
        assert (run_input["payload"] is None) == bool(run_input["uploads"]), run_input
        payloads = [run_input["payload"]] if run_input["payload"] is not None else []
        payloads += [
            self.upload_text(self.store[(("uploads", run_input["user_id"]), k)])
            for k in run_input.get("uploads", [])
        ]
        records = sum(
            p.count("<Record ") + p.count("<Workout ") if isinstance(p, str) else 1
            for p in payloads
        )
        report = {
            "accepted": records,
            "duplicates": 0,
            "updated": 0,
            "rejected": [],
            "rejected_count": 0,
            "skipped": [],
            "skipped_count": 0,
            "records": records,
        }
        return {"report": report, "error": None}

    # request handling
    async def handle(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        self.requests.append((method, path))
        for i, (f_method, pattern, fault) in enumerate(self.faults):
            if f_method == method and re.search(pattern, path):
                del self.faults[i]
                if isinstance(fault, Exception):
                    raise fault
                return httpx.Response(fault, json={"detail": f"injected {fault}"})
        body: Any = json.loads(request.content) if request.content else None
        if method == "PUT" and (m := re.fullmatch(r"/users/([^/]+)/threads/([^/]+)", path)):
            return self._user_thread(request, m.group(1), m.group(2))
        if m := re.fullmatch(r"/users/([^/]+)/devices(?:/([^/]+))?", path):
            return self._devices(method, m.group(1), m.group(2), body)
        if (m := re.fullmatch(r"/users/([^/]+)(/report|/export)?", path)) and method != "PUT":
            return self._leaving(method, m.group(1), m.group(2), request)
        if method == "GET" and (m := re.fullmatch(r"/connect/([^/]+)", path)):
            target = f"https://vendor.example/oauth?for={request.url.params['user']}"
            return httpx.Response(307, headers={"location": target})
        if method == "GET" and (m := re.fullmatch(r"/users/([^/]+)/metrics/([^/]+)", path)):
            return self._metrics(m.group(1), m.group(2), request.url.params)
        if method == "POST" and (m := re.fullmatch(r"/threads/([^/]+)/runs/wait", path)):
            return await self._wait(m.group(1), body)
        if path == "/store/items":
            return self._item(method, request, body)
        return httpx.Response(404, json={"detail": "no such route"})

    def _user_thread(self, request: httpx.Request, user: str, graph: str) -> httpx.Response:
        self.thread_creates.append({"user": user, "graph": graph, "as": _acting(request)})
        return httpx.Response(200, json={"graph": graph, "thread_id": f"thread-{user}-{graph}"})

    def _leaving(
        self, method: str, user: str, what: str | None, request: httpx.Request
    ) -> httpx.Response:
        """The report page, the export archive, and erasure of everything."""
        if what == "/report":
            days = request.url.params["days"]
            return httpx.Response(200, text=f"<html>report of {user}, {days} days</html>")
        if what == "/export":
            return httpx.Response(200, content=b"PK\x05\x06" + bytes(18))  # an empty zip
        if method == "DELETE":
            removed = [k for k in self.connections if k[0] == user]
            for key in removed:
                del self.connections[key]
            return httpx.Response(200, json={"connections": len(removed), "metrics": 0})
        return httpx.Response(404, json={"detail": "no such route"})

    def _devices(self, method: str, user: str, device: str | None, body: Any) -> httpx.Response:
        if method == "DELETE":
            connection = self.connections.get((user, str(device)))
            if connection is None:
                return httpx.Response(404, json={"detail": f"{device} is not connected"})
            connection["status"] = "disconnected"
            return httpx.Response(
                200, json={"device": device, "status": "disconnected", "revoked": True}
            )
        if method == "GET":
            return httpx.Response(
                200, json=[c for (u, _), c in self.connections.items() if u == user]
            )
        account = (body or {}).get("vendor_user_id")
        for (other, other_device), connection in self.connections.items():
            same = other_device == device and connection["vendor_user_id"] == account
            if account is not None and same and other != user:
                return httpx.Response(409, json={"detail": "connected to another user"})
        connection = {
            "user_id": user,
            "device": device,
            "vendor_user_id": account,
            "status": "connected",
            "connected_at": "2026-11-02T07:30:00+00:00",
            "updated_at": "2026-11-02T07:30:00+00:00",
            "last_sync_at": None,
            "has_api_token": "access_token" in (body or {}),
            "has_ingest_token": "ingest_token" in (body or {}),
        }
        self.connections[(user, str(device))] = connection
        return httpx.Response(200, json=connection)

    def _metrics(self, user: str, metric: str, params: httpx.QueryParams) -> httpx.Response:
        rows = self.metric_rows.get((user, metric), [])
        if self.metric_rows_unfiltered:  # rows that may not even have a day
            return httpx.Response(200, json=rows)
        kept = [r for r in rows if params["start"][:10] <= r["day"] <= params["end"][:10]]
        return httpx.Response(200, json=kept)

    async def _wait(self, thread: str, body: dict[str, Any]) -> httpx.Response:
        self.runs.append({"thread_id": thread, **body})
        if self.run_delay:
            await asyncio.sleep(self.run_delay)
        return httpx.Response(200, json=self.respond(body["input"]))

    def _item(self, method: str, request: httpx.Request, body: Any) -> httpx.Response:
        if method == "PUT":
            self.put(body["namespace"], body["key"], body["value"])
            return httpx.Response(204)
        if method == "DELETE":
            self.store.pop((tuple(body["namespace"]), body["key"]), None)
            return httpx.Response(204)
        namespace = tuple(request.url.params["namespace"].split("."))
        key = request.url.params["key"]
        if (namespace, key) not in self.store:
            return httpx.Response(404, json={"detail": "Item not found"})
        return httpx.Response(
            200,
            json={"namespace": list(namespace), "key": key, "value": self.store[(namespace, key)]},
        )


def _acting(request: httpx.Request) -> str | None:
    return request.headers.get("x-auren-user")


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


# -- ids and models -----------------------------------------------------------------------


def test_metric_row_reads_like_a_mapping() -> None:
    row = MetricRow("steps", 8000.0, "count", date(2026, 11, 2), None, "oura")
    assert row["value"] == 8000.0
    assert row["day"] == date(2026, 11, 2)
    assert dict(row)["device"] == "oura"
    with pytest.raises(KeyError):
        row["nope"]


# -- ingest -----------------------------------------------------------------------------------


async def test_small_payload_goes_inline_on_the_users_thread(fake: FakeServer) -> None:
    payload = {"data": [{"day": "2026-11-02", "score": 80}], "next_token": None}
    async with fake.client() as auren:
        report = await auren.ingest(USER, "oura", payload)
    assert report.accepted == 1
    [run] = fake.runs
    assert run["thread_id"] == INGESTION_THREAD  # the id the server gave
    assert run["assistant_id"] == "ingestion"
    assert run["multitask_strategy"] == "enqueue"
    assert "if_not_exists" not in run  # the thread exists: the server made it
    assert run["input"] == {
        "user_id": USER, "device": "oura", "payload": payload, "uploads": [],
        "backfill": None, "deletions": [],
    }  # fmt: skip
    assert fake.thread_creates == [{"user": USER, "graph": "ingestion", "as": USER}]
    assert fake.uploads() == {}


async def test_thread_is_created_once_per_client(fake: FakeServer) -> None:
    async with fake.client() as auren:
        await auren.ingest(USER, "manual", {"entries": []})
        await auren.ingest(USER, "manual", {"entries": []})
    assert len(fake.thread_creates) == 1
    assert len(fake.runs) == 2


async def test_large_payload_is_uploaded_and_sent_by_key(fake: FakeServer) -> None:
    payload = "x" * (INLINE_LIMIT + 1)
    async with fake.client() as auren:
        await auren.ingest(USER, "whoop", payload)
    [(key, value)] = fake.uploads().items()
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert value == {"device": "whoop", "payload": payload, "records": None}
    assert (("uploads", USER), key) in fake.store
    [run] = fake.runs
    assert run["input"] == {
        "user_id": USER, "device": "whoop", "payload": None, "uploads": [key],
        "backfill": None, "deletions": [],
    }  # fmt: skip


async def test_inline_threshold_is_the_json_encoded_size(fake: FakeServer) -> None:
    at_limit = "a" * (INLINE_LIMIT - 2)  # plus two quotes: exactly the limit
    over = "a" * (INLINE_LIMIT - 1)
    async with fake.client() as auren:
        await auren.ingest(USER, "manual", at_limit)
        await auren.ingest(USER, "manual", over)
    assert fake.runs[0]["input"]["payload"] == at_limit
    assert fake.runs[1]["input"]["payload"] is None and fake.runs[1]["input"]["uploads"]


async def test_bytes_are_sent_as_text(fake: FakeServer) -> None:
    raw = json.dumps({"records": [{"id": 1}], "next_token": None}).encode()
    async with fake.client() as auren:
        await auren.ingest(USER, "whoop", b"\xef\xbb\xbf" + raw)
    assert fake.runs[0]["input"]["payload"] == raw.decode()


async def test_bytes_that_are_not_utf8_are_refused_before_sending(fake: FakeServer) -> None:
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="UTF-8"):
            await auren.ingest(USER, "oura", b'{"data": "\xff\xfe"}')
    assert fake.requests == []


@pytest.mark.parametrize("payload", [b'{"data": [1]}\x00', '{"data": [],\x00 "x": 1}'])
async def test_text_with_a_raw_nul_is_refused_before_sending(
    fake: FakeServer, payload: bytes | str
) -> None:
    # Found by the in-process fuzz: Postgres cannot keep such a run input (jsonb).
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="NUL character at position"):
            await auren.ingest(USER, "oura", payload)
    assert fake.requests == []


async def test_report_maps_counts_and_reasons(fake: FakeServer) -> None:
    fake.respond = lambda _: {
        "report": {
            "accepted": 5, "duplicates": 2, "updated": 1,
            "rejected": [{"ref": "data[3]", "reason": "hr 900 bpm is not plausible"}, {"ref": "data[7]", "reason": "no timestamp"}],
            "rejected_count": 2, "skipped": [{"ref": "data[9]", "reason": "score pending"}], "skipped_count": 1, "records": 11,
        },
        "error": None,
    }  # fmt: skip
    async with fake.client() as auren:
        report = await auren.ingest(USER, "oura", {"data": []})
    assert (report.accepted, report.duplicates, report.updated, report.records) == (5, 2, 1, 11)
    assert report.rejected == 2
    assert report.rejected_count == 2
    assert report.rejected[0].reason == "hr 900 bpm is not plausible"
    assert report.rejected[1] == Rejection("data[7]", "no timestamp")
    assert report.skipped == 1 and report.skipped[0].reason == "score pending"


async def test_invalid_payload_state_raises(fake: FakeServer) -> None:
    fake.respond = lambda _: {
        "report": None,
        "error": {"kind": "invalid_payload", "message": "not an Oura document: no 'data' list"},
    }
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="no 'data' list") as caught:
            await auren.ingest(USER, "oura", {"nonsense": True})
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, AurenError)


def test_the_whole_error_tree_is_public() -> None:
    import auren_client

    def tree(cls: type[AurenError]) -> set[type[AurenError]]:
        return {cls}.union(*(tree(sub) for sub in cls.__subclasses__()))

    exported = [getattr(auren_client, name) for name in auren_client.__all__]
    public = {obj for obj in exported if isinstance(obj, type)}
    # Only the client's own: other packages (the operators' client) derive theirs too.
    ours = {cls for cls in tree(AurenError) if cls.__module__.startswith("auren_client")}
    assert ours <= public, ours - public
    assert {cls.__module__ for cls in ours} == {"auren_client"}


async def test_run_error_raises_run_failed(fake: FakeServer) -> None:
    fake.respond = lambda _: {"__error__": {"error": "KeyError", "message": "'day'"}}
    async with fake.client() as auren:
        with pytest.raises(RunFailedError, match="KeyError: 'day'"):
            await auren.ingest(USER, "oura", {"data": []})


async def test_run_failed_for_want_of_postgres_is_service_unavailable(fake: FakeServer) -> None:
    failure = {"error": "DatabaseUnavailableError", "message": "Postgres is unavailable"}
    fake.respond = lambda _: {"__error__": failure}
    async with fake.client() as auren:
        with pytest.raises(ServiceUnavailableError, match="call again shortly") as caught:
            await auren.ingest(USER, "oura", {"data": []})
    assert caught.value.status_code == 503 and isinstance(caught.value, ServerError)


async def test_a_run_the_server_lost_in_a_restart_is_made_again(fake: FakeServer) -> None:
    # After a crash the dev server no longer knows a run a client was waiting on.
    lost = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
    answers = [lost, None]
    fake.respond = lambda body: answers.pop(0) or fake.default_state(body)
    async with fake.client(retries=2) as auren:
        report = await auren.ingest(USER, "oura", {"data": []})
    assert report.accepted == 1
    assert fake.requests.count(("POST", f"/threads/{INGESTION_THREAD}/runs/wait")) == 2


async def test_503_after_retries_is_service_unavailable(fake: FakeServer) -> None:
    fake.fail("POST", "/runs/wait", 503, 503)
    async with fake.client(retries=1) as auren:
        with pytest.raises(ServiceUnavailableError, match="unavailable"):
            await auren.ingest(USER, "oura", {"data": []})


async def test_unknown_device_and_bad_user_are_refused(fake: FakeServer) -> None:
    async with fake.client() as auren:
        with pytest.raises(InvalidArgumentError, match="garmin"):
            await auren.ingest(USER, "garmin", {})
        with pytest.raises(InvalidArgumentError, match="not a user id"):
            await auren.ingest("alice.smith", "oura", {})
        with pytest.raises(InvalidPayloadError, match="set"):
            await auren.ingest(USER, "oura", {1, 2})  # type: ignore[arg-type]
    assert fake.requests == []


async def test_ingest_timeout(fake: FakeServer) -> None:
    fake.run_delay = 1.0
    async with fake.client() as auren:
        with pytest.raises(AurenTimeoutError, match="did not finish") as caught:
            await auren.ingest(USER, "oura", {"data": []}, timeout=0.05)
    assert isinstance(caught.value, TimeoutError)


# -- retries and errors ---------------------------------------------------------------------


async def test_retries_5xx_then_succeeds(fake: FakeServer) -> None:
    fake.fail("POST", "/runs/wait", 503, 502)
    async with fake.client(retries=3) as auren:
        report = await auren.ingest(USER, "oura", {"data": []})
    assert report.accepted == 1
    assert fake.requests.count(("POST", f"/threads/{INGESTION_THREAD}/runs/wait")) == 3


async def test_once_the_server_answered_connection_errors_are_retried(fake: FakeServer) -> None:
    async with fake.client(retries=2) as auren:
        await auren.metrics(USER, "steps", date(2026, 11, 1), date(2026, 11, 2))
        fake.fail("PUT", "/threads/ingestion$", httpx.ConnectError("connection refused"))
        fake.fail("POST", "/runs/wait", httpx.ReadError("connection reset"))
        report = await auren.ingest(USER, "oura", {"data": []})
    assert report.accepted == 1
    assert fake.requests.count(("PUT", f"/users/{USER}/threads/ingestion")) == 2


async def test_a_refused_first_connection_is_said_at_once(fake: FakeServer) -> None:
    fake.fail("PUT", "/threads/ingestion$", httpx.ConnectError("connection refused"))
    async with fake.client(retries=3, retry_backoff=5) as auren:
        with pytest.raises(ConnectionFailedError, match="make dev"):
            await asyncio.wait_for(auren.ingest(USER, "oura", {"data": []}), 2)
    assert fake.requests == [("PUT", f"/users/{USER}/threads/ingestion")]


@pytest.mark.parametrize("url", ["127.0.0.1:2024", "localhost:2024/", "ftp://auren.example"])
def test_a_url_without_its_scheme_says_so(url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="has no http:// or https://"):
        AurenClient(url)


async def test_a_missing_file_says_what_to_give(fake: FakeServer, tmp_path: Path) -> None:
    async with fake.client() as auren:
        with pytest.raises(InvalidArgumentError, match=r"no file at .*export\.xml or export\.zip"):
            await auren.ingest_file(USER, "apple_health", tmp_path / "export.xml")
    assert fake.requests == []


@pytest.mark.parametrize("status", [400, 409, 422])
async def test_4xx_is_not_retried(fake: FakeServer, status: int) -> None:
    fake.fail("POST", "/runs/wait", status)
    async with fake.client(retries=3) as auren:
        with pytest.raises(RequestRejectedError, match=f"{status}: injected") as caught:
            await auren.ingest(USER, "oura", {"data": []})
    assert caught.value.status_code == status
    assert fake.requests.count(("POST", f"/threads/{INGESTION_THREAD}/runs/wait")) == 1


async def test_auth_errors(fake: FakeServer) -> None:
    fake.fail("PUT", "/threads/ingestion$", 401)
    async with fake.client() as auren:
        with pytest.raises(AuthenticationError, match="AUREN_API_KEY"):
            await auren.ingest(USER, "oura", {"data": []})
    assert len(fake.requests) == 1


async def test_5xx_after_retries_is_server_error(fake: FakeServer) -> None:
    fake.fail("POST", "/runs/wait", 500, 500, 500)
    async with fake.client(retries=2) as auren:
        with pytest.raises(ServerError, match="kept failing"):
            await auren.ingest(USER, "oura", {"data": []})


async def test_unreachable_server_names_the_url() -> None:
    url = "http://127.0.0.1:9"  # discard port: nothing listens
    async with AurenClient(url, retries=1, retry_backoff=0, timeout=2) as auren:
        with pytest.raises(ConnectionFailedError) as caught:
            await auren.ingest(USER, "oura", {"data": []})
    message = str(caught.value)
    assert url in message and "make dev" in message and "AUREN_URL" in message


def test_url_and_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUREN_URL", "http://auren.example:8123/")
    monkeypatch.setenv("AUREN_API_KEY", "secret-key")
    client = AurenClient()
    assert client.url == "http://auren.example:8123"
    assert client._http.headers["x-api-key"] == "secret-key"
    assert "secret" not in repr(client)
    monkeypatch.delenv("AUREN_URL")
    monkeypatch.delenv("AUREN_API_KEY")
    client = AurenClient()
    assert client.url == "http://127.0.0.1:2024"
    assert "x-api-key" not in client._http.headers


# -- devices ---------------------------------------------------------------------------------


async def test_connect_device_asks_the_server_as_the_user(fake: FakeServer) -> None:
    async with fake.client() as auren:
        connection = await auren.connect_device(
            USER, "oura", vendor_user_id="7XKQ2MZP4R", access_token="tok"
        )
        listed = await auren.devices(USER)
    assert fake.connections[(USER, "oura")]["vendor_user_id"] == "7XKQ2MZP4R"
    assert connection.vendor_user_id == "7XKQ2MZP4R" and connection.status == "connected"
    assert connection.connected_at.tzinfo is not None and connection.has_api_token
    assert [c.device for c in listed] == ["oura"]


async def test_connect_device_conflict_is_a_device_conflict_error(fake: FakeServer) -> None:
    async with fake.client() as auren:
        await auren.connect_device("user-bob", "whoop", vendor_user_id=10129)
        with pytest.raises(DeviceConflictError, match="another user"):
            await auren.connect_device(USER, "whoop", vendor_user_id=10129)
    assert (USER, "whoop") not in fake.connections


async def test_connect_device_refuses_a_bad_user_id_before_any_request(fake: FakeServer) -> None:
    async with fake.client() as auren:
        for bad in ("*", "", " ", "a.b", "x" * 129, "service:0"):
            with pytest.raises(InvalidArgumentError, match="user"):
                await auren.connect_device(bad, "oura")
    assert fake.requests == []


async def test_connect_unknown_device(fake: FakeServer) -> None:
    async with fake.client() as auren:
        with pytest.raises(InvalidArgumentError, match="apple_health"):
            await auren.connect_device(USER, "fitbit")


# -- metrics ---------------------------------------------------------------------------------


def _seed_heart_rate(fake: FakeServer) -> None:
    fake.metric_rows[(USER, "heart_rate")] = [
        {"metric": "heart_rate", "value": 55, "unit": "bpm", "day": "2026-11-01",
         "timestamp": "2026-11-01T23:30:00-08:00", "device": "oura"},
        {"metric": "heart_rate", "value": 52, "unit": "bpm", "day": "2026-11-02",
         "timestamp": None, "device": "oura"},
        {"metric": "heart_rate", "value": 58, "unit": "bpm", "day": "2026-11-03",
         "timestamp": "2026-11-03T06:00:00+00:00", "device": "apple_health"},
    ]  # fmt: skip


async def test_metrics_are_the_servers_rows(fake: FakeServer) -> None:
    _seed_heart_rate(fake)
    async with fake.client() as auren:
        rows = await auren.metrics(USER, "heart_rate", date(2026, 11, 1), date(2026, 11, 3))
    assert [(r.day.isoformat(), r.value, r.device) for r in rows] == [
        ("2026-11-01", 55.0, "oura"),
        ("2026-11-02", 52.0, "oura"),
        ("2026-11-03", 58.0, "apple_health"),
    ]
    assert rows[0].timestamp == datetime(2026, 11, 1, 23, 30, tzinfo=timezone(timedelta(hours=-8)))
    assert rows[1].timestamp is None and rows[2]["value"] == 58.0


@pytest.mark.parametrize(
    "row",
    [
        {"metric": "heart_rate", "unit": "bpm", "day": "2026-11-02", "device": "oura"},
        {"metric": "heart_rate", "value": "fast", "unit": "bpm", "day": "2026-11-02"},
        {"metric": "heart_rate", "value": 52, "unit": "bpm", "day": "Monday"},
        ["heart_rate", 52, "bpm", "2026-11-02"],
    ],
)
async def test_a_malformed_row_from_the_server_is_an_unexpected_response(
    fake: FakeServer, row: Any
) -> None:
    fake.metric_rows[(USER, "heart_rate")] = [row]
    fake.metric_rows_unfiltered = True
    async with fake.client() as auren:
        with pytest.raises(UnexpectedResponseError, match="malformed metric row"):
            await auren.metrics(USER, "heart_rate", date(2026, 11, 1), date(2026, 11, 3))


async def test_metrics_send_dates_as_days_and_datetimes_as_instants(fake: FakeServer) -> None:
    seen: list[httpx.QueryParams] = []
    original = fake._metrics

    def spy(user: str, metric: str, params: httpx.QueryParams) -> httpx.Response:
        seen.append(params)
        return original(user, metric, params)

    fake._metrics = spy  # type: ignore[method-assign]
    async with fake.client() as auren:
        await auren.metrics(USER, "steps", date(2026, 1, 1), date(2026, 1, 31))
        await auren.metrics(USER, "steps", datetime(2026, 1, 1, 7, tzinfo=UTC), date(2026, 1, 2))
    assert dict(seen[0]) == {"start": "2026-01-01", "end": "2026-01-31"}
    assert seen[1]["start"] == "2026-01-01T07:00:00+00:00"


async def test_metrics_refuse_an_unknown_metric_with_a_suggestion(fake: FakeServer) -> None:
    async with fake.client() as auren:
        with pytest.raises(InvalidArgumentError, match="hrv_rmssd"):
            await auren.metrics(USER, "hrv", date(2026, 1, 1), date(2026, 1, 2))
    assert fake.requests == []


# -- Apple export splitting ---------------------------------------------------------------------

_DTD = """<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED>
]>
"""


def _record(i: int) -> str:
    return (
        f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch &amp; Co" unit="count/min" '
        f'creationDate="2026-11-02 08:{i % 60:02d}:00 -0800" startDate="2026-11-02 08:{i % 60:02d}:00 -0800" '
        f'endDate="2026-11-02 08:{i % 60:02d}:00 -0800" value="{60 + i % 30}">\n'
        f'  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
    )


def _export(n_records: int, *, dtd: bool = True) -> str:
    workout = (
        '<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" '
        'startDate="2026-11-02 07:00:00 -0800" endDate="2026-11-02 07:30:00 -0800">'
        '<WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" sum="300" unit="kcal"/></Workout>\n'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + (_DTD if dtd else "")
        + '<HealthData locale="en_US">\n <ExportDate value="2026-11-03 10:00:00 -0800"/>\n'
        ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01"/>\n'
        + "".join(_record(i) for i in range(n_records))
        + workout
        + ' <ActivitySummary dateComponents="2026-11-02" activeEnergyBurned="500"/>\n</HealthData>\n'
    )


def test_splitter_makes_standalone_documents() -> None:
    chunks = list(split_apple_export(io.BytesIO(_export(2500).encode()), batch_records=1000))
    # 2500 records, a workout and an activity summary: every record is sent, so that the
    # server accounts for it (ExportDate and Me are not records).
    assert [c.records for c in chunks] == [1000, 1000, 502]
    documents = [expand(chunk.packed) for chunk in chunks]  # as the server unpacks them
    for chunk, document in zip(chunks, documents, strict=True):
        assert document.startswith(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">'
        )
        root = ET.fromstring(document)
        assert root.tag == "HealthData" and root.get("locale") == "en_US"
        assert len(root) == chunk.records
        assert {child.tag for child in root} <= {"Record", "Workout", "ActivitySummary"}
    first = ET.fromstring(documents[0])[0]
    assert first.get("sourceName") == "Watch & Co"
    assert first[0].tag == "MetadataEntry"
    assert ET.fromstring(documents[-1])[-1].tag == "ActivitySummary"


@pytest.mark.parametrize(
    "attack",
    [
        '<?xml version="1.0"?><!DOCTYPE HealthData [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        '<HealthData locale="en"><Record type="x" value="&b;"/></HealthData>',
        '<?xml version="1.0"?><!DOCTYPE HealthData [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<HealthData locale="en"><Record type="x" value="&xxe;"/></HealthData>',
    ],
    ids=["billion-laughs", "external-entity"],
)
def test_splitter_refuses_entities(attack: str) -> None:
    with pytest.raises(InvalidPayloadError, match="entities"):
        list(split_apple_export(io.BytesIO(attack.encode()), batch_records=10))


def test_splitter_refuses_other_xml() -> None:
    with pytest.raises(InvalidPayloadError, match="HealthData"):
        list(split_apple_export(io.BytesIO(b"<rss><item/></rss>"), batch_records=10))


_MEASURE_SPLIT = """
import resource, sys
from auren_client._files import split_apple_export
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
records = 0
with open(sys.argv[1], "rb") as source:
    for chunk in split_apple_export(source, batch_records=2_000):
        records += chunk.records
growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(records, growth * 1024)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_splitter_memory_is_bounded(tmp_path: Path) -> None:
    # In a fresh process, so the high-water mark is the splitter's own. Keeping the
    # parsed elements instead of dropping them would grow it by ~100 MB here.
    path = tmp_path / "export.xml"
    record = '<Record type="HKQuantityTypeIdentifierHeartRate" unit="count/min" startDate="2026-11-02 08:{m:02d}:00 -0800" value="{v}"><MetadataEntry key="k" value="0"/></Record>\n'
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n' + _DTD + '<HealthData locale="en_US">\n'
        )
        for start in range(0, 100_000, 10_000):
            out.write("".join(record.format(m=i % 60, v=i) for i in range(start, start + 10_000)))
        out.write("</HealthData>\n")
    size = path.stat().st_size
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_SPLIT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    records, growth = map(int, done.stdout.split())
    assert records == 100_000
    assert growth < 16_000_000, (
        f"memory grew by {growth / 1e6:.1f} MB splitting a {size / 1e6:.0f} MB file"
    )


# -- ingest_file ---------------------------------------------------------------------------------


async def test_ingest_file_pipelines_an_export(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(950))
    async with fake.client() as auren:
        report = await auren.ingest_file(
            USER, "apple_health", path, progress=False, batch_records=100, chunks_per_run=4
        )
    assert (
        report.accepted == report.records == 951
    )  # every record and the workout, summed over runs
    assert len(fake.uploads()) == 10
    # One document first, so the server starts at once, then twice as many each run.
    assert [len(run["input"]["uploads"]) for run in fake.runs] == [1, 2, 4, 3]
    assert all(run["multitask_strategy"] == "enqueue" for run in fake.runs)
    sent = [key for run in fake.runs for key in run["input"]["uploads"]]
    assert sorted(sent) == sorted(fake.uploads())
    # Named as one series, in order: the server reads ahead across runs by name.
    series = sent[0].split("-")[0]
    assert sent == [series_upload_key(series, n) for n in range(10)]
    for value in fake.uploads().values():
        # Packed (zlib, base64): a tenth of the document's size on the wire and in Postgres.
        assert value["device"] == "apple_health" and value["encoding"] == "zlib+base64"
        assert value["records"] in (100, 52)  # 952 records in documents of 100
        ET.fromstring(FakeServer.upload_text(value).encode())


async def test_ingest_file_reads_the_export_in_a_zip(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        archive.writestr("apple_health_export/export.xml", _export(30))
    async with fake.client() as auren:
        report = await auren.ingest_file(
            USER, "apple_health", str(path), progress=False, batch_records=10
        )
    assert report.accepted == 31
    assert len(fake.uploads()) == 4


async def test_ingest_file_bounds_runs_in_flight(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(99))
    fake.run_delay = 0.01
    async with fake.client() as auren:
        report = await auren.ingest_file(
            USER,
            "apple_health",
            path,
            progress=False,
            batch_records=10,
            chunks_per_run=1,
            max_pending_runs=2,
        )
    assert report.accepted == 100
    assert len(fake.runs) == 11  # 99 records, a workout and an activity summary


async def test_ingest_file_json_goes_whole(fake: FakeServer, tmp_path: Path) -> None:
    document = {"records": [{"id": 1, "score_state": "SCORED"}], "next_token": None}
    path = tmp_path / "whoop.json"
    path.write_text(json.dumps(document))
    async with fake.client() as auren:
        await auren.ingest_file(USER, "whoop", path, progress=False)
    [run] = fake.runs
    assert run["input"]["payload"] == json.dumps(document)  # text, parsed by the server


async def test_ingest_file_from_a_stream(fake: FakeServer) -> None:
    async with fake.client() as auren:
        report = await auren.ingest_file(
            USER, "apple_health", io.BytesIO(_export(5).encode()), progress=False
        )
    assert report.accepted == 6


async def test_ingest_file_refuses_xml_for_other_devices(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(3))
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="apple_health"):
            await auren.ingest_file(USER, "oura", path, progress=False)
    assert fake.runs == []


async def test_ingest_file_entity_attack_sends_nothing(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE HealthData [<!ENTITY a "x">]><HealthData locale="en">&a;</HealthData>'
    )
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="entities"):
            await auren.ingest_file(USER, "apple_health", path, progress=False)
    assert fake.uploads() == {} and fake.runs == []


async def test_ingest_file_damaged_part_way_stores_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    text = _export(50)
    path = tmp_path / "export.xml"
    path.write_text(text[: text.index("<Record", len(text) // 2) + 20])
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="not well-formed") as caught:
            await auren.ingest_file(USER, "apple_health", path, progress=False, batch_records=10)
    assert caught.value.partial_report is None
    assert fake.uploads() == {}
    assert fake.runs == []


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like stdin."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


async def test_ingest_from_a_pipe_damaged_part_way_reports_what_came_before(
    fake: FakeServer,
) -> None:
    text = _export(50)
    damaged = text[: text.index("<Record", len(text) // 2) + 20].encode()
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="not well-formed") as caught:
            await auren.ingest_file(
                USER,
                "apple_health",
                io.BufferedReader(_Pipe(damaged)),
                progress=False,
                batch_records=10,
            )
    partial = caught.value.partial_report
    assert partial is not None and partial.accepted == 20
    assert "20 records before that point were ingested" in str(caught.value)


async def test_ingest_file_stops_on_a_failed_run(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(50))
    fake.respond = lambda _: {
        "report": None,
        "error": {"kind": "invalid_payload", "message": "bad chunk"},
    }
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="bad chunk"):
            await auren.ingest_file(
                USER, "apple_health", path, progress=False, batch_records=5, chunks_per_run=1
            )


async def test_ingest_file_too_large_json(
    fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("auren_client._files.JSON_FILE_LIMIT", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"data": ["x" * 2000]}))
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="larger than"):
            await auren.ingest_file(USER, "oura", path, progress=False)
    assert fake.requests == []


async def test_a_json_file_over_the_limit_is_refused_from_its_size_before_it_is_read(
    fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as out:
        out.write(b'{"data": [')
        out.truncate(400 * 2**20)  # 400 MB, sparse: nothing to read but zeros
    reads: list[int] = []
    monkeypatch.setattr(
        "auren_client._files.CountingReader",
        lambda *_args, **_kw: reads.append(1) or pytest.fail("the body was read"),
    )
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="larger than 64 MiB"):
            await auren.ingest_file(USER, "oura", path, progress=False)
    assert reads == [] and fake.requests == []


async def test_a_json_pipe_over_the_limit_stops_at_the_limit(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("auren_client._files.JSON_FILE_LIMIT", 1000)
    raw = _Pipe(b'{"data": "' + b"x" * 100_000 + b'"}')
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="larger than"):
            await auren.ingest_file(USER, "oura", io.BufferedReader(raw), progress=False)
    assert raw._data.tell() < 10_000  # stopped soon after the limit, not at the end
    assert fake.requests == []


async def test_a_large_json_file_travels_packed(fake: FakeServer, tmp_path: Path) -> None:
    document = {"data": [{"id": f"r-{n}", "day": "2026-11-02"} for n in range(2000)]}
    path = tmp_path / "page.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode())
    async with fake.client() as auren:
        await auren.ingest_file(USER, "oura", path, progress=False)
    [(key, value)] = fake.uploads().items()
    assert value["encoding"] == "zlib+base64"
    assert len(value["payload"]) < path.stat().st_size / 4
    assert json.loads(FakeServer.upload_text(value)) == document  # BOM dropped
    assert fake.runs[0]["input"]["uploads"] == [key]


async def test_a_json_file_that_is_not_utf8_is_refused(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_bytes(b'{"data": "' + b"x" * 50_000 + b'\xff"}')
    async with fake.client() as auren:
        with pytest.raises(InvalidPayloadError, match="not UTF-8"):
            await auren.ingest_file(USER, "oura", path, progress=False)
    assert fake.requests == []


# -- the sync client ---------------------------------------------------------------------------


def test_sync_client(fake: FakeServer, tmp_path: Path) -> None:
    _seed_heart_rate(fake)
    path = tmp_path / "export.xml"
    path.write_text(_export(3))
    with AurenClient.sync(
        "http://fake:2024", http_client=fake.http_client(), retry_backoff=0
    ) as auren:
        assert isinstance(auren, SyncAurenClient)
        auren.connect_device(USER, "oura", vendor_user_id="V1")
        assert auren.ingest(USER, "oura", {"data": []}).accepted == 1
        assert auren.ingest_file(USER, "apple_health", path, progress=False).accepted == 4
        rows = auren.metrics(USER, "heart_rate", date(2026, 11, 1), date(2026, 11, 3))
        assert len(rows) == 3
        with pytest.raises(InvalidArgumentError):
            auren.ingest(USER, "garmin", {})
    auren.close()  # a second close is harmless
    with pytest.raises(RuntimeError, match="closed"):
        auren.ingest(USER, "oura", {})


async def test_sync_client_works_inside_a_running_loop(fake: FakeServer) -> None:
    with SyncAurenClient(
        "http://fake:2024", http_client=fake.http_client(), retry_backoff=0
    ) as auren:
        assert auren.ingest(USER, "oura", {"data": []}).accepted == 1


def test_the_dev_server_of_this_directory_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUREN_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert AurenClient().url == "http://127.0.0.1:2024"  # nothing written: make dev's port
    announced = tmp_path / DEV_SERVER_FILE
    announced.parent.mkdir()
    announced.write_text(json.dumps({"url": "http://127.0.0.1:2031", "pid": os.getpid()}))
    assert AurenClient().url == "http://127.0.0.1:2031"
    assert AurenClient("http://elsewhere:1").url == "http://elsewhere:1"
    monkeypatch.setenv("AUREN_URL", "http://from-env:2")
    assert AurenClient().url == "http://from-env:2"


def test_a_dev_server_that_is_gone_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUREN_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    announced = tmp_path / DEV_SERVER_FILE
    announced.parent.mkdir()
    beyond_pid_max = 2**22 + 7  # no process can have it: a make dev killed outright
    announced.write_text(json.dumps({"url": "http://127.0.0.1:2031", "pid": beyond_pid_max}))
    assert AurenClient().url == "http://127.0.0.1:2024"
