"""Postgres trouble anywhere in the server answers 503 with a reason, never 500; a body
that does not arrive in time answers 408.

The server keeps the exception handlers of the app named by `http.app`, and they apply
to its own routes too (threads, runs, store), so a request that reaches a stopped
Postgres tells the caller to retry instead of reporting an internal error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auren_graphs.http.guard import BodyTimeoutError
from auren_graphs.persistence.outage import TRANSIENT, DatabaseUnavailableError

RETRY_AFTER_SECONDS = 2


async def database_unavailable(request: Request, exc: Exception) -> Response:
    reason = (
        str(exc)
        if isinstance(exc, DatabaseUnavailableError)
        else f"Postgres is unavailable ({type(exc).__name__}); retry shortly"
    )
    return JSONResponse(
        {"detail": reason, "error": "DatabaseUnavailableError"},
        status_code=503,
        headers={"retry-after": str(RETRY_AFTER_SECONDS)},
    )


async def body_too_slow(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=408, headers={"connection": "close"})


Handler = Callable[[Request, Exception], Awaitable[Response]]
EXCEPTION_HANDLERS: dict[type[Exception], Handler] = {
    **{kind: database_unavailable for kind in (DatabaseUnavailableError, *TRANSIENT)},
    BodyTimeoutError: body_too_slow,
}
