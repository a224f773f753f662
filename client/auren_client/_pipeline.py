"""Keeping the server busy while the client is still uploading.

Chunks are uploaded one after another; once enough have gathered a run is started on
the user's thread without waiting for it (runs enqueue there and the server works
through them in order). The first run takes one chunk, so the server starts at once;
each next run takes twice as many, up to ``chunks_per_run``: a run's first upload is
the one the server cannot read ahead, so fewer, larger runs keep it busier. At most
``max_pending`` runs are in flight: when that many are, the oldest is awaited first,
so a fast client cannot pile up an unbounded backlog of uploads on a slow server. At
the end every run is awaited in the order it was started and their reports are summed.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from auren_contract import IngestReport

StartRun = Callable[[list[str]], Awaitable[IngestReport]]
T = TypeVar("T")


class RunPipeline:
    def __init__(
        self,
        start_run: StartRun,
        *,
        chunks_per_run: int,
        max_pending: int,
        on_done: Callable[[IngestReport], object] | None = None,
    ) -> None:
        if chunks_per_run < 1 or max_pending < 1:
            raise ValueError("chunks_per_run and max_pending must be at least 1")
        self._start_run = start_run
        self._chunks_per_run = chunks_per_run
        self._max_pending = max_pending
        self._keys: list[str] = []
        self._run_size = 1
        self._pending: deque[asyncio.Task[IngestReport]] = deque()
        self.report = IngestReport()
        self.runs = 0
        self._on_done = on_done  # each run's report as soon as it is in (progress)

    async def add(self, upload_key: str) -> None:
        """Take one uploaded chunk; start a run once enough have gathered."""
        self._raise_early_failure()
        self._keys.append(upload_key)
        if len(self._keys) >= min(self._run_size, self._chunks_per_run):
            self._run_size *= 2
            await self._launch()

    async def finish(self) -> IngestReport:
        """Start a run for what is left, await every run in order, sum the reports."""
        if self._keys:
            await self._launch()
        while self._pending:
            await self._settle_oldest()
        return self.report

    async def cancel(self) -> None:
        """Stop waiting (the server keeps processing the runs already started)."""
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        self._pending.clear()

    def _raise_early_failure(self) -> None:
        # A run that already failed (an invalid chunk, a server error) stops the
        # upload now instead of after the whole file has been sent.
        for task in self._pending:
            if task.done() and (exc := task.exception()) is not None:
                raise exc

    async def _launch(self) -> None:
        while len(self._pending) >= self._max_pending:
            await self._settle_oldest()
        keys, self._keys = self._keys, []
        self._pending.append(asyncio.ensure_future(self._run(keys)))
        self.runs += 1
        # Let the task send its request before the caller goes back to uploading.
        await asyncio.sleep(0)

    async def _run(self, keys: list[str]) -> IngestReport:
        report = await self._start_run(keys)
        if self._on_done is not None:
            self._on_done(report)
        return report

    async def _settle_oldest(self) -> None:
        task = self._pending[0]
        report = await task
        self._pending.popleft()
        self.report += report


async def prefetch(chunks: Iterator[T]) -> AsyncGenerator[T, None]:
    """Make the next item (parse the next chunk) in a worker thread while the current one
    is uploaded.

    Always the same thread: each thread that allocates megabytes gets a malloc arena of
    its own, and several of them held about 40 MB more at the peak than one does.
    """
    loop = asyncio.get_running_loop()
    step: Callable[[], T | None] = functools.partial(next, chunks, None)
    with ThreadPoolExecutor(1, thread_name_prefix="auren-export") as thread:
        pending = loop.run_in_executor(thread, step)
        try:
            while (item := await pending) is not None:
                pending = loop.run_in_executor(thread, step)
                yield item
        finally:
            # Never leave the parser running on a file that is about to be closed.
            await asyncio.gather(pending, return_exceptions=True)
            close: Callable[[], object] | None = getattr(chunks, "close", None)
            if close is not None:
                close()
