r"""The app the server mounts beside its own routes (langgraph.json `http.app`). Wiring only.

The server's auth runs on these routes too (`http.enable_custom_route_auth`): users'
routes read the caller from the request, operators' routes (`/ops/...`) take a service
key not acting for a user; the public ones (vendor webhooks, which verify
signatures, pushes, which verify ingest tokens, health, metrics, this OpenAPI) get no
identity (`auren_graphs.auth.PUBLIC_PATHS`). The OpenAPI description (`GET
/openapi/auren.json`) is generated from the routes' own typed definitions.

| route | what |
|---|---|
| `PUT /users/{user}/threads/{graph}` | the user's own thread of a graph (`...http.users`) |
| `GET /users/{user}/metrics/{metric}`, `GET /catalog/metrics` | metric rows, the vocabulary |
| `GET /users/{user}/devices`, `PUT`/`DELETE /users/{user}/devices/{device}` | connections |
| `GET /connect/{vendor}`, `GET /connect/{vendor}/callback` | connect through the vendor's OAuth |
| `GET /users/{user}/findings`, `POST /users/{user}/feedback` | memory, feedback |
| `GET /users/{user}/report` | the report page (`auren_graphs.report`) |
| `POST /webhooks/whoop`, `GET, POST /webhooks/oura` | vendor notifications |
| `POST /webhooks/apple_health`, `POST /webhooks/manual` | pushes |
| `GET /health`, `GET /metrics/auren` | each component; Prometheus metrics |
| `/ops/oura/subscriptions`, `/ops/webhooks/failed`, `/ops/webhooks/requeue` | operators |
| `GET /ops/assistants`, `PUT /ops/assistants/{name}` | operators: assistants, sync a file |
| `GET /ops/assistants/{name}/versions`, `POST .../diff\|switch` | versions, diff, switch |
| `POST, GET /ops/rollouts/{assistant}` | start a rollout; its plan, stage, history |
| `POST /ops/rollouts/{assistant}/approve\|reject\|abort\|advance` | answer a rollout |

Its middleware (`...http.guard`) and exception handlers (`...http.errors`) apply to the
server's own routes as well: the dev server's `/internal/*` and `/deploy` answer 404,
and Postgres being down answers 503 with a reason everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module

from fastapi import FastAPI

from auren_graphs.background import BackgroundJob
from auren_graphs.http import (
    connect,
    devices,
    metrics,
    ops_assistants,
    ops_rollouts,
    ops_vendors,
    report,
    system,
    users,
    webhooks,
)
from auren_graphs.http.errors import EXCEPTION_HANDLERS
from auren_graphs.http.guard import RequestGuard
from auren_graphs.http.openapi import describe
from auren_graphs.http.startup import require_auth
from auren_graphs.records.database import close_pool
from auren_graphs.rollout.ticker import Ticker
from auren_graphs.settings import get_settings
from auren_graphs.webhooks.runtime import STATE_KEY, WebhookRuntime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the server's own lifespan: the in-process SDK client works from here.
    The webhook worker and the rollout ticker start here. On the way out, events in
    flight get 10 s to finish; then they are cancelled, which rolls them back to pending
    for the next start (the whole stop stays under 30 s).
    First of all: a server that would not enforce AUREN's auth does not start."""
    require_auth()
    runtime = await WebhookRuntime.start(get_settings(), webhooks.PROCESSORS)
    setattr(app.state, STATE_KEY, runtime)
    background = BackgroundJob(get_settings(), runtime.events)
    background.start()
    ticker = Ticker(get_settings().rollout_ticker_seconds)
    ticker.start()
    if get_settings().openai_api_key:  # the model client, imported off the start-up path
        asyncio.get_running_loop().run_in_executor(None, import_module, "langchain_openai")
    try:
        yield
    finally:
        await background.stop()
        await ticker.stop()
        await runtime.stop(grace=10.0)
        await close_pool()


app = FastAPI(
    title="AUREN",
    version="1",
    summary="AUREN's own routes beside the LangGraph server's",
    openapi_url="/openapi/auren.json",
    docs_url=None,
    redoc_url=None,
    lifespan=lifespan,
)
app.openapi = lambda: describe(app)  # type: ignore[method-assign]  # FastAPI's hook
app.add_middleware(RequestGuard)
for _kind, _handler in EXCEPTION_HANDLERS.items():
    app.add_exception_handler(_kind, _handler)
# The routes themselves, not `include_router`: the server wraps each route of this app
# in its auth middleware, and an included router is one lazy route with nothing to wrap.
for _router in (
    users.router,
    devices.router,
    connect.router,
    metrics.router,
    report.router,
    ops_assistants.router,
    ops_rollouts.router,
    ops_vendors.router,
    webhooks.router,
    system.router,
):
    app.router.routes.extend(_router.routes)
