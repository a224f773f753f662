"""Identity attacks: two users and a service against a server with auth required.

Bob (a user with a valid token) tries to read or change Alice's data through every door
the server has: run inputs, `command`, state updates, crons, thread ids, metadata,
operator graphs and records, the dev server's own routes, forged tokens, AUREN's routes,
the store; an anonymous caller tries the unauthenticated routes. Every attempt is then
judged by what it did, not by what it answered:

- **leaked**: an answer carried one of Alice's canaries (her values, her thread ids, her
  vendor token);
- **stored**: Alice's data changed (her rows, connections, findings, threads, crons),
  compared with a snapshot taken before;
- **5xx**: the server failed instead of refusing;
- otherwise **denied** (refused, or it only touched Bob's own data).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError

from auren_contract import USER_HEADER, derive_thread_id
from reliability.common import WEBHOOK_SECRETS, AttackRow
from tests.support.config import SERVICE_KEY
from tests.support.config import user_token as token
from tests.support.server import DevServer
from tests.support.users import sdk_as, user_thread

ALICE, BOB, CAROL = "user-alice", "user-bob", "user-carol"
CANARY_VALUE = 47.313
CANARY_TOKEN_PREFIX = "canary-vendor-token-"
INGEST_TOKEN_PREFIX = "canary-ingest-token-"
CANARY_TOKEN = CANARY_TOKEN_PREFIX + uuid.uuid4().hex
CANARY_INGEST_TOKEN = INGEST_TOKEN_PREFIX + uuid.uuid4().hex
#: The body deadline of the server under attack (AUREN_REQUEST_BODY_SECONDS).
BODY_SECONDS = 5
DAY = "2026-11-02"


def canary_entries(value: float, entry: str) -> dict[str, Any]:
    return {
        "entries": [
            {"entry_id": entry, "metric": "resting_heart_rate", "value": value, "unit": "bpm",
             "date": DAY},
        ]
    }  # fmt: skip


@dataclass
class Scene:
    """The server, the actors' clients, and Alice's secrets to watch for."""

    server: DevServer
    http: httpx.AsyncClient
    alice_threads: dict[str, str] = field(default_factory=dict)
    carol_ingestion: str = ""
    alice_cron: str = ""
    rollout_thread: str = ""

    @property
    def url(self) -> str:
        return self.server.url

    def bob(self) -> Any:
        return get_client(url=self.url, api_key=None, headers=self.bearer(BOB))

    @staticmethod
    def bearer(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(user)}"}

    def canaries(self, *, knows_threads: bool = False) -> list[str]:
        secrets = [str(CANARY_VALUE), CANARY_TOKEN, CANARY_INGEST_TOKEN]
        return secrets if knows_threads else [*secrets, *self.alice_threads.values()]


async def _snapshot(scene: Scene) -> str:
    """Everything about Alice an attack could change, as one comparable text."""
    as_alice = {"x-api-key": SERVICE_KEY, USER_HEADER: ALICE}
    parts = []
    for path in (
        f"/users/{ALICE}/metrics/resting_heart_rate?start=2026-10-01&end=2026-12-31",
        f"/users/{ALICE}/devices",
        f"/users/{ALICE}/findings?limit=500",
    ):
        answer = await scene.http.get(path, headers=as_alice)
        parts.append(answer.text)
    sdk = get_client(url=scene.url, api_key=SERVICE_KEY)
    for graph, thread in sorted(scene.alice_threads.items()):
        try:
            found = await sdk.threads.get(thread)
            state = await sdk.threads.get_state(thread)
        except NotFoundError:
            parts.append(f"{graph} thread gone")  # deleted: a change like any other
            continue
        parts.append(json.dumps([graph, found["metadata"], state["values"]], sort_keys=True))
    crons = await sdk.crons.search(thread_id=scene.alice_threads["analysis"])
    parts.append(json.dumps(sorted(str(c["cron_id"]) for c in crons)))
    return "\n".join(parts)


async def setup(server: DevServer) -> Scene:
    """Alice with data, a vendor connection and a cron; Bob with his own; Carol nothing."""
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    scene = Scene(server, http)
    service_as_alice = {"x-api-key": SERVICE_KEY, USER_HEADER: ALICE}
    connect = await http.put(
        f"/users/{ALICE}/devices/whoop",
        json={"vendor_user_id": "4242", "access_token": CANARY_TOKEN},
        headers=service_as_alice,
    )
    connect.raise_for_status()
    push = await http.put(
        f"/users/{ALICE}/devices/manual",
        json={"ingest_token": CANARY_INGEST_TOKEN},
        headers=service_as_alice,
    )
    push.raise_for_status()
    for name in ("ingestion", "analysis"):
        scene.alice_threads[name] = await user_thread(server.url, ALICE, name, SERVICE_KEY)
    alice = sdk_as(server.url, ALICE, SERVICE_KEY)
    done = await alice.runs.wait(
        scene.alice_threads["ingestion"],
        "ingestion",
        input={"device": "manual", "payload": canary_entries(CANARY_VALUE, "alice-canary"),
               "uploads": []},
    )  # fmt: skip
    assert done["report"]["accepted"] == 1, done
    await alice.runs.wait(scene.alice_threads["analysis"], "analysis", input={"as_of": DAY})
    cron = await alice.crons.create_for_thread(
        scene.alice_threads["analysis"], "analysis", schedule="0 3 * * *", input={"as_of": DAY}
    )
    scene.alice_cron = str(cron["cron_id"])
    bob = sdk_as(server.url, BOB, SERVICE_KEY)
    bob_thread = await user_thread(server.url, BOB, "ingestion", SERVICE_KEY)
    await bob.runs.wait(
        bob_thread,
        "ingestion",
        input={"device": "manual", "payload": canary_entries(61.0, "bob-own"), "uploads": []},
    )
    scene.carol_ingestion = derive_thread_id(await _thread_key(server), CAROL, "ingestion")
    return scene


async def _thread_key(server: DevServer) -> bytes:
    """The server's thread-id key, read from its database: what an attacker who learned
    an id somehow would know (to show that knowing it is not enough)."""
    uri = server.env["AUREN_POSTGRES_URI"]
    async with await psycopg.AsyncConnection.connect(uri) as conn:
        cursor = await conn.execute("SELECT value FROM auren_keys WHERE name = 'thread_id'")
        row = await cursor.fetchone()
    assert row is not None, "the server has not made its thread key"
    return bytes(row[0])


# ------------------------------------------------------------------------ judging

Attempt = Callable[[Scene], Awaitable[Any]]


class BreachError(Exception):
    """An attempt did what it must not (a write the server should have refused)."""


class ServerFaultError(Exception):
    """The server failed instead of answering (an empty 200, a reset connection)."""


@dataclass(frozen=True)
class Attack:
    kind: str
    name: str
    attempt: Attempt
    #: The attempt is handed Alice's thread ids: their echo in an answer is no leak.
    knows_threads: bool = False


def _text(answer: Any) -> str:
    if isinstance(answer, httpx.Response):
        return answer.text
    try:
        return json.dumps(answer, default=str)
    except TypeError:
        return str(answer)


def _status(answer: Any, error: BaseException | None) -> int | None:
    if isinstance(answer, httpx.Response):
        return answer.status_code
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


async def judge(scene: Scene, attack: Attack, row: AttackRow) -> None:
    """Run one attack and count what it did."""
    before = await _snapshot(scene)
    answer: Any = None
    error: BaseException | None = None
    try:
        answer = await asyncio.wait_for(attack.attempt(scene), timeout=60)
    except TimeoutError:
        error = TimeoutError("no answer in 60 s")
    except Exception as exc:  # refusals arrive as SDK or httpx errors
        error = exc
    row.attempts += 1
    status = _status(answer, error)
    text = _text(answer) + (f" {error}" if error else "")
    after = await _snapshot(scene)
    what = "denied"
    if isinstance(error, BreachError):
        row.stored += 1
        what = f"STORED ({error})"
    elif isinstance(error, ServerFaultError | httpx.RemoteProtocolError):
        row.status_5xx += 1
        what = f"server fault ({error})"
    elif status is not None and status >= 500:
        row.status_5xx += 1
        what = f"5xx ({status})"
    elif any(canary in text for canary in scene.canaries(knows_threads=attack.knows_threads)):
        row.leaked += 1
        what = "LEAKED"
    elif after != before:
        row.stored += 1
        what = "STORED"
    elif isinstance(error, TimeoutError):
        row.status_5xx += 1
        what = "hang"
    else:
        row.denied += 1
    if what != "denied":
        row.notes.append(f"{attack.kind}/{attack.name}: {what}")


def identity_server_env() -> dict[str, str]:
    """How the server under attack runs: auth required, webhooks configured (so their
    routes read bodies), a short body deadline."""
    return {
        "AUREN_AUTH_MODE": "required",
        "AUREN_REQUEST_BODY_SECONDS": str(BODY_SECONDS),
        **WEBHOOK_SECRETS,
    }


async def identity_attacks(server: DevServer) -> list[AttackRow]:
    """Every attack of `identity_attacks.ATTACKS`, one row per class."""
    from reliability.identity_attacks import ATTACKS

    scene = await setup(server)
    rows: dict[str, AttackRow] = {}
    try:
        for attack in ATTACKS:
            row = rows.setdefault(attack.kind, AttackRow(attack.kind))
            await judge(scene, attack, row)
    finally:
        await scene.http.aclose()
    return list(rows.values())
