"""Attacks of classes 5-8 of `reliability.identity_attacks` (the dev server's own routes,
tokens, secrets at rest, unauthenticated resource use) and on AUREN's own routes and the
store: everything that is about HTTP more than about graphs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import httpx
import jwt

from reliability.identity import (
    ALICE,
    BOB,
    BODY_SECONDS,
    CANARY_TOKEN_PREFIX,
    DAY,
    INGEST_TOKEN_PREFIX,
    Attack,
    BreachError,
    Scene,
    ServerFaultError,
    token,
)
from tests.support.config import JWT_SECRET, SERVICE_KEY

# -- 5. the dev server's own routes --------------------------------------------------------


def _anonymous(method: str, path: str) -> Attack:
    async def attempt(scene: Scene) -> Any:
        thread = scene.alice_threads["ingestion"]
        headers = {"origin": "https://evil.example"}
        return await scene.http.request(method, path.format(thread=thread), headers=headers)

    return Attack("5 internal routes", f"{method} {path}", attempt, knows_threads=True)


INTERNAL = [
    _anonymous("GET", "/internal/debug/thread/{thread}"),
    _anonymous("POST", "/internal/truncate"),
    _anonymous("GET", "/deploy"),
    _anonymous("POST", "/deploy"),
    _anonymous("GET", "/deploy/x/stream"),
]


# -- 6. user ids and tokens ------------------------------------------------------------------


def _with_token(name: str, make: Any, path: str = "/threads/search") -> Attack:
    async def attempt(scene: Scene) -> Any:
        headers = {"Authorization": f"Bearer {make()}"}
        return await scene.http.post(path, json={"limit": 100}, headers=headers)

    return Attack("6 tokens", name, attempt)


def _none_alg() -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = json.dumps({"sub": ALICE, "exp": int(time.time()) + 60}).encode()
    return f"{head}.{base64.urlsafe_b64encode(body).rstrip(b'=').decode()}."


TOKENS = [
    _with_token("sub *", lambda: token("*")),
    _with_token("sub empty", lambda: token("")),
    _with_token("sub blank", lambda: token("   ")),
    _with_token("sub with a dot", lambda: token("user.alice")),
    _with_token("sub a service", lambda: token("service:0")),
    _with_token("sub a number", lambda: token(12345)),
    _with_token("exp a string", lambda: jwt.encode(
        {"sub": BOB, "exp": str(int(time.time()) + 60)}, JWT_SECRET, algorithm="HS256")),
    _with_token("60 years", lambda: token(BOB, ttl=60 * 365 * 86400)),
    _with_token("200 KB", lambda: token(BOB, pad="x" * 200_000)),
    _with_token("alg none", _none_alg),
    _with_token("wrong secret", lambda: token(ALICE, secret="guessed-" + "x" * 32)),
    _with_token("expired", lambda: token(ALICE, ttl=-120)),
    _with_token("sub * on store", lambda: token("*"), "/store/namespaces"),
]  # fmt: skip


async def user_token_names_another_user(scene: Scene) -> Any:
    headers = {**scene.bearer(BOB), "X-Auren-User": ALICE}
    return await scene.http.get(f"/users/{ALICE}/devices", headers=headers)


async def service_names_a_wildcard(scene: Scene) -> Any:
    headers = {"x-api-key": SERVICE_KEY, "X-Auren-User": "*"}
    return await scene.http.post("/store/namespaces", json={}, headers=headers)


# -- 7. secrets at rest --------------------------------------------------------------------


async def read_my_connection_tokens(scene: Scene) -> Any:
    # Alice's own view of her devices: it must not carry her tokens back either.
    return await scene.http.get(f"/users/{ALICE}/devices", headers=scene.bearer(ALICE))


async def tokens_in_the_database(scene: Scene) -> Any:
    """Every text and JSON column of every table, for the tokens in clear."""
    import psycopg

    found: list[str] = []
    async with await psycopg.AsyncConnection.connect(
        scene.server.env["AUREN_POSTGRES_URI"]
    ) as conn:
        tables = await (
            await conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
        ).fetchall()
        for schema, table in tables:
            query = f'SELECT count(*) FROM "{schema}"."{table}" AS t WHERE t::text LIKE %s'
            for secret in (CANARY_TOKEN_PREFIX, INGEST_TOKEN_PREFIX):
                (count,) = await (await conn.execute(query, [f"%{secret}%"])).fetchone()  # type: ignore[misc]
                if count:
                    found.append(f"{table}: {secret}")
    if found:
        raise BreachError(f"tokens stored in clear: {found}")
    return {"tables": len(tables)}


# -- 8. unauthenticated resource use ------------------------------------------------------------


async def slow_bodies(scene: Scene) -> Any:
    """64 senders of 1 MiB bodies at a trickle: each is cut off at the body deadline."""

    async def trickle() -> int:
        async def body() -> Any:
            for _ in range(64):
                yield b"x" * 16_384
                await asyncio.sleep(1.0)

        async with httpx.AsyncClient(base_url=scene.url, timeout=60) as http:
            try:
                answer = await http.post(
                    "/webhooks/whoop", content=body(),
                    headers={"content-type": "application/json", "content-length": str(1 << 20)},
                )  # fmt: skip
            except httpx.HTTPError:
                return 0  # cut off mid-body: what a deadline does
            return answer.status_code

    began = time.monotonic()
    statuses = await asyncio.gather(*(trickle() for _ in range(64)))
    held = time.monotonic() - began
    if held > BODY_SECONDS + 10:
        raise ServerFaultError(f"slow bodies were held {held:.0f} s (deadline {BODY_SECONDS} s)")
    if any(code not in (0, 408, 400, 401, 413) for code in statuses):
        raise ServerFaultError(f"slow bodies answered {sorted(set(statuses))}")
    return {"held_seconds": round(held, 1)}


async def oversized_headers(scene: Scene) -> Any:
    return await scene.http.get("/health", headers={"x-filler": "y" * 60_000})


# -- AUREN's own routes and the store, as Bob, on Alice -------------------------------------------


def _route(method: str, path: str, body: Any = None) -> Attack:
    async def attempt(scene: Scene) -> Any:
        answer = await scene.http.request(
            method, path.format(alice=ALICE), json=body, headers=scene.bearer(BOB)
        )
        if answer.status_code < 400:  # served: even an answer without data is a breach
            raise BreachError(f"{answer.status_code} to Bob on {path}")
        return answer

    return Attack("routes", f"{method} {path.split('/', 3)[-1]}", attempt)


ROUTES = [
    _route("GET", "/users/{alice}/metrics/resting_heart_rate?start=2026-10-01&end=2026-12-31"),
    _route("GET", "/users/{alice}/devices"),
    _route("PUT", "/users/{alice}/devices/whoop", {"vendor_user_id": "1"}),
    _route("PUT", "/users/{alice}/devices/manual", {"ingest_token": "x" * 32}),
    _route("PUT", "/users/{alice}/threads/ingestion"),
    _route("GET", "/users/{alice}/findings"),
    _route("POST", "/users/{alice}/feedback", {"run_id": "x", "score": 0}),
    _route("GET", "/users/{alice}/report"),
    _route("GET", "/users/{alice}/export"),
    _route("DELETE", "/users/{alice}/devices/manual"),
    _route("DELETE", "/users/{alice}"),
    _route("GET", "/connect/whoop?user={alice}"),
    # Operators' routes: a user may neither sync, switch, nor steer a rollout.
    _route("GET", "/ops/assistants"),
    _route("POST", "/ops/assistants/analysis-standard/switch", {"version": 1}),
    _route("POST", "/ops/rollouts/analysis-standard", {"candidate_version": 1}),
    _route("POST", "/ops/rollouts/analysis-standard/abort", {}),
    _route("GET", "/ops/oura/subscriptions"),
    _route("GET", "/ops/webhooks/failed"),
    _route("POST", "/ops/webhooks/requeue", {"ids": None}),
]


def _store(name: str, call: Any) -> Attack:
    async def attempt(scene: Scene) -> Any:
        return await call(scene.bob().store)

    return Attack("store", name, attempt)


STORE = [
    _store("search alice", lambda st: st.search_items(["users", ALICE])),
    _store("get alice item", lambda st: st.get_item(
        ["users", ALICE, "metrics", "resting_heart_rate"], DAY)),
    _store("put alice item", lambda st: st.put_item(
        ["users", ALICE, "metrics", "resting_heart_rate"], DAY, {"rows": []})),
    _store("delete alice item", lambda st: st.delete_item(
        ["users", ALICE, "metrics", "resting_heart_rate"], DAY)),
    _store("stage into alice's uploads", lambda st: st.put_item(["uploads", ALICE], "k", {})),
    _store("list every namespace", lambda st: st.list_namespaces()),
    _store("list users", lambda st: st.list_namespaces(prefix=["users"])),
    _store("search everything", lambda st: st.search_items([])),
]  # fmt: skip
