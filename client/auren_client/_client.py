"""The async client: a thin layer over ``langgraph_sdk`` that speaks AUREN."""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from contextlib import ExitStack, aclosing, asynccontextmanager
from datetime import date
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

import httpx
from auren_contract import (
    ANALYSIS_GRAPH,
    INGESTION_GRAPH,
    INLINE_LIMIT,
    USER_GRAPHS,
    USER_HEADER,
    assistant_ref,
    uploads_namespace,
)
from langgraph_sdk.client import LangGraphClient

from ._analysis import (
    STREAM_MODES,
    AnalysisEvent,
    AnalysisResult,
    AnalysisStream,
)
from ._devices import DeviceCalls
from ._errors import (
    AurenError,
    AurenTimeoutError,
    DeviceConflictError,
    InvalidArgumentError,
    InvalidPayloadError,
    RunFailedError,
    translate,
)
from ._files import (
    PACKED_ENCODING,
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
from ._ids import check_device, check_metric, check_user
from ._ingest import JsonPayload, Payload, as_json_payload, fits_inline, report_from_state
from ._metrics import query_bounds
from ._models import DeviceConnection, IngestReport, MetricRow
from ._pipeline import RunPipeline, prefetch
from ._progress import IngestProgress
from ._retry import Retrier
from ._routes import Routes
from ._settings import resolve_api_key, resolve_url
from ._version import __version__

if TYPE_CHECKING:
    from ._sync import SyncAurenClient

T = TypeVar("T")


MultitaskStrategy = Literal["reject", "enqueue", "interrupt", "rollback"]


class AurenClient(DeviceCalls):
    """Async client for an AUREN deployment.

    Use it as an async context manager::

        async with AurenClient() as auren:
            report = await auren.ingest("user-alice", "oura", payload)

    ``url`` defaults to ``AUREN_URL`` (else ``http://127.0.0.1:2024``) and
    ``api_key`` to ``AUREN_API_KEY``. Every HTTP request times out after
    ``timeout`` seconds; calls that are safe to repeat are retried ``retries``
    times with exponential backoff starting at ``retry_backoff`` seconds.
    ``http_client`` replaces the HTTP client the client would build (for tests or
    a custom transport); its own timeouts apply, it gets ``url`` as ``base_url``
    and the API key header only if it has none, and :meth:`aclose` leaves it open.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        retry_backoff: float = 0.5,
        http_client: httpx.AsyncClient | None = None,
        token: str | None = None,
    ) -> None:
        try:
            self.url = resolve_url(url)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        # A user's token (a JWT from AUREN's issuer) instead of a service key: it
        # reaches only that user's data.
        api_key = None if token else resolve_api_key(api_key)
        self._owns_http = http_client is None
        self._http = http_client or _build_http_client(self.url, api_key, timeout, token)
        if http_client is not None and not str(http_client.base_url):
            http_client.base_url = httpx.URL(self.url)
        if http_client is not None and api_key and "x-api-key" not in http_client.headers:
            http_client.headers["x-api-key"] = api_key
        self._sdk = LangGraphClient(self._http)
        self._retrier = Retrier(self.url, retries=retries, backoff=retry_backoff)
        self._routes = Routes(self._http, self._retrier)
        self._threads: dict[tuple[str, str], str] = {}
        self._user_token = bool(token)

    def __repr__(self) -> str:
        return f"AurenClient(url={self.url!r})"  # never the API key

    @classmethod
    def sync(
        cls, url: str | None = None, api_key: str | None = None, **kwargs: Any
    ) -> SyncAurenClient:
        """A :class:`SyncAurenClient` with the same arguments."""
        from ._sync import SyncAurenClient

        return SyncAurenClient(url, api_key, **kwargs)

    async def __aenter__(self) -> AurenClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (only those of a client it built itself)."""
        if self._owns_http:
            await self._http.aclose()

    async def feedback(
        self, user_id: str, run_id: str, score: float, comment: str | None = None
    ) -> None:
        """Record the user's verdict on one of their analyses (``AnalysisResult.run_id``):
        ``score`` from 0 (bad) to 1 (good). It feeds the guardrails of the assistant's
        rollouts (mean feedback per version); recording it again replaces it."""
        check_user(user_id)
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise InvalidArgumentError(f"score must be a number from 0 to 1, got {score!r}")
        body = {"run_id": run_id, "score": score, "comment": comment}
        await self._routes.call(
            "POST",
            f"/users/{user_id}/feedback",
            user=user_id,
            json=body,
            refusals={422: InvalidArgumentError},
        )

    # -- devices -------------------------------------------------------------------

    async def connect_device(
        self,
        user_id: str,
        device: str,
        vendor_user_id: str | int | None = None,
        *,
        access_token: str | None = None,
        ingest_token: str | None = None,
    ) -> DeviceConnection:
        """Connect ``device`` to ``user_id``, optionally naming the vendor's user id.

        The server binds a vendor account to one user at a time: if that account is
        connected to another user this raises :class:`DeviceConflictError` and nothing is
        written. ``access_token``: the vendor API token the server uses to fetch what a
        webhook announces (WHOOP, Oura); it is stored encrypted and never returned.
        ``ingest_token``: the secret a device sends to push to ``/webhooks/apple_health``
        or ``/webhooks/manual`` (at least 16 characters; only its SHA-256 is kept).
        Connecting again replaces the connection, tokens included. Binding a vendor
        account takes a service API key (a user connects through :meth:`connect_url`).
        """
        check_user(user_id)
        check_device(device)
        vendor = None if vendor_user_id is None else str(vendor_user_id)
        if vendor is not None and not vendor.strip():
            raise InvalidArgumentError("vendor_user_id must not be empty")
        body = {
            "vendor_user_id": vendor,
            "access_token": access_token,
            "ingest_token": ingest_token,
        }
        answer = await self._routes.call(
            "PUT",
            f"/users/{user_id}/devices/{device}",
            user=user_id,
            json={k: v for k, v in body.items() if v is not None},
            refusals={409: DeviceConflictError, 422: InvalidArgumentError},
        )
        return DeviceConnection.from_dict(user_id, answer)

    async def devices(self, user_id: str) -> list[DeviceConnection]:
        """The user's device connections: vendor account, status, last sync (no tokens)."""
        check_user(user_id)
        answer = await self._routes.call("GET", f"/users/{user_id}/devices", user=user_id)
        return [DeviceConnection.from_dict(user_id, item) for item in answer]

    # -- ingestion -----------------------------------------------------------------

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
            if fits_inline(document):
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
        await self.thread(user_id, INGESTION_GRAPH)
        start_run = functools.partial(self._ingest_uploads, user_id, device)
        pipeline = RunPipeline(
            start_run, chunks_per_run=chunks_per_run, max_pending=max_pending,
            on_done=bar.ingested,
        )  # fmt: skip
        chunks = split_apple_export(
            CountingReader(opened.stream, bar.read, opened.head), batch_records
        )
        damage: InvalidPayloadError | None = None
        try:
            async with aclosing(prefetch(chunks)) as prefetched:
                while (chunk := await _next_chunk(prefetched)) is not None:
                    if isinstance(chunk, InvalidPayloadError):
                        damage = chunk
                        break
                    key = await self._upload_packed(user_id, device, chunk.packed, chunk.records)
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

    async def _ingest_uploads(self, user_id: str, device: str, keys: list[str]) -> IngestReport:
        return await self._ingest_run(user_id, device, uploads=keys)

    async def _ingest_run(
        self,
        user_id: str,
        device: str,
        *,
        payload: JsonPayload | None = None,
        uploads: list[str] | None = None,
    ) -> IngestReport:
        # Both keys, always: the thread outlives the run, and a key left out of the
        # input keeps the previous run's value (an inline payload after an upload
        # would otherwise still carry that upload's keys).
        run_input = {
            "user_id": user_id,
            "device": device,
            "payload": payload,
            "uploads": uploads or [],
            "backfill": None,
            "deletions": [],
        }
        return await self._run(user_id, INGESTION_GRAPH, run_input, report_from_state)

    async def _upload(self, user_id: str, device: str, payload: JsonPayload) -> str:
        """Stage a large payload in the store; a run's input then names it by key.

        A run's input is checkpointed with the thread, so megabytes go by reference.
        """
        return await self._stage(user_id, {"device": device, "payload": payload, "records": None})

    async def _upload_packed(
        self, user_id: str, device: str, packed: str, records: int | None
    ) -> str:
        """Stage a packed document (zlib, base64; see ``_files.pack``)."""
        value = {"device": device, "payload": packed, "encoding": PACKED_ENCODING}
        return await self._stage(user_id, {**value, "records": records})

    async def _stage(self, user_id: str, value: dict[str, Any]) -> str:
        key = uuid.uuid4().hex
        namespace = list(uploads_namespace(user_id))
        # index=False: an upload of megabytes is never searched by meaning.
        await self._retrier.call(
            lambda: self._sdk.store.put_item(
                namespace, key, value, index=False, headers=self._as(user_id)
            )
        )
        return key

    async def _run(
        self,
        user_id: str,
        graph: str,
        run_input: dict[str, Any],
        read: Callable[[Any], T],
    ) -> T:
        """Run ``graph`` on the user's thread and ``read`` its final state.

        ``enqueue``: a delivery that overlaps a running one waits its turn instead
        of being refused, so none is lost. ``runs.wait`` (create and join in one
        request) subscribes to the run before it is queued; a separate
        create-then-join would, for a run that finished before the join, get the
        thread's latest state instead, which is another run's once several are queued.
        Retrying is safe because ingestion is idempotent on the server, so a run the
        server lost (it restarted mid-run) or failed for want of Postgres
        (`ServiceUnavailableError`, read from the state) is simply made again.
        """
        thread = await self.thread(user_id, graph)

        async def attempt() -> T:
            state = await self._sdk.runs.wait(
                thread,
                graph,
                input=run_input,
                multitask_strategy="enqueue",
                raise_error=False,
                headers=self._as(user_id),
            )
            return read(state)

        return await self._retrier.call(attempt)

    async def thread(self, user_id: str, graph: str = INGESTION_GRAPH) -> str:
        """The id of the user's own thread of ``graph`` (the server assigns it, and
        derives it with a secret, so nobody else can name it)."""
        check_user(user_id)
        if graph not in USER_GRAPHS:
            raise InvalidArgumentError(f"graph must be one of {', '.join(USER_GRAPHS)}")
        known = self._threads.get((user_id, graph))
        if known is None:
            answer = await self._routes.call(
                "PUT", f"/users/{user_id}/threads/{graph}", user=user_id
            )
            known = self._threads[(user_id, graph)] = str(answer["thread_id"])
        return known

    def _as(self, user_id: str) -> dict[str, str]:
        """The header with which every per-user request names its user."""
        return {USER_HEADER: user_id}

    # -- analysis ------------------------------------------------------------------

    async def stream_analysis(
        self,
        user_id: str,
        request: str = "How is my recovery?",
        *,
        as_of: date | None = None,
        context: Mapping[str, Any] | None = None,
        assistant: str = ANALYSIS_GRAPH,
        multitask_strategy: MultitaskStrategy = "enqueue",
        timeout: float | None = None,  # noqa: ASYNC109  (bounds the run; cancels it on the server)
        resume_attempts: int = 3,
    ) -> AsyncGenerator[AnalysisEvent, None]:
        """Analyse the user's data, streaming ``progress``, ``finding``, ``token``, ``done``.

        ``enqueue`` by default: a follow-up question while one is being answered is
        answered next, as a person expects, rather than refused or cutting the first
        short. The run is streamed resumably: when the connection drops, the stream is
        joined again from the last event received (up to ``resume_attempts`` times), so
        no event is lost or repeated. Past ``timeout`` seconds the run is cancelled on
        the server and :class:`AurenTimeoutError` is raised. ``assistant`` is an assistant's
        name (``analysis-conservative``), its id, or ``analysis``: the server's default,
        which is the synced ``analysis-standard`` (and its rollout) once there is one.
        """
        thread = await self.thread(user_id, ANALYSIS_GRAPH)
        run_input: dict[str, Any] = {"user_id": user_id, "request": request, "as_of": None}
        if as_of is not None:
            run_input["as_of"] = as_of.isoformat()
        stream = AnalysisStream(self._sdk, thread, timeout, self._as(user_id))
        parts = self._sdk.runs.stream(
            thread,
            assistant_ref(assistant),
            input=run_input,
            context=dict(context) if context else None,
            stream_mode=STREAM_MODES,
            multitask_strategy=multitask_strategy,
            stream_resumable=True,
            on_disconnect="continue",
            headers=self._as(user_id),
        )
        try:
            async for event in stream.events(parts, resume_attempts):
                yield event
        except AurenError:
            raise
        except Exception as exc:
            raise translate(exc, self.url) from exc

    async def analyze(
        self, /, user_id: str, request: str = "How is my recovery?", **kwargs: Any
    ) -> AnalysisResult:
        """The same analysis without streaming: its final result."""
        result: AnalysisResult | None = None
        async for event in self.stream_analysis(user_id, request, **kwargs):
            if event.result is not None:
                result = event.result
        if result is None:  # pragma: no cover - stream_analysis always ends with done
            raise RunFailedError("the analysis stream ended without a result")
        return result

    # -- threads and memory ------------------------------------------------------------

    async def state(self, user_id: str, graph: str = INGESTION_GRAPH) -> dict[str, Any]:
        """The current state of the user's thread of ``graph`` (its last run's output)."""
        thread = await self.thread(user_id, graph)
        state = await self._retrier.call(
            lambda: self._sdk.threads.get_state(thread, headers=self._as(user_id))
        )
        values = state.get("values")
        return dict(values) if isinstance(values, Mapping) else {}

    async def history(
        self, user_id: str, graph: str = INGESTION_GRAPH, *, limit: int = 10
    ) -> list[dict[str, Any]]:
        """The user's thread checkpoints of ``graph``, newest first: values and metadata."""
        thread = await self.thread(user_id, graph)
        found = await self._retrier.call(
            lambda: self._sdk.threads.get_history(thread, limit=limit, headers=self._as(user_id))
        )
        return [
            {"values": h["values"], "metadata": h["metadata"], "created_at": h["created_at"]}
            for h in found
        ]

    async def memory(
        self,
        user_id: str,
        query: str | None = None,
        *,
        filter: Mapping[str, Any] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Findings remembered for the user, newest day first.

        ``filter`` takes ``{"analyzer": "hrv"}``; ``query`` keeps findings whose text has
        every word of it. Only this user's memory is read.
        """
        check_user(user_id)
        params = {"limit": str(limit)}
        if query:
            params["query"] = query
        if filter and filter.get("analyzer"):
            params["analyzer"] = str(filter["analyzer"])
        answer = await self._routes.call(
            "GET", f"/users/{user_id}/findings", user=user_id, params=params
        )
        return [dict(item) for item in answer]

    # -- metrics and the report ----------------------------------------------------

    async def report(self, user_id: str, *, days: int = 90, end: date | None = None) -> str:
        """The user's report as one self-contained HTML page (no script, no network):
        HRV, resting HR, sleep and training load with their normal bands and gaps, the
        findings with their rules and sources, devices and how fresh each metric is."""
        check_user(user_id)
        params = {"days": str(days)}
        if end is not None:
            params["end"] = end.isoformat()
        page = await self._routes.send(
            "GET", f"/users/{user_id}/report", user=user_id, params=params,
            refusals={422: InvalidArgumentError},
        )  # fmt: skip
        return page.text

    async def metrics(self, user_id: str, metric: str, start: date, end: date) -> list[MetricRow]:
        """The user's stored values of ``metric`` from ``start`` to ``end`` inclusive.

        Dates select local calendar days; datetimes select instants (samples by
        their timestamp, daily values by their day). A naive datetime is taken as
        UTC. Rows are sorted by day, then timestamp, then device. An unknown metric
        raises :class:`InvalidArgumentError` naming the nearest ones.
        """
        check_user(user_id)
        check_metric(metric)
        answer = await self._routes.call(
            "GET",
            f"/users/{user_id}/metrics/{metric}",
            user=user_id,
            params=query_bounds(start, end),
            refusals={400: InvalidArgumentError, 422: InvalidArgumentError},
        )
        return [MetricRow.from_dict(item) for item in answer]


def _build_http_client(
    url: str, api_key: str | None, timeout: float, token: str | None = None
) -> httpx.AsyncClient:
    headers = {"User-Agent": f"auren-client/{__version__}"}
    if api_key:
        headers["x-api-key"] = api_key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=url,
        headers=headers,
        timeout=httpx.Timeout(timeout),
        # No transport-level retries: the Retrier decides, with backoff, and knows
        # which calls are safe to repeat.
        transport=httpx.AsyncHTTPTransport(retries=0),
    )


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
    head = opened.head
    await asyncio.to_thread(check_apple_export, _Rewound(head, opened.stream))
    opened.stream.seek(start)


class _Rewound:
    """`head` (bytes already sniffed) followed by the rest of `stream`."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._stream.read(size)


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
