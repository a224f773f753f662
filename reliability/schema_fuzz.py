"""Schema-driven fuzzing of AUREN's own routes with Schemathesis.

Schemathesis generates requests from `auren_graphs.http.openapi.SPEC` (the description
the server serves at `/openapi/auren.json`). Each generated webhook is sent twice: as
generated (its signature headers are noise: must be refused) and signed with the real
secret, so the body itself reaches the parser. Pushes carry a valid ingest token of a
connected user, so the body is what is tested. Counted: answers of 5xx (503 only with a
reason naming Postgres, which is never down here, so any 5xx counts), requests that hang,
and values outside their bounds stored for the push user afterwards.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from auren_client import AurenClient
from auren_graphs.http.openapi import SPEC
from reliability.common import (
    WEBHOOK_SECRETS,
    Row,
    garbage,
    healthy,
    reliability_server,
    signature_headers,
    stored_items,
)
from tests.conftest import SERVICE_KEY
from tests.support.server import DevServer

TIMEOUT = 30.0
SIGNED = {"/webhooks/whoop": "whoop", "/webhooks/oura": "oura"}


def _header_value(value: object) -> bytes:
    # What a client can put on the wire: UTF-8 bytes without control characters.
    raw = str(value).encode("utf-8", "replace")
    return bytes(b for b in raw if b >= 0x20 and b != 0x7F)


class Sender:
    """Sends generated cases to the server and tallies the answers."""

    def __init__(self, url: str, push_user: str, push_token: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=TIMEOUT)
        self.push_headers = {"authorization": f"Bearer {push_token}", "x-auren-user": push_user}
        self.answers: Counter[str] = Counter()
        self.status_5xx = self.hangs = self.sent = 0

    def send(self, case: Any) -> None:
        body = json.dumps(case.body).encode() if case.method == "POST" else None
        headers = {k: _header_value(v) for k, v in (case.headers or {}).items()}
        if body is not None:
            headers["content-type"] = "application/json"
        self._one(case, body, headers)
        if case.path in SIGNED and body is not None:
            self._one(case, body, {**headers, **signature_headers(SIGNED[case.path], body)})
        elif case.path.startswith("/webhooks/") and case.path not in SIGNED:
            self._one(case, body, {**headers, **self.push_headers})

    def _one(self, case: Any, body: bytes | None, headers: dict[str, Any]) -> None:
        self.sent += 1
        try:
            answer = self.http.request(
                case.method, case.path, content=body, headers=headers, params=case.query or None
            )
        except httpx.TimeoutException:
            self.hangs += 1
            return
        except httpx.LocalProtocolError:  # a header our own client will not send
            self.answers["not sendable"] += 1
            return
        self.answers[f"{case.method} {case.path} {answer.status_code}"] += 1
        if answer.status_code >= 500:
            self.status_5xx += 1


def run_schemathesis(sender: Sender, examples: int) -> None:
    """`examples` generated cases per operation of the spec, sent as they come."""
    for result in schemathesis.openapi.from_dict(SPEC).get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def each(case: Any) -> None:
            sender.send(case)

        each()


async def schema_fuzz(*, examples: int) -> Row:
    """A server with webhooks configured; Schemathesis over every custom route."""
    row = Row("schema-driven fuzzing of the custom routes (Schemathesis)")
    env = {
        **WEBHOOK_SECRETS,
        "AUREN_OURA_VERIFICATION_TOKEN": "schema-" + secrets.token_hex(8),
    }
    with reliability_server(**env) as server:
        await _fuzz(server, examples, row)
    return row


async def _fuzz(server: DevServer, examples: int, row: Row) -> None:
    user, token = f"rel-schema-{uuid.uuid4().hex[:8]}", "tok-" + secrets.token_urlsafe(24)
    async with AurenClient(url=server.url, api_key=SERVICE_KEY) as auren:
        await auren.connect_device(user, "manual", ingest_token=token)
        await auren.connect_device(user, "apple_health", ingest_token=token)
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        served = (await http.get(f"{server.url}/openapi/auren.json")).json()
    assert served == json.loads(json.dumps(SPEC)), "the served description is not SPEC"
    sender = Sender(server.url, user, token)
    began = time.monotonic()
    await asyncio.to_thread(run_schemathesis, sender, examples)
    await asyncio.sleep(3.0)  # accepted pushes are ingested by the worker
    row.trials = sender.sent
    row.status_5xx, row.hangs = sender.status_5xx, sender.hangs
    row.garbage = len(garbage(await stored_items(server.url, user)))
    if not healthy(server):
        row.hangs += 1
        row.notes.append("/ok NOT healthy after")
    row.notes.append(
        f"{examples} cases per operation in {time.monotonic() - began:.0f} s; answers: "
        + ", ".join(f"{answer} x{n}" for answer, n in sorted(sender.answers.items()))
    )
