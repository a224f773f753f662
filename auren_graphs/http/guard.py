"""What AUREN's HTTP layer refuses before any route runs, on every route of the server.

- The dev server's own `/internal/*` and `/deploy` routes: they answer anonymous callers
  (thread contents, truncating everything) with `Access-Control-Allow-Origin: *`, so any
  web page a developer visits could reach them. AUREN has no use for them: 404, always.
- Requests whose headers add up to more than AUREN_MAX_HEADER_BYTES: 431. (The HTTP
  server has already read them by then; a proxy in front caps them before that, and caps
  slow senders: see the README's "Behind a proxy".)
- Bodies that do not arrive within AUREN_REQUEST_BODY_SECONDS: 408, so a slow sender
  cannot hold a worker and its buffer open.
"""

from __future__ import annotations

import asyncio
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auren_graphs.settings import get_settings

BLOCKED_PREFIXES = ("/internal/", "/deploy")


def _blocked(path: str) -> bool:
    return path.startswith(BLOCKED_PREFIXES) or path == "/internal"


class BodyTimeoutError(Exception):
    """The request body did not arrive in time."""


class RequestGuard:
    """ASGI middleware: the refusals above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        if _blocked(str(scope.get("path", ""))):
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        size = sum(len(name) + len(value) for name, value in scope.get("headers", []))
        if size > settings.max_header_bytes:
            answer = {"detail": f"the request headers exceed {settings.max_header_bytes} bytes"}
            await JSONResponse(answer, status_code=431)(scope, receive, send)
            return
        deadline = time.monotonic() + settings.request_body_seconds
        body_done = False

        async def receive_in_time() -> Message:
            # Only the body is timed: afterwards `receive` waits for a disconnect for as
            # long as a response streams, which is no one's fault.
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.001)):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeoutError(
                    f"the request body did not arrive within {settings.request_body_seconds:g} s"
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_in_time, send)
