"""`GET /health`: each component checked at once, each within a second.

200 `{"status": "ok", "components": {...}}` when all answer; 503 with `"down": [...]`
naming the ones that did not. A component the server does not use is `"unused"` (on the
in-memory dev runtime: Postgres and, with it, the webhooks). Components:

- `postgres`: `SELECT 1` on the database of the webhook events (AUREN_POSTGRES_URI, the
  same one that holds checkpoints and the store under `make dev`);
- `store`: a one-item search through the server's own store API (in process);
- `queue`: a one-thread search through the server's runs/threads API (in process): the
  runtime that queues runs answers;
- `webhooks`: the worker's loops are alive, and how many events wait (`backlog`);
- `connections`: how many device connections the vendors refused (`needs_reauth`: their
  users must connect again), by vendor, never naming anyone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from auren_graphs import observability
from auren_graphs.records.connections import needing_reauth
from auren_graphs.webhooks.runtime import STATE_KEY, WebhookRuntime

CHECK_TIMEOUT = 1.0
Check = Callable[[WebhookRuntime], Awaitable[dict[str, Any]]]


class UnusedError(Exception):
    """A component this server does not use (the in-memory dev runtime has no Postgres)."""


async def _postgres(rt: WebhookRuntime) -> dict[str, Any]:
    if rt.events is None:
        raise UnusedError(rt.disabled)
    await rt.events.ping(wait_seconds=CHECK_TIMEOUT * 0.8)
    return {}


async def _store(rt: WebhookRuntime) -> dict[str, Any]:
    await rt.sdk.store.search_items(["auren", "health"], limit=1)
    return {}


async def _queue(rt: WebhookRuntime) -> dict[str, Any]:
    await rt.sdk.threads.search(limit=1)
    return {}


async def _webhooks(rt: WebhookRuntime) -> dict[str, Any]:
    if rt.events is None:
        raise UnusedError(rt.disabled)
    if rt.worker is None or not rt.worker.alive:
        raise RuntimeError("the webhook worker is not running")
    backlog = await rt.events.backlog(wait_seconds=CHECK_TIMEOUT * 0.8)
    observability.WEBHOOK_BACKLOG.set(backlog)
    return {"worker": "running", "backlog": backlog}


async def _connections(rt: WebhookRuntime) -> dict[str, Any]:
    """Connections the vendor refused (the user must connect again): counted by vendor,
    never named (this route is public)."""
    waiting = await needing_reauth()
    by_vendor: dict[str, int] = {}
    for connection in waiting:
        by_vendor[connection.device] = by_vendor.get(connection.device, 0) + 1
    return {"needs_reauth": len(waiting), "needs_reauth_by_vendor": by_vendor}


CHECKS: dict[str, Check] = {
    "postgres": _postgres,
    "store": _store,
    "queue": _queue,
    "webhooks": _webhooks,
    "connections": _connections,
}


async def _run(check: Check, rt: WebhookRuntime | None) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        if rt is None:
            raise RuntimeError("the server is still starting")
        detail = await asyncio.wait_for(check(rt), timeout=CHECK_TIMEOUT)
        result: dict[str, Any] = {"status": "ok", **detail}
    except UnusedError as unused:
        result = {"status": "unused", "detail": str(unused)}
    except TimeoutError:
        result = {"status": "down", "error": f"no answer within {CHECK_TIMEOUT:g} s"}
    except Exception as exc:
        # The exception's type and first words: enough to act on, never a connection string.
        result = {"status": "down", "error": _describe(exc)}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _describe(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    if "://" in text or "password" in text.lower():
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def health(request: Request) -> JSONResponse:
    rt = getattr(request.app.state, STATE_KEY, None)
    runtime = rt if isinstance(rt, WebhookRuntime) else None
    names = list(CHECKS)
    results = await asyncio.gather(*(_run(CHECKS[name], runtime) for name in names))
    components = dict(zip(names, results, strict=True))
    down = [name for name, result in components.items() if result["status"] == "down"]
    if down:
        return JSONResponse(
            {"status": "down", "down": down, "components": components}, status_code=503
        )
    return JSONResponse({"status": "ok", "components": components})
