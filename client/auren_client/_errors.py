"""The client's exceptions, and the one place where transport errors become them.

Everything the client raises on purpose derives from :class:`AurenError`::

    AurenError
    ├── ConnectionFailedError      the server could not be reached (after retries)
    ├── AurenTimeoutError          a call did not finish in time (also a TimeoutError)
    ├── StatusError                the server answered with an error status
    │   ├── AuthenticationError    401/403: the API key is missing, wrong or not allowed
    │   ├── NotFoundError          404: no such thread, run, item or graph
    │   ├── RequestRejectedError   any other 4xx: the server refused the request as sent
    │   └── ServerError            5xx (after retries)
    │       └── ServiceUnavailableError  503: the server's database is down; retry shortly
    ├── RunFailedError             a run itself failed on the server
    ├── InvalidPayloadError        the payload is wholly invalid (also a ValueError)
    ├── InvalidArgumentError       a bad argument, caught before any request (also a ValueError)
    ├── DeviceConflictError        the vendor account is connected to another user
    └── UnexpectedResponseError    an answer the client does not understand (version skew?)

Each message says what went wrong and what to do about it. The package exports them all.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx

from ._settings import URL_ENV

if TYPE_CHECKING:
    from auren_contract import IngestReport


class AurenError(Exception):
    """Base of every error the AUREN client raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectionFailedError(AurenError):
    """The server could not be reached, even after retrying."""


class AurenTimeoutError(AurenError, TimeoutError):
    """A call did not finish within its timeout."""


