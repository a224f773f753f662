"""The vendor APIs (WHOOP, Oura) as the webhook worker calls them.

Each request has a timeout; connection errors, timeouts, 5xx and 429 are retried a few
times with jittered exponential backoff (tenacity); a circuit breaker per vendor stops
calling a vendor that keeps failing, so a vendor outage costs one deferred event, not a
worker stuck in timeouts. What still fails is raised as a `VendorError` that says
whether trying again later can help; the event's own retry schedule does the rest.
Tokens travel only in the Authorization header and never appear in errors.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from auren_graphs.analysis.narrative import CircuitBreaker
from auren_graphs.settings import Settings


class VendorError(Exception):
    """A vendor call failed. `retryable`: a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class VendorNotFoundError(VendorError):
    """The vendor has no such object (deleted since the notification, or never ours)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class VendorUnavailableError(VendorError):
    """The vendor's circuit breaker is open: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryable=True)
        self.retry_after = retry_after


class VendorDownError(VendorError):
    """The vendor did not answer usefully (connection, timeout, 5xx, 429) after retries."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class _TransientError(Exception):
    """A failure worth retrying at once (connection, timeout, 5xx, 429)."""


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TransientError | httpx.TransportError)


@dataclass
class VendorClient:
    """GET JSON from one vendor's API with a user's bearer token."""

    name: str
    base_url: str
    timeout: float
    retries: int
    breaker: CircuitBreaker
    transport: httpx.AsyncBaseTransport | None = None
    _http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(
            base_url=self.base_url.rstrip("/"),
            timeout=httpx.Timeout(self.timeout),
            transport=self.transport,
            headers={"Accept": "application/json", "User-Agent": "auren-webhooks"},
        )

    @classmethod
    def from_settings(cls, name: str, base_url: str, settings: Settings) -> VendorClient:
        return cls(
            name=name,
            base_url=base_url,
            timeout=settings.vendor_timeout_seconds,
            retries=settings.vendor_retries,
            breaker=CircuitBreaker(
                threshold=settings.vendor_breaker_threshold,
                reset_after=settings.vendor_breaker_reset_seconds,
            ),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def breaker_remaining(self) -> float:
        opened = self.breaker.opened_at
        if opened is None:
            return 0.0
        return max(0.0, self.breaker.reset_after - (time.monotonic() - opened))

    async def get_json(self, path: str, token: str) -> Any:
        """The JSON document at `path`; raises `VendorError` (or a subclass)."""
        if not self.breaker.allows():
            raise VendorUnavailableError(
                f"{self.name} API circuit breaker is open after repeated failures",
                retry_after=max(self.breaker_remaining(), 1.0),
            )
        try:
            document = await self._get_with_retries(path, token)
        except VendorDownError:
            self.breaker.record(ok=False)
            raise
        except VendorError:
            # The vendor answered (a missing object, a refused token): one user's or one
            # object's problem, not the vendor's, so the breaker stays as it is.
            self.breaker.record(ok=True)
            raise
        self.breaker.record(ok=True)
        return document

    async def _get_with_retries(self, path: str, token: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.retries + 1),
                wait=wait_exponential(multiplier=0.2, max=2.0) + wait_random(0, 0.2),
                retry=retry_if_exception(_is_transient),
                reraise=True,
            ):
                with attempt:
                    response = await self._http.get(path, headers=headers)
                    return self._document(path, response)
        except _TransientError as exc:
            raise VendorDownError(str(exc)) from None
        except httpx.TransportError as exc:
            raise VendorDownError(
                f"{self.name} API {path}: {type(exc).__name__} (no answer)"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _document(self, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        where = f"{self.name} API {path}"
        if status == 429 or status >= 500:
            raise _TransientError(f"{where} answered {status}")
        if status == 404:
            raise VendorNotFoundError(f"{where}: not found (404)")
        if status in (401, 403):
            # Retried by the event schedule: the user may reconnect with a fresh token.
            raise VendorError(f"{where} refused the user's access token ({status})", retryable=True)
        if status != 200:
            raise VendorError(f"{where} answered {status}", retryable=False)
        try:
            return response.json()
        except ValueError:
            raise VendorDownError(f"{where} answered 200 with a body that is not JSON") from None


def bearer_token(connection: Mapping[str, Any] | None, vendor: str) -> str:
    """The connection's access token, or a retryable error saying how to provide one."""
    token = connection.get("access_token") if connection else None
    if not isinstance(token, str) or not token:
        raise VendorError(
            f"the user's {vendor} connection has no access_token; connect the device again "
            "with access_token=...",
            retryable=True,
        )
    return token
