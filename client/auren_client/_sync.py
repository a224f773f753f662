"""The synchronous twin: the async client, driven on a private event loop.

Each ``SyncAurenClient`` owns one event loop running in a daemon thread, and the
async client lives on that loop. A method hands its coroutine to the loop and
waits for the result, so the logic exists once, in :class:`AurenClient`, and the
sync client works the same inside or outside someone else's running event loop.
Its methods are the async ones wrapped (same signatures, same documentation).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from ._client import AurenClient

T = TypeVar("T")
P = ParamSpec("P")


def _blocking(
    method: Callable[Concatenate[AurenClient, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[SyncAurenClient, P], T]:
    @functools.wraps(method)
    def call(self: SyncAurenClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._call(method(self._client, *args, **kwargs))

    return call


def _streaming(
    method: Callable[Concatenate[AurenClient, P], AsyncIterator[T]],
) -> Callable[Concatenate[SyncAurenClient, P], Generator[T, None, None]]:
    @functools.wraps(method)
    def call(
        self: SyncAurenClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> Generator[T, None, None]:
        stream = method(self._client, *args, **kwargs)  # events arrive as they are streamed

        async def step() -> tuple[T] | None:
            async for item in stream:
                return (item,)
            return None

        try:
            while (item := self._call(step())) is not None:
                yield item[0]
        finally:
            if (aclose := getattr(stream, "aclose", None)) is not None:
                self._call(aclose())

    return call


class SyncAurenClient:
    """Synchronous client; the same arguments and methods as :class:`AurenClient`.

    Use it as a context manager, or call :meth:`close` when done::

        with SyncAurenClient() as auren:
            report = auren.ingest("user-alice", "oura", payload)
    """

    def __init__(self, url: str | None = None, api_key: str | None = None, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="auren-client-loop", daemon=True
        )
        self._thread.start()
        self._closed = False

        async def build() -> AurenClient:
            # Built on its own loop: httpx binds its connection pool to the loop it runs on.
            return AurenClient(url, api_key, **kwargs)

        try:
            self._client = self._call(build())
        except BaseException:
            self._stop_loop()
            raise

    @property
    def url(self) -> str:
        return self._client.url

    def __repr__(self) -> str:
        return f"SyncAurenClient(url={self.url!r})"

    def __enter__(self) -> SyncAurenClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and stop the private loop; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._client.aclose())
        finally:
            self._stop_loop()

    connect_device = _blocking(AurenClient.connect_device)
    devices = _blocking(AurenClient.devices)
    connect_url = _blocking(AurenClient.connect_url)
    backfill = _blocking(AurenClient.backfill)
    stream_backfill = _streaming(AurenClient.stream_backfill)
    disconnect = _blocking(AurenClient.disconnect)
    export = _blocking(AurenClient.export)
    erase = _blocking(AurenClient.erase)
    thread = _blocking(AurenClient.thread)
    ingest = _blocking(AurenClient.ingest)
    ingest_batch = _blocking(AurenClient.ingest_batch)
    ingest_file = _blocking(AurenClient.ingest_file)
    metrics = _blocking(AurenClient.metrics)
    report = _blocking(AurenClient.report)
    stream_analysis = _streaming(AurenClient.stream_analysis)
    analyze = _blocking(AurenClient.analyze)
    state = _blocking(AurenClient.state)
    history = _blocking(AurenClient.history)
    memory = _blocking(AurenClient.memory)
    feedback = _blocking(AurenClient.feedback)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop.is_closed():
            coro.close()
            raise RuntimeError("this SyncAurenClient is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:
            # Ctrl-C while waiting: stop the coroutine too, not only the wait.
            future.cancel()
            raise

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
