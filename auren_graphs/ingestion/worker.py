"""Normalizing staged uploads in a worker process, beside the server's event loop.

The ingestion graph runs inside the server process, whose one interpreter lock also
serves every request and every store write. Reading a 20,000-record export chunk
(decompress, parse, normalize, prepare the rows) is pure CPU, so it goes to a worker
process (`AUREN_INGEST_WORKERS`, default 1; 0 keeps it in a thread of the server) and
comes back as plain data (`prepared.PreparedBatch` and the batch's accounting).

While the server writes one chunk, the next ones are already being read: the node
prefetches the run's next uploads, and at a run's end those that follow its last one by
name, which the client's next run starts with (`prefetch` / `claim`, keyed by user and
upload key, a few at most). A result nobody claims (a run cancelled in between, a next
run that never came) is dropped, at the latest after `MAX_PREFETCHED_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from auren_graphs.canonical import Device, NormalizedBatch
from auren_graphs.ingestion.normalizers import NormalizeContext, normalize
from auren_graphs.ingestion.prepared import PreparedBatch, prepare_batch
from auren_graphs.ingestion.uploads import upload_payload
from auren_graphs.settings import get_settings

logger = logging.getLogger(__name__)

MAX_PREFETCHED = 16
#: A reading nobody claimed in this time is dropped: each holds a chunk's rows.
MAX_PREFETCHED_SECONDS = 300.0


@dataclass(slots=True)
class Normalized:
    """A payload read: what to write, and the batch's accounting (its values moved into
    `prepared`)."""

    prepared: PreparedBatch
    batch: NormalizedBatch


def normalize_payload(
    device: Device, payload: Any, user_id: str, vendor_user_id: str | None, staged: bool
) -> Normalized:
    """The payload (an upload item's value when `staged`) normalized and prepared."""
    document = upload_payload(payload) if staged else payload
    batch = normalize(device, document, NormalizeContext(user_id, vendor_user_id))
    prepared = prepare_batch(batch.observations, batch.intervals)
    batch.observations, batch.intervals = [], []
    return Normalized(prepared, batch)


class _Pool:
    """The worker processes, started on first use (from a thread, never the event loop).

    Starting one takes a second or so; until it is ready, payloads are read in the
    calling thread, so the first chunk of the first import does not wait for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._ready: Future[None] | None = None

    def start(self) -> None:
        """Start the workers now if they are not running (from a thread)."""
        self._ready_executor()

    def run(self, *args: Any) -> Normalized:
        executor = self._ready_executor()
        if executor is None:
            return normalize_payload(*args)
        try:
            return executor.submit(normalize_payload, *args).result()
        except BrokenProcessPool:
            logger.warning("the ingestion worker process died; reading this payload here")
            with self._lock:
                if self._executor is executor:
                    self._executor = self._ready = None
            return normalize_payload(*args)

    def _ready_executor(self) -> ProcessPoolExecutor | None:
        workers = get_settings().ingest_workers
        if workers < 1:
            return None
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
                self._ready = self._executor.submit(_ready)
            if self._ready is not None and not self._ready.done():
                return None
            return self._executor


def _ready() -> None:
    """Run in a new worker: by now it has imported the normalizers."""


@dataclass(slots=True)
class _Reading:
    """An upload being read ahead: for which device and vendor account, and since when."""

    task: asyncio.Task[Normalized]
    made_for: tuple[Device, str | None]
    since: float


_POOL = _Pool()
_PREFETCHED: OrderedDict[tuple[str, str], _Reading] = OrderedDict()


async def normalized(
    device: Device, payload: Any, context: NormalizeContext, *, staged: bool
) -> Normalized:
    """Read a payload off the event loop: staged uploads in the worker, inline ones here."""
    args = (device, payload, context.user_id, context.vendor_user_id, staged)
    if not staged:
        return await asyncio.to_thread(normalize_payload, *args)
    return await asyncio.to_thread(_POOL.run, *args)


def warm() -> None:
    """Start the worker processes in the background, if they are not running.

    A client asks for its ingestion thread (`http.users`) before it checks and cuts an
    export, which takes seconds; started then, the worker is ready for the first upload
    instead of starting with it (a second or more, while the server reads the first
    chunks itself, slowly, on the interpreter lock the event loop needs).
    """
    if get_settings().ingest_workers > 0:
        asyncio.get_running_loop().run_in_executor(None, _POOL.start)


def depth() -> int:
    """How many of a run's next uploads are read ahead: one being read by each worker
    process and one more waiting for it, so that a worker never waits for the step that
    writes the previous upload to ask for its next one."""
    workers = get_settings().ingest_workers
    return workers + 1 if workers else 1


def prefetching(key: tuple[str, str]) -> bool:
    return key in _PREFETCHED


def prefetch(key: tuple[str, str], device: Device, value: Any, context: NormalizeContext) -> None:
    """Start reading an upload a run will want next (this run's, or the next run's)."""
    _drop_stale()
    if key in _PREFETCHED:
        return
    task = asyncio.ensure_future(normalized(device, value, context, staged=True))
    _PREFETCHED[key] = _Reading(task, (device, context.vendor_user_id), time.monotonic())
    while len(_PREFETCHED) > MAX_PREFETCHED:
        _, stale = _PREFETCHED.popitem(last=False)
        _drop(stale.task)


def claim(
    key: tuple[str, str], device: Device, context: NormalizeContext
) -> asyncio.Task[Normalized] | None:
    """The prefetched reading of an upload, if there is one made as this run would."""
    reading = _PREFETCHED.pop(key, None)
    if reading is None:
        return None
    if reading.made_for != (device, context.vendor_user_id):
        _drop(reading.task)
        return None
    return reading.task


def forget(keys: list[tuple[str, str]]) -> None:
    """Drop prefetched readings of uploads that will not be ingested."""
    for key in keys:
        reading = _PREFETCHED.pop(key, None)
        if reading is not None:
            _drop(reading.task)


def _drop_stale() -> None:
    """Drop readings nobody claimed in time (read ahead for a run that never came)."""
    now = time.monotonic()
    while _PREFETCHED:
        key, oldest = next(iter(_PREFETCHED.items()))
        if now - oldest.since < MAX_PREFETCHED_SECONDS:
            return
        del _PREFETCHED[key]
        _drop(oldest.task)


def _drop(task: asyncio.Task[Normalized]) -> None:
    task.cancel()
    # Retrieve its outcome, so that a failure nobody waits for is not reported as lost.
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
