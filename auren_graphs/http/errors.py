"""Postgres trouble anywhere in the server answers 503 with a reason, never 500.

The server keeps the exception handlers of the app named by `http.app`, and they apply
to its own routes too (threads, runs, store), so a request that reaches a stopped
Postgres tells the caller to retry instead of reporting an internal error.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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


EXCEPTION_HANDLERS = {kind: database_unavailable for kind in (DatabaseUnavailableError, *TRANSIENT)}
