"""Hostile input over HTTP: mutated and random bodies per device, and known attacks.

Bodies go through the client's `ingest` (every device) and, for manual entries, the push
route `/webhooks/manual` with a valid ingest token, so only the body is hostile. Counted:
responses of 5xx (must be 0) and, afterwards, stored values of the fuzz users outside
their metric's bounds (must be 0).
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import secrets
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from auren_client import DEVICES, AurenClient, AurenError, InvalidPayloadError, ServerError
from reliability.common import Row, garbage, healthy, stored_items
from tests.support import payloads
from tests.support.config import SERVICE_KEY
from tests.support.server import DevServer, throwaway_postgres

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
WILD: list[Any] = [
    None, True, False, 0, -1, -1e308, 1e308, 2**63, -(2**70), 1e-320, 86_401, 10**9,
    "", "NaN", "Infinity", "1e999", "2026-13-45", "2026-11-02T07:30:00", "\u0000",
    "\U0001f600" * 50, "SCORED", "h", "kJ", [], {}, [1, [2, [3]]], {"a": {"b": None}},
]  # fmt: skip


def seeds(device: str) -> list[Any]:
    folder = {"apple_health": "apple"}.get(device, device)
    docs: list[Any] = [
        json.loads(p.read_text()) for p in sorted((FIXTURES / folder).glob("*.json"))
    ]
    if device == "manual":
        docs.append(payloads.manual_entries(3))
    if device == "apple_health":
        docs.append(payloads.apple_export(5))
    return docs


def mutate(rng: random.Random, document: Any) -> Any:
    """A mutated copy: leaves replaced by wild values, keys dropped or added."""
    rate = rng.choice([0.05, 0.2, 0.5])

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if rng.random() > rate / 3}
            if rng.random() < rate / 3:
                out[rng.choice(["", "score", "records", "data", "entries", "é"])] = rng.choice(WILD)
            return out
        if isinstance(node, list):
            return [walk(x) for x in node]
        return copy.deepcopy(rng.choice(WILD)) if rng.random() < rate else node

    return walk(document)


def hostile_body(rng: random.Random, device: str) -> bytes:
    """One body: a mutated fixture, a byte-mutated fixture, or random bytes."""
    seed = rng.choice(seeds(device))
    choice = rng.random()
    if isinstance(seed, str):  # export.xml
        raw = seed.encode()
    else:
        raw = json.dumps(mutate(rng, seed) if choice < 0.7 else seed).encode()
    if choice >= 0.7:
        data = bytearray(raw)
        for _ in range(rng.randint(1, 20)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        raw = bytes(data)
    if choice >= 0.95:
        raw = rng.randbytes(rng.randint(0, 300))
    return raw


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.status_5xx = 0
        self.hangs = 0
        self.statuses: dict[str, int] = {}

    def note(self, what: str) -> None:
        self.statuses[what] = self.statuses.get(what, 0) + 1


async def through_client(auren: AurenClient, user: str, device: str, body: bytes, t: Tally) -> None:
    t.sent += 1
    try:
        await auren.ingest(user, device, body, timeout=60)
        t.note("report")
    except InvalidPayloadError:
        t.note("InvalidPayloadError")
    except ServerError as exc:
        t.note(f"ServerError {exc.status_code}")
        t.status_5xx += 1
    except TimeoutError:
        t.hangs += 1
    except AurenError as exc:
        t.note(type(exc).__name__)


async def through_push(
    http: httpx.AsyncClient, url: str, user: str, token: str, body: bytes, t: Tally
) -> None:
    t.sent += 1
    try:
        r = await http.post(
            f"{url}/webhooks/manual",
            content=body,
            headers={
                "authorization": f"Bearer {token}",
                "x-auren-user": user,
                "content-type": "application/json",
            },
        )
    except httpx.TimeoutException:
        t.hangs += 1
        return
    t.note(f"push {r.status_code}")
    if r.status_code >= 500:
        t.status_5xx += 1


# Hostile bodies are small: more runs at once keep both cores busy (about 6/s, not 3.6).
FUZZ_JOBS = 16


async def fuzz(
    server: DevServer, per_device: int, *, seed: int = 0, concurrency: int = 2 * FUZZ_JOBS
) -> Row:
    """`per_device` hostile bodies for each device through the client, and as many
    manual bodies through the push route; then every stored value is checked."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    row = Row("fuzzed bodies (client + push)")
    tally = Tally()
    began = time.monotonic()
    users = {d: f"rel-fuzz-{run}-{d.replace('_', '-')}" for d in DEVICES}
    push_user = f"rel-fuzz-{run}-push"
    push_token = "tok-" + secrets.token_urlsafe(24)
    limit = asyncio.Semaphore(concurrency)
    async with (
        AurenClient(url=server.url, api_key=SERVICE_KEY, retries=0, timeout=60) as auren,
        httpx.AsyncClient(timeout=60) as http,
    ):
        await auren.connect_device(users["whoop"], "whoop", "10129")
        await auren.connect_device(push_user, "manual", ingest_token=push_token)

        async def one(coro: Any) -> None:
            async with limit:
                await coro

        jobs = [
            one(through_client(auren, users[d], d, hostile_body(rng, d), tally))
            for d in DEVICES
            for _ in range(per_device)
        ]
        jobs += [
            one(
                through_push(
                    http, server.url, push_user, push_token, hostile_body(rng, "manual"), tally
                )
            )
            for _ in range(per_device)
        ]
        await asyncio.gather(*jobs)
    stored_bad: list[str] = []
    for user in [*users.values(), push_user]:
        stored_bad += garbage(await stored_items(server.url, user))
    row.trials = tally.sent
    row.status_5xx = tally.status_5xx
    row.hangs = tally.hangs
    row.garbage = len(stored_bad)
    row.notes.append(f"{per_device}/device in {time.monotonic() - began:.0f} s")
    row.notes.append(", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))
    if stored_bad:
        row.notes.append(f"garbage e.g. {stored_bad[:5]}")
    return row


async def fuzz_in_process(per_device: int, *, seed: int = 1) -> Row:
    """`per_device` hostile bodies per device through the ingestion graph itself, on a
    throwaway Postgres with the server's own saver and store: no HTTP and no run queue,
    so tens of thousands fit in minutes. A body the client refuses (not JSON, say) is
    counted and not sent; an exception out of the graph is a crash (counted as 5xx)."""
    from auren_graphs.ingestion.graph import builder
    from auren_graphs.persistence import AurenPostgresSaver, AurenPostgresStore
    from auren_graphs.persistence.pool import make_pool

    rng = random.Random(seed)
    row = Row("fuzzed bodies (graph in-process, Postgres)")
    outcomes: Counter[str] = Counter()
    began = time.monotonic()
    with throwaway_postgres() as uri:
        async with make_pool(uri, max_size=2, timeout=10, prepare_threshold=0) as pool:
            saver, store = AurenPostgresSaver(pool), AurenPostgresStore(pool)
            await saver.setup()
            await store.setup()
            graph = builder.compile(checkpointer=saver, store=store)
            for device in DEVICES:
                for _ in range(per_device):
                    body = hostile_body(rng, device)
                    outcomes[await _ingest_in_process(graph, f"fuzz-{device}", device, body)] += 1
                row.garbage += len(await _garbage_in(store, f"fuzz-{device}"))
    row.trials = sum(outcomes.values())
    row.status_5xx = sum(n for outcome, n in outcomes.items() if outcome.startswith("CRASH"))
    row.notes.append(f"{per_device}/device in {time.monotonic() - began:.0f} s")
    row.notes.append(", ".join(f"{k}: {v}" for k, v in outcomes.most_common()))
    return row


async def _ingest_in_process(graph: Any, user: str, device: str, body: bytes) -> str:
    """What became of one body: refused by the client, a run error kind, a report, a crash."""
    from auren_client._ingest import as_json_payload

    try:
        document = as_json_payload(body)
    except AurenError as exc:
        return f"client {type(exc).__name__}"
    inputs = {"user_id": user, "device": device, "payload": document}
    try:
        out = await graph.ainvoke(inputs, {"configurable": {"thread_id": uuid.uuid4().hex}})
    except Exception as exc:  # any exception escaping the graph is the finding
        return f"CRASH {type(exc).__name__}: {str(exc)[:80]}"
    error = out.get("error")
    return str(error["kind"]) if error else "report"


async def _garbage_in(store: Any, user: str) -> list[str]:
    items = []
    for namespace in await store.alist_namespaces(prefix=("users", user)):
        items += await store.asearch(namespace, limit=10_000)
    return garbage([{"namespace": list(i.namespace), "value": i.value} for i in items])


def _entry_with(value: bytes) -> bytes:
    return (
        b'{"entries":[{"entry_id":"n","metric":"heart_rate","value":'
        + value
        + b',"unit":"bpm","measured_at":"2026-11-02T07:30:00Z"}]}'
    )


def _absurd() -> bytes:
    values = [1e308, -5, 10**30, 251, 19]
    entries = [
        {"entry_id": f"x{n}", "metric": "heart_rate", "value": v, "unit": "bpm",
         "measured_at": "2026-11-02T07:30:00Z"}
        for n, v in enumerate(values)
    ]  # fmt: skip
    return json.dumps({"entries": entries}).encode()


def attack_bodies() -> list[tuple[str, str, bytes]]:
    """(name, device, body) of the known attacks."""
    nested = b"[" * 100_000 + b"]" * 100_000
    return [
        ("billion laughs", "apple_health", payloads.BILLION_LAUGHS.encode()),
        ("XXE", "apple_health", payloads.EXTERNAL_ENTITY.encode()),
        (
            "external DTD",
            "apple_health",
            b'<?xml version="1.0"?><!DOCTYPE HealthData SYSTEM "http://127.0.0.1:9/x.dtd">'
            b'<HealthData locale="en_US"></HealthData>',
        ),
        ("nested JSON 10^5", "manual", nested),
        ("nested object 10^5", "oura", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        ("invalid UTF-8", "manual", b'{"entries": [{"entry_id": "\xff\xfe", "metric": "\xc3"}]}'),
        ("NaN literal", "manual", _entry_with(b"NaN")),
        ("Infinity literal", "manual", _entry_with(b"Infinity")),
        ("absurd values", "manual", b"".join(_entry_with(v) for v in (b"1e308",))),
        ("absurd values (many)", "manual", _absurd()),
    ]  # fmt: skip


async def attacks(server: DevServer, *, huge_mb: int = 50) -> Row:
    """Each attack: a clear refusal (InvalidPayloadError or 4xx), nothing stored, /ok after."""
    row = Row("attacks (XML entities, nesting, huge, UTF-8, NaN)")
    run = uuid.uuid4().hex[:8]
    outcomes: list[str] = []
    async with AurenClient(url=server.url, api_key=SERVICE_KEY, retries=0, timeout=120) as auren:
        cases = attack_bodies()
        huge = b'{"entries": [{"entry_id": "h", "note": "' + b"x" * (huge_mb * 2**20) + b'"}]}'
        cases.append((f"huge JSON {huge_mb} MB", "manual", huge))
        for name, device, body in cases:
            user = f"rel-atk-{run}-{len(outcomes)}"
            row.trials += 1
            began = time.monotonic()
            try:
                report = await auren.ingest(user, device, body, timeout=180)
                outcome = f"report accepted={report.accepted} rejected={report.rejected_count}"
            except InvalidPayloadError:
                outcome = "InvalidPayloadError"
            except ServerError as exc:
                outcome = f"ServerError {exc.status_code}"
                row.status_5xx += 1
            except TimeoutError:
                outcome = "timeout"
                row.hangs += 1
            except AurenError as exc:
                outcome = type(exc).__name__
            stored = await stored_items(server.url, user)
            if stored:  # an attack stores nothing, even values within bounds
                row.garbage += sum(len((i.get("value") or {}).get("rows", [])) for i in stored)
                outcome += f", STORED {len(stored)} items"
            outcomes.append(f"{name}: {outcome} ({time.monotonic() - began:.1f} s)")
            if not healthy(server):
                row.hangs += 1
                outcomes.append(f"{name}: /ok NOT healthy after")
    row.notes.extend(outcomes)
    return row
