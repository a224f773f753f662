"""The vendor APIs (WHOOP, Oura) as the webhook worker and a backfill call them.

Each request has a timeout; connection errors, timeouts, 5xx and 429 are retried a few
times with jittered exponential backoff (tenacity), and a 429's `Retry-After` is waited
out (up to a bound); a circuit breaker per vendor stops calling a vendor that keeps
failing, so a vendor outage costs one deferred event, not a worker stuck in timeouts.
What still fails is raised as a `VendorError` that says whether trying again later can
help. A refused token is a `VendorUnauthorizedError`: the caller refreshes it once.
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
    RetryCallState,
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


class VendorUnauthorizedError(VendorError):
    """The vendor refused the access token (401/403): refresh it, or reconnect."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class VendorDownError(VendorError):
    """The vendor did not answer usefully (connection, timeout, 5xx, 429) after retries."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


#: The longest `Retry-After` waited out in place; a longer one fails the call (retryable).
MAX_RETRY_AFTER_SECONDS = 60.0


class _TransientError(Exception):
    """A failure worth retrying at once (connection, timeout, 5xx, 429)."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TransientError | httpx.TransportError)


def _backoff_or_retry_after(retry_state: RetryCallState) -> float:
    """Jittered exponential backoff, or the vendor's `Retry-After` when it said more."""
    backoff = (wait_exponential(multiplier=0.2, max=2.0) + wait_random(0, 0.2))(retry_state)
    outcome = retry_state.outcome
    failure = outcome.exception() if outcome is not None else None
    asked = failure.retry_after if isinstance(failure, _TransientError) else 0.0
    return max(backoff, asked)


def retry_after_seconds(response: httpx.Response) -> float:
    """A 429's `Retry-After` in seconds (delta-seconds form; 1 s when absent or a date)."""
    raw = response.headers.get("retry-after", "").strip()
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER_SECONDS + 1)
    except ValueError:
        return 1.0


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

    async def get_json(self, path: str, token: str, params: Mapping[str, str] | None = None) -> Any:
        """The JSON document at `path`; raises `VendorError` (or a subclass)."""
        if not self.breaker.allows():
            raise VendorUnavailableError(
                f"{self.name} API circuit breaker is open after repeated failures",
                retry_after=max(self.breaker_remaining(), 1.0),
            )
        try:
            document = await self._get_with_retries(path, token, params)
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

    async def _get_with_retries(
        self, path: str, token: str, params: Mapping[str, str] | None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.retries + 1),
                wait=_backoff_or_retry_after,
                retry=retry_if_exception(_is_transient),
                reraise=True,
            ):
                with attempt:
                    response = await self._http.get(path, headers=headers, params=params)
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
        if status == 429:
            wait = retry_after_seconds(response)
            if wait > MAX_RETRY_AFTER_SECONDS:
                raise VendorError(f"{where}: rate limited for {wait:.0f} s", retryable=True)
            raise _TransientError(f"{where} answered 429", retry_after=wait)
        if status >= 500:
            raise _TransientError(f"{where} answered {status}")
        if status == 404:
            raise VendorNotFoundError(f"{where}: not found (404)")
        if status in (401, 403):
            # Refreshed once by the caller; else retried by the event schedule (the user
            # may reconnect).
            raise VendorUnauthorizedError(f"{where} refused the user's access token ({status})")
        if status != 200:
            raise VendorError(f"{where} answered {status}", retryable=False)
        try:
            return response.json()
        except ValueError:
            raise VendorDownError(f"{where} answered 200 with a body that is not JSON") from None


_CLIENTS: dict[tuple[str, int], VendorClient] = {}


def vendor_client(vendor: str) -> VendorClient:
    """This event loop's client of `vendor`'s API (its connection pool is the loop's)."""
    import asyncio

    from auren_graphs.devices.vendors import vendor_api
    from auren_graphs.settings import get_settings

    key = (vendor, id(asyncio.get_running_loop()))
    client = _CLIENTS.get(key)
    if client is None:
        settings = get_settings()
        api = vendor_api(vendor, settings)
        client = _CLIENTS[key] = VendorClient.from_settings(api.label, api.api_url, settings)
    return client
