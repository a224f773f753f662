"""The synchronous twin: the async client, driven on a private event loop.

Each ``SyncAurenClient`` owns one event loop running in a daemon thread, and the
async client lives on that loop. A method hands its coroutine to the loop and
waits for the result, so the logic exists once, in :class:`AurenClient`, and the
sync client works the same inside or outside someone else's running event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable, Iterator
from datetime import date
from types import TracebackType
from typing import Any, TypeVar

from ._analysis import AnalysisEvent, AnalysisResult
from ._assistants import SyncAssistantsManager
from ._client import AurenClient
from ._files import Source
from ._ingest import Payload
from ._models import DeviceConnection, IngestReport, MetricRow
from ._rollout import SyncRolloutManager

T = TypeVar("T")


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

    @property
    def assistants(self) -> SyncAssistantsManager:
        """See :attr:`AurenClient.assistants`; the same methods, synchronous."""
        return SyncAssistantsManager(self._client.assistants, self._call)

    @property
    def rollout(self) -> SyncRolloutManager:
        """See :attr:`AurenClient.rollout`; the same methods, synchronous."""
        return SyncRolloutManager(self._client.rollout, self._call)

    def feedback(self, user_id: str, run_id: str, score: float, comment: str | None = None) -> None:
        """See :meth:`AurenClient.feedback`."""
        self._call(self._client.feedback(user_id, run_id, score, comment))

    def connect_device(
        self,
        user_id: str,
        device: str,
        vendor_user_id: str | int | None = None,
        *,
        access_token: str | None = None,
        ingest_token: str | None = None,
    ) -> DeviceConnection:
        """See :meth:`AurenClient.connect_device`."""
        return self._call(
            self._client.connect_device(
                user_id,
                device,
                vendor_user_id,
                access_token=access_token,
                ingest_token=ingest_token,
            )
        )

    def ingest(
        self, user_id: str, device: str, payload: Payload, *, timeout: float | None = 300.0
    ) -> IngestReport:
        """See :meth:`AurenClient.ingest`."""
        return self._call(self._client.ingest(user_id, device, payload, timeout=timeout))

    def ingest_batch(
        self, user_id: str, device: str, payloads: Iterable[Payload], **kwargs: Any
    ) -> IngestReport:
        """See :meth:`AurenClient.ingest_batch`."""
        return self._call(self._client.ingest_batch(user_id, device, payloads, **kwargs))

    def ingest_file(
        self,
        user_id: str,
        device: str,
        path: Source,
        *,
        progress: bool = True,
        batch_records: int = 20_000,
        chunks_per_run: int = 16,
        max_pending_runs: int = 8,
        timeout: float | None = None,
    ) -> IngestReport:
        """See :meth:`AurenClient.ingest_file`."""
        return self._call(
            self._client.ingest_file(
                user_id,
                device,
                path,
                progress=progress,
                batch_records=batch_records,
                chunks_per_run=chunks_per_run,
                max_pending_runs=max_pending_runs,
                timeout=timeout,
            )
        )

    def metrics(self, user_id: str, metric: str, start: date, end: date) -> list[MetricRow]:
        """See :meth:`AurenClient.metrics`."""
        return self._call(self._client.metrics(user_id, metric, start, end))

    def stream_analysis(
        self, user_id: str, request: str = "How is my recovery?", **kwargs: Any
    ) -> Iterator[AnalysisEvent]:
        """See :meth:`AurenClient.stream_analysis`; events arrive as they are streamed."""
        stream = self._client.stream_analysis(user_id, request, **kwargs)

        async def step() -> AnalysisEvent | None:
            return await anext(stream, None)

        try:
            while (event := self._call(step())) is not None:
                yield event
        finally:
            self._call(stream.aclose())

    def analyze(
        self, user_id: str, request: str = "How is my recovery?", **kwargs: Any
    ) -> AnalysisResult:
        """See :meth:`AurenClient.analyze`."""
        return self._call(self._client.analyze(user_id, request, **kwargs))

    def state(self, user_id: str, graph: str = "ingestion") -> dict[str, Any]:
        """See :meth:`AurenClient.state`."""
        return self._call(self._client.state(user_id, graph))

    def history(
        self, user_id: str, graph: str = "ingestion", *, limit: int = 10
    ) -> list[dict[str, Any]]:
        """See :meth:`AurenClient.history`."""
        return self._call(self._client.history(user_id, graph, limit=limit))

    def memory(self, user_id: str, query: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """See :meth:`AurenClient.memory`."""
        return self._call(self._client.memory(user_id, query, **kwargs))

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
