"""Webhook pieces without a server: signatures, timestamps, event keys, body limits,
the retry policy, the vendor client and the metrics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from auren_graphs import observability
from auren_graphs.analysis.narrative import CircuitBreaker
from auren_graphs.canonical import NormalizedBatch, Rejection
from auren_graphs.devices.api import (
    VendorClient,
    VendorDownError,
    VendorError,
    VendorNotFoundError,
    VendorUnavailableError,
)
from auren_graphs.http.app import app
from auren_graphs.ingestion.storage import WriteCounts
from auren_graphs.webhooks import oura, push, whoop
from auren_graphs.webhooks.common import RefusedError, check_timestamp, read_body, require_json
from auren_graphs.webhooks.events import Event, RetryPolicy
from auren_graphs.webhooks.ingest import IngestRefusedError

NOW = 1_790_000_000.0  # seconds
SECRET = "client-secret"
BODY = json.dumps(
    {"user_id": 10129, "id": 10235, "type": "workout.updated", "trace_id": "t-1"}
).encode()


def headers(**values: str) -> dict[str, str]:
    return {key.replace("_", "-"): value for key, value in values.items()}


def refusal(call: Callable[[], Any]) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        call()
    return caught.value


# ------------------------------------------------------------------------ WHOOP


def whoop_headers(body: bytes = BODY, secret: str = SECRET, at: float = NOW) -> dict[str, str]:
    stamp = str(int(at * 1000))
    return headers(
        x_whoop_signature=whoop.sign(secret, stamp, body), x_whoop_signature_timestamp=stamp
    )


def test_whoop_signature_is_base64_hmac_of_timestamp_and_body() -> None:
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), b"1790000000000" + BODY, hashlib.sha256).digest()
    ).decode()
    assert whoop.sign(SECRET, "1790000000000", BODY) == expected


def test_whoop_valid_delivery_is_verified() -> None:
    stamp, seconds = whoop.verify(SECRET, whoop_headers(), BODY, now=NOW + 3, window=300)
    assert (stamp, seconds) == ("1790000000000", NOW)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("tampered", "does not match"),
        ("wrong-secret", "does not match"),
        ("stale", "old"),
        ("future", "future"),
        ("no-signature", "X-WHOOP-Signature header is missing"),
        ("no-timestamp", "X-WHOOP-Signature-Timestamp header is missing"),
        ("bad-timestamp", "not a Unix timestamp"),
    ],
)
def test_whoop_bad_deliveries_are_refused_with_401(case: str, words: str) -> None:
    body, sent = BODY, whoop_headers()
    if case == "tampered":
        body = BODY.replace(b"10235", b"10236")
    elif case == "wrong-secret":
        sent = whoop_headers(secret="another")
    elif case == "stale":
        sent = whoop_headers(at=NOW - 301)
    elif case == "future":
        sent = whoop_headers(at=NOW + 301)
    elif case == "no-signature":
        del sent["x-whoop-signature"]
    elif case == "no-timestamp":
        del sent["x-whoop-signature-timestamp"]
    else:
        sent["x-whoop-signature-timestamp"] = "yesterday"
    refused = refusal(lambda: whoop.verify(SECRET, sent, body, now=NOW, window=300))
    assert refused.status == 401 and words in refused.message
    assert SECRET not in refused.message


def test_whoop_event_key_is_stable_for_a_redelivery_and_new_for_a_new_trace() -> None:
    note = whoop.parse(json.loads(BODY))
    again = whoop.parse(json.loads(BODY))
    later = whoop.parse({**json.loads(BODY), "trace_id": "t-2"})
    assert note.key("1") == again.key("2") == "workout.updated:10235:t-1"
    assert later.key("1") != note.key("1")
    untraced = whoop.parse({**json.loads(BODY), "trace_id": None})
    assert untraced.key("1790000000000") == "workout.updated:10235:ts-1790000000000"


def test_whoop_notification_ids_are_integers_or_uuids() -> None:
    sleep_id = uuid.uuid4()
    note = whoop.parse({"user_id": "10129", "id": str(sleep_id).upper(), "type": "sleep.updated"})
    assert (note.user_id, note.object_id, note.kind) == ("10129", str(sleep_id), "sleep")
    assert note.fetchable
    assert not whoop.parse({"user_id": 1, "id": 2, "type": "recovery.deleted"}).fetchable
    assert not whoop.parse({"user_id": 1, "id": 2, "type": "body.updated"}).fetchable
    for bad in (
        {"user_id": 1, "id": "../../v1/user", "type": "sleep.updated"},
        {"user_id": 1, "id": True, "type": "sleep.updated"},
        {"user_id": "alice", "id": 2, "type": "sleep.updated"},
        {"user_id": 1, "id": 2, "type": "SLEEP"},
        ["not", "an", "object"],
    ):
        assert refusal(lambda bad=bad: whoop.parse(bad)).status == 400


def _get(api: VendorClient) -> Any:
    async def get(path: str) -> Any:
        return await api.get_json(path, "tok")

    return get


def _whoop_api(documents: dict[str, Any], calls: list[str]) -> VendorClient:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        assert request.headers["authorization"] == "Bearer tok"
        found = documents.get(request.url.path)
        return httpx.Response(200, json=found) if found else httpx.Response(404)

    return VendorClient(
        "WHOOP",
        "http://whoop.test/developer",
        timeout=1,
        retries=0,
        breaker=CircuitBreaker(threshold=3, reset_after=30),
        transport=httpx.MockTransport(handler),
    )


async def test_whoop_recovery_is_fetched_with_its_cycle_and_sleep() -> None:
    sleep_id = str(uuid.uuid4())
    recovery = {"cycle_id": 93845, "sleep_id": sleep_id, "score_state": "SCORED"}
    documents = {
        "/developer/v2/cycle/93845/recovery": recovery,
        "/developer/v2/cycle/93845": {"id": 93845},
        f"/developer/v2/activity/sleep/{sleep_id}": {"id": sleep_id, "cycle_id": 93845},
    }
    calls: list[str] = []
    api = _whoop_api(documents, calls)
    records = await whoop.fetch(_get(api), {"type": "recovery.updated", "id": "93845"})
    assert records == [{"id": 93845}, {"id": sleep_id, "cycle_id": 93845}, recovery]
    # A recovery named by its sleep's UUID: the cycle is found from the sleep.
    calls.clear()
    by_sleep = await whoop.fetch(_get(api), {"type": "recovery.updated", "id": sleep_id})
    assert by_sleep == records
    assert calls[0] == f"/developer/v2/activity/sleep/{sleep_id}"
    # A missing context record does not lose the recovery.
    del documents["/developer/v2/cycle/93845"]
    assert await whoop.fetch(_get(api), {"type": "recovery.updated", "id": "93845"}) == [
        {"id": sleep_id, "cycle_id": 93845},
        recovery,
    ]


async def test_whoop_sleep_workout_and_cycle_paths() -> None:
    calls: list[str] = []
    api = _whoop_api({}, calls)
    for kind, object_id, path in (
        ("sleep", "s-1", "/developer/v2/activity/sleep/s-1"),
        ("workout", "w-1", "/developer/v2/activity/workout/w-1"),
        ("cycle", "7", "/developer/v2/cycle/7"),
    ):
        with pytest.raises(VendorNotFoundError):
            await whoop.fetch(_get(api), {"type": f"{kind}.updated", "id": object_id})
        assert calls[-1] == path


# ------------------------------------------------------------------------- Oura

OURA_BODY = json.dumps(
    {
        "event_type": "update",
        "data_type": "daily_sleep",
        "object_id": "5d2b8f61-7c3e",
        "user_id": "7XKQ2MZP4R",
        "event_time": "2026-01-13T08:00:00+00:00",
    }
).encode()


def oura_headers(body: bytes = OURA_BODY, secret: str = SECRET, at: float = NOW) -> dict[str, str]:
    stamp = str(int(at))
    return headers(x_oura_signature=oura.sign(secret, stamp, body), x_oura_timestamp=stamp)


def test_oura_signature_is_upper_hex_hmac_of_timestamp_and_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1790000000" + OURA_BODY, hashlib.sha256).hexdigest()
    assert oura.sign(SECRET, "1790000000", OURA_BODY) == expected.upper()
    assert oura.verify(SECRET, oura_headers(), OURA_BODY, now=NOW, window=300) == "1790000000"
    lower = {**oura_headers(), "x-oura-signature": expected}  # case does not matter
    assert oura.verify(SECRET, lower, OURA_BODY, now=NOW, window=300) == "1790000000"


@pytest.mark.parametrize("case", ["tampered", "wrong-secret", "stale", "future", "unsigned"])
def test_oura_bad_deliveries_are_refused_with_401(case: str) -> None:
    body, sent = OURA_BODY, oura_headers()
    if case == "tampered":
        body = OURA_BODY.replace(b"update", b"create")
    elif case == "wrong-secret":
        sent = oura_headers(secret="another")
    elif case == "stale":
        sent = oura_headers(at=NOW - 600)
    elif case == "future":
        sent = oura_headers(at=NOW + 600)
    else:
        sent = {}
    assert refusal(lambda: oura.verify(SECRET, sent, body, now=NOW, window=300)).status == 401


def test_oura_event_keys_and_fetchable_kinds() -> None:
    note = oura.parse(json.loads(OURA_BODY))
    assert note.key("1") == "daily_sleep:5d2b8f61-7c3e:update:2026-01-13T08:00:00+00:00"
    assert note.fetchable
    deleted = oura.parse({**json.loads(OURA_BODY), "event_type": "delete"})
    assert not deleted.fetchable and deleted.key("1") != note.key("1")
    assert not oura.parse({**json.loads(OURA_BODY), "data_type": "tag"}).fetchable
    untimed = oura.parse({**json.loads(OURA_BODY), "event_time": None})
    assert untimed.key("1790000000").endswith(":ts-1790000000")
    for field, value in (
        ("event_type", "upsert"),
        ("object_id", "../x"),
        ("data_type", "daily sleep"),
        ("user_id", None),
    ):
        bad = {**json.loads(OURA_BODY), field: value}
        assert refusal(lambda bad=bad: oura.parse(bad)).status == 400


# --------------------------------------------------------------- shared checks


def test_timestamps_in_seconds_or_milliseconds() -> None:
    assert check_timestamp(str(int(NOW)), "t", now=NOW, window=1) == NOW
    assert check_timestamp(str(int(NOW * 1000)), "t", now=NOW, window=1) == NOW
    for raw in (None, "", "abc", "-5", "nan", "inf"):
        assert refusal(lambda raw=raw: check_timestamp(raw, "t", now=NOW, window=300)).status == 401


def make_request(
    chunks: list[bytes], content_type: str = "application/json", length: int | None = None
) -> tuple[Request, list[int]]:
    """A request whose body arrives in `chunks`; the list counts chunks handed out."""
    sent = [0]
    raw_headers = [(b"content-type", content_type.encode())]
    if length is not None:
        raw_headers.append((b"content-length", str(length).encode()))

    async def receive() -> dict[str, Any]:
        if sent[0] >= len(chunks):
            return {"type": "http.disconnect"}
        sent[0] += 1
        return {
            "type": "http.request",
            "body": chunks[sent[0] - 1],
            "more_body": sent[0] < len(chunks),
        }

    scope = {"type": "http", "method": "POST", "path": "/", "headers": raw_headers}
    return Request(scope, receive), sent


async def test_body_within_the_limit_is_read_whole() -> None:
    request, _ = make_request([b"a" * 60, b"b" * 40])
    assert await read_body(request, limit=100) == b"a" * 60 + b"b" * 40


async def test_declared_oversized_body_is_refused_before_reading() -> None:
    request, sent = make_request([b"x" * 50] * 4, length=200)
    refused = await _refused(read_body(request, limit=100))
    assert refused.status == 413 and "200 bytes" in refused.message
    assert sent[0] == 0


async def test_streamed_oversized_body_is_refused_while_reading() -> None:
    request, sent = make_request([b"x" * 60] * 1000)
    refused = await _refused(read_body(request, limit=100))
    assert refused.status == 413
    assert sent[0] == 2  # stopped at the chunk that crossed the limit, not at the end


async def test_bad_content_length_is_refused() -> None:
    request, _ = make_request([b"{}"])
    request.scope["headers"].append((b"content-length", b"ten"))
    assert (await _refused(read_body(request, limit=100))).status == 400


async def _refused(awaitable: Any) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        await awaitable
    return caught.value


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("text/plain", False),
        ("", False),
        ("application/x-www-form-urlencoded", False),
    ],
)
def test_only_json_bodies_are_taken(content_type: str, ok: bool) -> None:
    request, _ = make_request([b"{}"], content_type=content_type)
    if ok:
        require_json(request)
    else:
        assert refusal(lambda: require_json(request)).status == 415


def test_push_event_key_is_the_idempotency_key_or_the_body_hash() -> None:
    request, _ = make_request([b"{}"])
    body = b'{"entries": []}'
    body_key = push._event_key(request, "u1", body)
    assert body_key == "u1:sha256:" + hashlib.sha256(body).hexdigest()
    assert push._event_key(request, "u2", body) != body_key
    request.scope["headers"].append((b"idempotency-key", b"batch-42"))
    assert push._event_key(request, "u1", b"{}") == "u1:key:batch-42"


def test_push_documents_are_checked_before_they_are_acknowledged() -> None:
    push._check_document("manual", "u1", {"entries": []})
    for bad in ("text", {"items": []}, 5):
        assert refusal(lambda bad=bad: push._check_document("manual", "u1", bad)).status == 400
    bad_apple = refusal(lambda: push._check_document("apple_health", "u1", {"data": 1}))
    assert bad_apple.status == 400 and "Health Auto Export" in bad_apple.message


# ------------------------------------------------------------------ retry policy

POLICY = RetryPolicy(max_attempts=4, base=2.0, cap=5.0)


def event(attempts: int) -> Event:
    return Event(1, "whoop", "k", "u", {}, attempts)


def test_retries_back_off_then_give_up() -> None:
    delays = [POLICY.after(event(n), "boom").delay for n in range(3)]
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8 and 4.0 <= delays[2] <= 6.0
    last = POLICY.after(event(3), "boom")
    assert last.status == "failed" and "after 4 attempts" in (last.error or "")


def test_outcomes_of_failures() -> None:
    deferred = POLICY.outcome_of(event(0), VendorUnavailableError("open", retry_after=7))
    assert (deferred.status, deferred.delay, deferred.counted) == ("pending", 7, False)
    assert POLICY.outcome_of(event(0), VendorNotFoundError("gone")).status == "skipped"
    assert POLICY.outcome_of(event(0), VendorDownError("500")).label == "retry"
    assert POLICY.outcome_of(event(0), VendorError("400", retryable=False)).status == "failed"
    assert POLICY.outcome_of(event(0), IngestRefusedError("bad")).status == "failed"
    assert POLICY.outcome_of(event(0), TimeoutError()).error == "the attempt timed out"
    assert POLICY.outcome_of(event(0), RuntimeError("x")).label == "retry"


# ------------------------------------------------------------------ vendor client


def _client(answers: list[int], retries: int = 2, threshold: int = 3) -> tuple[VendorClient, list]:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers[min(len(seen), len(answers) - 1)]
        seen.append(status)
        if status == 0:
            raise httpx.ConnectError("refused")
        return httpx.Response(status, json={"ok": True} if status == 200 else {})

    client = VendorClient(
        "WHOOP",
        "http://vendor.test",
        timeout=1,
        retries=retries,
        breaker=CircuitBreaker(threshold=threshold, reset_after=60),
        transport=httpx.MockTransport(handler),
    )
    return client, seen


async def test_transient_failures_are_retried_at_once() -> None:
    client, seen = _client([500, 0, 200])
    assert await client.get_json("/x", "tok") == {"ok": True}
    assert seen == [500, 0, 200]


async def test_vendor_down_opens_the_breaker() -> None:
    client, seen = _client([503], retries=1, threshold=2)
    for _ in range(2):
        with pytest.raises(VendorDownError) as caught:
            await client.get_json("/x", "tok")
        assert "tok" not in str(caught.value)
    calls = len(seen)
    with pytest.raises(VendorUnavailableError) as unavailable:
        await client.get_json("/x", "tok")
    assert len(seen) == calls  # not even tried
    assert 1 <= unavailable.value.retry_after <= 60


async def test_answers_of_a_working_vendor_do_not_open_the_breaker() -> None:
    client, seen = _client([401], threshold=1)
    for _ in range(3):
        with pytest.raises(VendorError) as caught:
            await client.get_json("/x", "tok")
        assert caught.value.retryable and "access token" in str(caught.value)
    assert seen == [401, 401, 401]
    client404, _ = _client([404], threshold=1)
    for _ in range(2):
        with pytest.raises(VendorNotFoundError):
            await client404.get_json("/x", "tok")


# ----------------------------------------------------------------- metrics, app


def test_reason_classes() -> None:
    cases = {
        "heart_rate: 900 bpm is outside the plausible range [20, 250]": "implausible",
        "this sleep belongs to WHOOP user 1, but this user is connected to WHOOP user 2": (
            "wrong_user"
        ),
        "unit 'furlong' is not bpm": "unit",
        "heart_rate: value 'x' is not a number": "not_a_number",
        "timestamp '2026' is not ISO 8601": "time",
        "something else entirely": "other",
    }
    assert {reason: observability.reason_class(reason) for reason in cases} == cases


def test_record_ingest_counts_by_device_outcome_and_reason() -> None:
    def value(name: str, **labels: str) -> float:
        return observability.REGISTRY.get_sample_value(name, labels) or 0.0

    before = value("auren_samples_ingested_total", device="oura", outcome="accepted")
    rejected = value("auren_samples_rejected_total", device="oura", reason="implausible")

    batch = NormalizedBatch(rejections=[Rejection("r1", "x: 1 is outside the plausible range")])
    observability.record_ingest("oura", WriteCounts(accepted=3, duplicates=0, updated=1), batch)
    assert value("auren_samples_ingested_total", device="oura", outcome="accepted") == before + 3
    assert value("auren_samples_rejected_total", device="oura", reason="implausible") == (
        rejected + 1
    )
    body, content_type = observability.render()
    assert b"auren_rollout_stage_percent" in body and content_type.startswith("text/plain")


async def test_counts_analysis_counts_runs_and_fallbacks() -> None:
    @observability.counts_analysis
    async def narrate(state: object) -> dict[str, Any]:
        return {"narrative_source": "deterministic", "fallback_reason": "the model failed: X"}

    fallbacks = observability.REGISTRY.get_sample_value(
        "auren_narrative_fallbacks_total", {"reason": "model_error"}
    )
    assert (await narrate(None))["narrative_source"] == "deterministic"
    assert (
        observability.REGISTRY.get_sample_value(
            "auren_narrative_fallbacks_total", {"reason": "model_error"}
        )
        == (fallbacks or 0) + 1
    )


def test_app_routes() -> None:
    routes = {(route.path, method) for route in app.routes for method in route.methods or []}
    assert {
        ("/webhooks/whoop", "POST"),
        ("/webhooks/oura", "GET"),
        ("/webhooks/oura", "POST"),
        ("/webhooks/apple_health", "POST"),
        ("/webhooks/manual", "POST"),
        ("/health", "GET"),
        ("/metrics/auren", "GET"),
    } <= routes


# ------------------------------------------------------------------ batch processing


async def test_a_batch_fetches_each_object_once_and_ingests_in_one_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from auren_graphs.webhooks import processing

    runs: list[list[Any]] = []

    async def fake_ingest(user_id: str, device: str, payload: Any, **_: Any) -> Any:
        runs.append(payload)
        return {"accepted": len(payload)}

    monkeypatch.setattr(processing, "ingest", fake_ingest)
    fetched: list[str] = []

    async def fetch(event: Event) -> list[Any]:
        fetched.append(event.payload["id"])
        if event.payload["id"] == "gone":
            raise VendorNotFoundError("not found")
        return [{"id": event.payload["id"]}, {"id": "shared-sleep"}]

    events = [
        Event(n, "whoop", f"k{n}", "u", {"id": object_id}, 0)
        for n, object_id in enumerate(["a", "b", "a", "gone"])
    ]
    results = await processing.fetch_and_ingest(
        "whoop",
        events,
        fetch,
        lambda event: event.payload["id"],
    )
    assert sorted(fetched) == ["a", "b", "gone"]  # the second "a" shares the first's fetch
    assert runs == [[{"id": "a"}, {"id": "shared-sleep"}, {"id": "b"}]]
    assert [type(results[n]).__name__ for n in range(4)] == [
        "Outcome",
        "Outcome",
        "Outcome",
        "VendorNotFoundError",
    ]
