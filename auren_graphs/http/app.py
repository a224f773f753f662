"""The Starlette app the server mounts beside its own routes (langgraph.json `http.app`).

Wiring only. These routes are not behind the server's auth (`enable_custom_route_auth`
is off): vendor webhooks are authenticated by their signatures, pushes by the user's
ingest token, and health and metrics carry no user data.

| route | what |
|---|---|
| `POST /webhooks/whoop` | WHOOP notifications (`auren_graphs.webhooks.whoop`) |
| `GET, POST /webhooks/oura` | Oura's subscription challenge, notifications (`...oura`) |
| `POST /webhooks/apple_health`, `POST /webhooks/manual` | pushes (`...push`) |
| `GET /health` | each component, 200 or 503 (`auren_graphs.http.health`) |
| `GET /metrics/auren` | Prometheus metrics (`auren_graphs.observability`) |
| `GET /openapi/auren.json` | OpenAPI description of these routes (`auren_graphs.http.openapi`) |

Its exception handlers apply to the server's own routes as well: Postgres being down
answers 503 with a reason everywhere (`auren_graphs.http.errors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auren_graphs.http.errors import EXCEPTION_HANDLERS
from auren_graphs.http.health import health
from auren_graphs.http.metrics import metrics
from auren_graphs.http.openapi import SPEC
from auren_graphs.settings import get_settings
from auren_graphs.webhooks import oura, push, whoop
from auren_graphs.webhooks.runtime import STATE_KEY, WebhookRuntime, route

PROCESSORS = {
    "whoop": whoop.process,
    "oura": oura.process,
    "apple_health": push.process,
    "manual": push.process,
}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Runs inside the server's own lifespan: the in-process SDK client works from here.
    On the way out, events in flight get 10 s to finish; then they are cancelled, which
    rolls them back to pending for the next start (the whole stop stays under 30 s)."""
    runtime = await WebhookRuntime.start(get_settings(), PROCESSORS)
    setattr(app.state, STATE_KEY, runtime)
    if get_settings().openai_api_key:  # the model client, imported off the start-up path
        asyncio.get_running_loop().run_in_executor(None, import_module, "langchain_openai")
    try:
        yield
    finally:
        await runtime.stop(grace=10.0)


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(SPEC)


app = Starlette(
    routes=[
        Route("/webhooks/whoop", route("whoop", whoop.receive), methods=["POST"]),
        Route("/webhooks/oura", oura.challenge, methods=["GET"]),
        Route("/webhooks/oura", route("oura", oura.receive), methods=["POST"]),
        Route(
            "/webhooks/apple_health",
            route("apple_health", push.receiver("apple_health")),
            methods=["POST"],
        ),
        Route("/webhooks/manual", route("manual", push.receiver("manual")), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics/auren", metrics, methods=["GET"]),
        Route("/openapi/auren.json", openapi, methods=["GET"]),
    ],
    lifespan=lifespan,
    exception_handlers=EXCEPTION_HANDLERS,
)
