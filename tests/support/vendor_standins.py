"""Stand-ins of the WHOOP and Oura APIs on 127.0.0.1, for the webhook tests.

Each serves documents put into it by path (`put`), only to a request whose bearer token
belongs to the document's owner (a 401 for an unknown token, a 404 for someone else's or
a missing document, as the real APIs answer). Documents come from the vendors' schemas
(tests/fixtures/whoop, tests/fixtures/oura) with ids and owners rewritten per test.
`mode` switches behaviour: `ok`, `fail` (500), `hang` (never answers), `drop` (closes
the connection mid-answer). `calls` records each request's path and answer.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.server import free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(vendor: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / vendor / f"{name}.json").read_text())


@dataclass
class VendorStandIn:
    """`prefix` mimics the real base URL's path (WHOOP's API lives under /developer)."""

    prefix: str = ""
    port: int = field(default_factory=free_port)
    mode: str = "ok"
    tokens: dict[str, str] = field(default_factory=dict)
    documents: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    _server: uvicorn.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def set(self, mode: str) -> None:
        self.mode = mode

    def grant(self, token: str, vendor_user: str) -> None:
        """`token` is a valid access token of `vendor_user`."""
        self.tokens[token] = vendor_user

    def put(self, path: str, owner: str, document: dict[str, Any]) -> None:
        self.documents[path] = (owner, document)

    def calls_to(self, path: str) -> list[int]:
        return [status for called, status in self.calls if called == path]

    async def _handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        status, response = await self._answer(request, path)
        self.calls.append((path, status))
        return response

    async def _answer(self, request: Request, path: str) -> tuple[int, Response]:
        if self.mode == "fail":
            return 500, JSONResponse({"error": "stand-in failure"}, status_code=500)
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "drop":
            return 0, StreamingResponse(_dropping(), media_type="application/json")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = self.tokens.get(token) if scheme == "Bearer" else None
        if user is None:
            return 401, JSONResponse({"error": "invalid token"}, status_code=401)
        found = self.documents.get(path)
        if found is None or found[0] != user:
            return 404, JSONResponse({"error": "not found"}, status_code=404)
        return 200, JSONResponse(found[1])

    def start(self) -> None:
        routes = [Route(f"{self.prefix}/{{path:path}}", self._handle, methods=["GET"])]
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("vendor stand-in did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


async def _dropping() -> AsyncIterator[bytes]:
    yield b'{"records": ['
    raise ConnectionResetError("stand-in drops the connection")


# ------------------------------------------------------------------ documents per test


@dataclass
class WhoopNight:
    """One WHOOP night of a user: cycle, sleep and recovery, ids fresh for each test."""

    whoop_user: int
    cycle_id: int = field(default_factory=lambda: int(uuid.uuid4().int % 10**9))
    sleep_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    workout_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def cycle(self) -> dict[str, Any]:
        return {**fixture("whoop", "cycle"), "id": self.cycle_id, "user_id": self.whoop_user}

    def sleep(self) -> dict[str, Any]:
        return {
            **fixture("whoop", "sleep"),
            "id": self.sleep_id,
            "cycle_id": self.cycle_id,
            "user_id": self.whoop_user,
        }

    def recovery(self) -> dict[str, Any]:
        return {
            **fixture("whoop", "recovery"),
            "cycle_id": self.cycle_id,
            "sleep_id": self.sleep_id,
            "user_id": self.whoop_user,
        }

    def workout(self) -> dict[str, Any]:
        return {**fixture("whoop", "workout"), "id": self.workout_id, "user_id": self.whoop_user}

    def serve(self, standin: VendorStandIn) -> None:
        owner = str(self.whoop_user)
        standin.put(f"/v2/cycle/{self.cycle_id}", owner, self.cycle())
        standin.put(f"/v2/cycle/{self.cycle_id}/recovery", owner, self.recovery())
        standin.put(f"/v2/activity/sleep/{self.sleep_id}", owner, self.sleep())
        standin.put(f"/v2/activity/workout/{self.workout_id}", owner, self.workout())


def oura_document(name: str) -> dict[str, Any]:
    """An Oura fixture document with a fresh id."""
    document = copy.deepcopy(fixture("oura", name))
    document["id"] = str(uuid.uuid4())
    return document