class StatusError(AurenError):
    """An error the server answered with; ``status_code`` is its HTTP status."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code

    def __reduce__(self) -> tuple[type[StatusError], tuple[str, int]]:
        # Picklable (multiprocessing, worker pools) despite the extra argument.
        return (type(self), (self.message, self.status_code))


class AuthenticationError(StatusError):
    """401/403: the server did not accept the API key for this request."""


class NotFoundError(StatusError):
    """404: the thread, run, store item or graph does not exist."""


class RequestRejectedError(StatusError):
    """Another 4xx: the server refused the request as it was sent."""


class ServerError(StatusError):
    """5xx: the server failed, and kept failing after retries."""


class ServiceUnavailableError(ServerError):
    """503: the server is up but its database is not (a restart, a failover).

    Nothing the failed call sent was acknowledged; the same call can be made again
    once the database is back (ingestion is idempotent).
    """


class RunFailedError(AurenError):
    """The run was accepted but failed on the server."""


# The server's name for "Postgres stayed down longer than a run rides out".
_DATABASE_UNAVAILABLE = "DatabaseUnavailableError"


def run_failed(graph: str, failure: object) -> AurenError:
    """The error a run ended with (`__error__` or a stream's `error` event) as ours."""
    kind = message = None
    if isinstance(failure, dict):
        kind, message = failure.get("error"), failure.get("message")
    message = str(message or failure)
    if kind == "HTTPException" and "Run not found" in message:
        return ServiceUnavailableError(
            f"the AUREN server restarted while the {graph} run was in flight and lost "
            "track of it; nothing of it was acknowledged; make the same call again",
            503,
        )
    if kind == _DATABASE_UNAVAILABLE:
        return ServiceUnavailableError(
            f"the AUREN server's database is unavailable; the {graph} run acknowledged "
            f"nothing ({message}); make the same call again shortly",
            503,
        )
    prefix = f"{kind}: " if kind else ""
    return RunFailedError(f"the {graph} run failed on the server: {prefix}{message}")


class InvalidPayloadError(AurenError, ValueError):
    """The payload is invalid; nothing from it was stored.

    The one exception is an export file damaged part-way through: the records
    before the damage are ingested, and ``partial_report`` says what became of them.
    """

    def __init__(self, message: str, *, partial_report: IngestReport | None = None) -> None:
        super().__init__(message)
        self.partial_report = partial_report


class InvalidArgumentError(AurenError, ValueError):
    """An argument is invalid; no request was made."""


class DeviceConflictError(AurenError):
    """The vendor account is already connected to a different user."""


class UnexpectedResponseError(AurenError):
    """The server answered with something this client does not understand.

    Usually a client and a server from different versions of AUREN.
    """


# httpx raises these for mistakes in the request itself; retrying cannot help.
_PERMANENT_TRANSPORT_ERRORS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def _status_of(exc: BaseException) -> int | None:
    # langgraph_sdk raises typed subclasses of httpx.HTTPStatusError for most calls,
    # but a plain one from runs.join/wait; both carry the response (its connection
    # error type carries none).
    if isinstance(exc, httpx.HTTPStatusError):
        response: httpx.Response | None = getattr(exc, "response", None)
        return response.status_code if response is not None else None
    return None


def is_retryable(exc: BaseException) -> bool:
    """True for failures that may pass if the same call is made again.

    Connection trouble, timeouts, 5xx and 429 (the one 4xx that means "later").
    Every other 4xx is the request's fault and is never retried.
    """
    if isinstance(exc, _PERMANENT_TRANSPORT_ERRORS):
        return False
    if isinstance(exc, ServiceUnavailableError):  # a run lost or failed for want of Postgres
        return True
    if isinstance(exc, httpx.TransportError):
        return True
    status = _status_of(exc)
    if status is not None:
        return status >= 500 or status == 429
    # The SDK's own connection error is an HTTPStatusError without a response.
    return isinstance(exc, httpx.HTTPStatusError)


def _server_message(exc: httpx.HTTPStatusError) -> str:
    sdk_message = getattr(exc, "message", None)
    if isinstance(sdk_message, str) and sdk_message:
        return sdk_message
    try:
        return server_message(exc.response) or str(exc)
    except httpx.ResponseNotRead:
        return str(exc)


def server_message(response: httpx.Response) -> str:
    """What the server said in refusing: its `detail` (or `message`, `error`), else the
    body itself, at most 500 characters of it."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        for key in ("detail", "message", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return json.dumps(body)[:500]


def _from_status(status: int, message: str, url: str) -> AurenError:
    if status in (401, 403):
        return AuthenticationError(
            f"the AUREN server at {url} refused the request ({status}: {message}); "
            "check the API key (api_key= or AUREN_API_KEY)",
            status,
        )
    if status == 404:
        return NotFoundError(f"not found on {url} ({message})", status)
    if status == 503:
        return ServiceUnavailableError(
            f"the AUREN server at {url} is unavailable ({message}) and stayed so after "
            "retries; make the same call again shortly",
            status,
        )
    if status >= 500:
        return ServerError(
            f"the AUREN server at {url} failed ({status}: {message}) and kept failing "
            "after retries; see the server's log",
            status,
        )
    return RequestRejectedError(
        f"the AUREN server at {url} refused the request ({status}: {message})", status
    )


def translate(exc: BaseException, url: str) -> BaseException:
    """Map an SDK/httpx exception to the client's hierarchy.

    Anything that is not a transport or HTTP error (a bug, a cancellation) is
    returned unchanged so that it propagates as itself.
    """
    if isinstance(exc, AurenError):
        return exc
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return ConnectionFailedError(
            f"cannot reach the AUREN server at {url} ({exc or type(exc).__name__}); "
            f"start it with `make dev`, or set {URL_ENV} (or url=) to where it runs"
        )
    if isinstance(exc, httpx.TimeoutException):
        return AurenTimeoutError(
            f"the AUREN server at {url} did not answer in time ({type(exc).__name__}); "
            "retry, or raise the client's timeout="
        )
    if isinstance(exc, httpx.TransportError):
        return ConnectionFailedError(
            f"lost the connection to the AUREN server at {url} ({exc or type(exc).__name__}); "
            f"check that it is running (`make dev`) and that {URL_ENV} points to it"
        )
    if isinstance(exc, httpx.HTTPStatusError):
        status = _status_of(exc)
        if status is None:
            return ConnectionFailedError(
                f"cannot reach the AUREN server at {url} ({exc}); start it with "
                f"`make dev`, or set {URL_ENV} (or url=) to where it runs"
            )
        return _from_status(status, _server_message(exc), url)
    return exc
