"""Retrying calls that are safe to repeat, and translating what finally fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ._errors import is_retryable, translate

T = TypeVar("T")


class Retrier:
    """Runs a call up to ``retries + 1`` times with exponential backoff and jitter.

    Only for calls that are safe to repeat: store reads and writes of a fixed key,
    idempotent thread creation, and ingestion runs (the server de-duplicates, so a
    repeated delivery stores nothing twice).
    """

    def __init__(self, url: str, *, retries: int, backoff: float) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.url = url
        self.retries = retries
        self.backoff = backoff
        # Until a call has reached the server, a refused connection means no server
        # there (a wrong URL, `make dev` not started): said at once, not after backoff.
        # Once it has answered, a refusal is a restart, worth waiting for.
        self.reached = False

    def _is_retryable(self, exc: BaseException) -> bool:
        if not self.reached and isinstance(exc, httpx.ConnectError):
            return False
        return is_retryable(exc)

    def _policy(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential_jitter(
                multiplier=self.backoff, max=self.backoff * 16, jitter=self.backoff
            ),
            retry=retry_if_exception(self._is_retryable),
            reraise=True,
        )

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()``, retrying transient failures; raise an ``AurenError`` on failure."""
        try:
            async for attempt in self._policy():
                with attempt:
                    result = await fn()
                    self.reached = True
                    return result
        except Exception as exc:
            mapped = translate(exc, self.url)
            if mapped is exc:
                raise
            raise mapped from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
