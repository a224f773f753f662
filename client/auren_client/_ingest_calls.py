"""Ingestion calls of the client: one document, many, a file of any size (mixed into
:class:`AurenClient`). An Apple export is cut into chunks, each uploaded packed while
runs work through them (`_pipeline`); everything else is a document sent inline or
staged by reference.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import ExitStack, aclosing, asynccontextmanager
from typing import Any

from auren_contract import (
    INGESTION_GRAPH,
    INLINE_LIMIT,
    IngestReport,
    ingestion_input,
    series_upload_key,
    upload_item,
    uploads_namespace,
)

from ._errors import (
    AurenError,
    AurenTimeoutError,
    InvalidArgumentError,
    InvalidPayloadError,
)
from ._files import (
    Chunk,
    CountingReader,
    OpenedSource,
    Source,
    check_apple_export,
    open_source,
    pack,
    read_json,
    split_apple_export,
)
from ._ids import check_device, check_user
from ._ingest import (
    JsonPayload,
    Payload,
    as_json_payload,
    goes_inline,
    report_from_state,
)
from ._pipeline import RunPipeline, prefetch
from ._progress import IngestProgress
from ._retry import Retrier


class IngestCalls:
    """Ingestion; `AurenClient` provides what is declared here."""

    url: str
    _retrier: Retrier
    _sdk: Any

    async def thread(self, user_id: str, graph: str = INGESTION_GRAPH) -> str:  # pragma: no cover
        raise NotImplementedError

    def _as(self, user_id: str) -> dict[str, str]:  # pragma: no cover
        raise NotImplementedError

    async def ingest(
        self,
        user_id: str,
        device: str,
        payload: Payload,
        *,
        timeout: float | None = 300.0,  # noqa: ASYNC109  (part of the contract; bounds the wait)
    ) -> IngestReport:
        """Ingest one payload in the vendor's own format and report what happened.

        ``payload`` is the document as the vendor's API or exporter gives it: bytes
        (UTF-8), text, or parsed JSON. A wholly invalid payload raises
        :class:`InvalidPayloadError` and stores nothing; bad records in an otherwise
        good payload are stored around and listed in ``report.rejected``.
        ``timeout`` bounds the whole call, waiting for the server included.
        """
        check_user(user_id)
        check_device(device)
        document = as_json_payload(payload)
        async with _deadline(timeout, "the ingestion"):
            if goes_inline(document):
                return await self._ingest_run(user_id, device, payload=document)
            key = await self._upload(user_id, device, document)
            return await self._ingest_run(user_id, device, uploads=[key])

    async def ingest_batch(
        self,
        user_id: str,
        device: str,
        payloads: Iterable[Payload],
        *,
        timeout: float | None = 600.0,  # noqa: ASYNC109  (bounds the wait, as in ingest)
        concurrency: int = 8,
    ) -> IngestReport:
        """Ingest many payloads (pages of one vendor) in one run: one queue wait, not many.

        Each payload is staged in the store, up to ``concurrency`` at a time, and one
        run ingests them in order. A wholly invalid payload stops the run there, raises
        :class:`InvalidPayloadError`, and stores nothing from it or those after it.
        """
        check_user(user_id)
        check_device(device)
        documents = [as_json_payload(p) for p in payloads]
        if not documents:
            return IngestReport()
        limit = asyncio.Semaphore(concurrency)

        async def stage(document: JsonPayload) -> str:
            async with limit:
                return await self._upload(user_id, device, document)

        async with _deadline(timeout, "the ingestion"):
            keys = await asyncio.gather(*(stage(d) for d in documents))
            return await self._ingest_run(user_id, device, uploads=list(keys))

    async def ingest_file(
        self,
        user_id: str,
        device: str,
        path: Source,
        *,
        progress: bool = True,
        batch_records: int = 20_000,
        chunks_per_run: int = 16,
        max_pending_runs: int = 8,
        timeout: float | None = None,  # noqa: ASYNC109  (bounds the whole file)
    ) -> IngestReport:
        """Ingest a file (a path or a binary stream) without loading it whole.

        An Apple Health ``export.xml`` or ``export.zip`` is cut into documents of
        ``batch_records`` records, uploaded one by one (packed), with runs started while
        the upload goes on: the first on one document, each next on twice as many, up to
        ``chunks_per_run``; the reports of all runs are summed. A JSON document is read
        whole (up to 64 MiB) and ingested as one payload. ``progress`` shows a bar on
        stderr when it is a terminal.
        """
        check_user(user_id)
        check_device(device)
        if isinstance(path, str | os.PathLike) and not os.path.isfile(path):  # noqa: ASYNC240
            raise InvalidArgumentError(
                f"no file at {os.fspath(path)!r}: give the path of an Apple Health "
                "export.xml or export.zip, or of a vendor's JSON document"
            )
        with ExitStack() as stack:
            opened = open_source(path, stack)
            bar = stack.enter_context(
                IngestProgress(
                    f"{device} {os.path.basename(opened.name)}", opened.size, enabled=progress
                )
            )
            async with _deadline(timeout, f"ingesting {opened.name}"):
                if opened.kind == "json":
                    return await self._ingest_json_file(user_id, device, opened, bar)
                if device != "apple_health":
                    raise InvalidPayloadError(
                        f"{opened.name} is XML, which only Apple Health exports are; "
                        "ingest it with device 'apple_health'"
                    )
                # Ask for the thread first: the server readies its reader of uploads
                # while the export is checked, which takes seconds for a large one.
                await self.thread(user_id, INGESTION_GRAPH)
                await _check_whole_export(opened)
                return await self._ingest_export(
                    user_id, opened, bar, batch_records, chunks_per_run, max_pending_runs
                )
        raise AssertionError("unreachable")  # pragma: no cover  (mypy: ExitStack may swallow)

    async def _ingest_export(
        self,
        user_id: str,
        opened: OpenedSource,
        bar: IngestProgress,
        batch_records: int,
        chunks_per_run: int,
        max_pending: int,
    ) -> IngestReport:
        device = "apple_health"
        start_run = functools.partial(self._ingest_run, user_id, device)
        pipeline = RunPipeline(
            start_run, chunks_per_run=chunks_per_run, max_pending=max_pending,
            on_done=bar.ingested,
        )  # fmt: skip
        chunks = split_apple_export(
            CountingReader(opened.stream, bar.read, opened.head), batch_records
        )
        damage: InvalidPayloadError | None = None
        # The documents are named in order, so the server reads ahead across runs.
        series = uuid.uuid4().hex
        keys = (series_upload_key(series, n) for n in itertools.count())
        try:
            async with aclosing(prefetch(chunks)) as prefetched:
                while (chunk := await _next_chunk(prefetched)) is not None:
                    if isinstance(chunk, InvalidPayloadError):
                        damage = chunk
                        break
                    key = await self._upload_packed(
                        user_id, device, chunk.packed, chunk.records, key=next(keys)
                    )
                    await pipeline.add(key)
                    bar.sent(chunk.records)
            if damage is not None and bar.records == 0:
                raise damage
        except BaseException:
            await pipeline.cancel()
            raise
        bar.server_working()
        report = await pipeline.finish()
        if damage is not None:
            # A truncated or damaged export: what came before the damage was sent and
            # has been ingested; say so rather than pretend nothing was stored.
            raise _partial_failure(damage, report) from damage
        return report

    async def _ingest_json_file(
        self, user_id: str, device: str, opened: OpenedSource, bar: IngestProgress
    ) -> IngestReport:
        """A JSON file, whole: inline when small, else uploaded packed (a tenth of its size
        on the wire and in the server's store, and parsed only by the normalizer)."""
        data = await asyncio.to_thread(read_json, opened, bar.read)
        if len(data) <= INLINE_LIMIT:
            return await self.ingest(user_id, device, data, timeout=None)
        packed = await asyncio.to_thread(pack, data)
        del data
        key = await self._upload_packed(user_id, device, packed, None)
        return await self._ingest_run(user_id, device, uploads=[key])

    async def _upload(self, user_id: str, device: str, payload: JsonPayload) -> str:
        """Stage a large payload in the store; a run's input then names it by key.

        A run's input is checkpointed with the thread, so megabytes go by reference.
        """
        return await self._stage(user_id, upload_item(device, payload))

    async def _upload_packed(
        self, user_id: str, device: str, packed: str, records: int | None, key: str | None = None
    ) -> str:
        """Stage a packed document (zlib, base64; see ``_files.pack``)."""
        return await self._stage(
            user_id, upload_item(device, packed, records=records, packed=True), key
        )

    async def _stage(self, user_id: str, value: dict[str, Any], key: str | None = None) -> str:
        key = key or uuid.uuid4().hex
        namespace = list(uploads_namespace(user_id))
        # index=False: an upload of megabytes is never searched by meaning.
        await self._retrier.call(
            lambda: self._sdk.store.put_item(
                namespace, key, value, index=False, headers=self._as(user_id)
            )
        )
        return key

    async def _ingest_run(
        self,
        user_id: str,
        device: str,
        uploads: Sequence[str] = (),
        payload: JsonPayload | None = None,
    ) -> IngestReport:
        """Run the ingestion graph on the user's thread and read its report.

        ``enqueue``: a delivery that overlaps a running one waits its turn instead
        of being refused, so none is lost. ``runs.wait`` (create and join in one
        request) subscribes to the run before it is queued; a separate
        create-then-join would, for a run that finished before the join, get the
        thread's latest state instead, which is another run's once several are queued.
        Retrying is safe because ingestion is idempotent on the server, so a run the
        server lost (it restarted mid-run) or failed for want of Postgres
        (`ServiceUnavailableError`, read from the state) is simply made again.
        """
        thread = await self.thread(user_id, INGESTION_GRAPH)
        run_input = ingestion_input(user_id, device, payload=payload, uploads=uploads)

        async def attempt() -> IngestReport:
            state = await self._sdk.runs.wait(
                thread,
                INGESTION_GRAPH,
                input=run_input,
                multitask_strategy="enqueue",
                raise_error=False,
                headers=self._as(user_id),
            )
            return report_from_state(state)

        return await self._retrier.call(attempt)


@asynccontextmanager
async def _deadline(seconds: float | None, what: str) -> AsyncIterator[None]:
    """Bound a block in time, raising :class:`AurenTimeoutError` when it runs over."""
    if seconds is None:
        yield
        return
    try:
        async with asyncio.timeout(seconds) as scope:
            yield
    except TimeoutError as exc:
        if isinstance(exc, AurenError) or not scope.expired():
            raise
        raise AurenTimeoutError(
            f"{what} did not finish within {seconds:g} s; the server keeps working on what "
            "it received, and sending it again is safe (ingestion is idempotent)"
        ) from exc


async def _check_whole_export(opened: OpenedSource) -> None:
    """Check a seekable export end to end before sending any of it (a fast parse that
    builds nothing), so a file damaged part-way stores nothing. A pipe cannot be read
    twice: its damage is found while sending, and the error carries what was ingested."""
    if not opened.stream.seekable():
        return
    start = opened.stream.tell()
    await asyncio.to_thread(check_apple_export, opened.stream)
    opened.stream.seek(start)


async def _next_chunk(chunks: AsyncIterator[Chunk]) -> Chunk | InvalidPayloadError | None:
    """The next chunk; the export's own damage as a value (to tell it from upload errors)."""
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None
    except InvalidPayloadError as exc:
        return exc


def _partial_failure(exc: InvalidPayloadError, partial: IngestReport) -> InvalidPayloadError:
    return InvalidPayloadError(
        f"{exc.message}; the {partial.records or 'earlier'} records before that point were "
        f"ingested ({partial.accepted} accepted, {partial.duplicates} duplicates, "
        f"{partial.rejected_count} rejected)",
        partial_report=partial,
    )
