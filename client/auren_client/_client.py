"""The async client: a thin layer over ``langgraph_sdk`` that speaks AUREN."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from datetime import date
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx
from langgraph_sdk.client import LangGraphClient

from auren_contract import (
    ANALYSIS_GRAPH,
    INGESTION_GRAPH,
    USER_GRAPHS,
    USER_HEADER,
    DeviceConnection,
    MetricRow,
    assistant_ref,
)

from ._analysis import (
    STREAM_MODES,
    AnalysisEvent,
    AnalysisResult,
    AnalysisStream,
)
from ._devices import DeviceCalls
from ._errors import (
    AurenError,
    DeviceConflictError,
    InvalidArgumentError,
    RunFailedError,
    translate,
)
from ._ids import check_device, check_metric, check_user
from ._ingest_calls import IngestCalls
from ._models import parsed
from ._retry import Retrier
from ._routes import Routes
from ._settings import resolve_api_key, resolve_url
from ._version import __version__

if TYPE_CHECKING:
    from ._sync import SyncAurenClient


MultitaskStrategy = Literal["reject", "enqueue", "interrupt", "rollback"]


class AurenClient(DeviceCalls, IngestCalls):
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
        ``score`` from 0 (bad) to 1 (good), else :class:`InvalidArgumentError` with the
        server's reason. It feeds the guardrails of the assistant's rollouts (mean feedback
        per version); recording it again replaces it."""
        check_user(user_id)
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
        return parsed(DeviceConnection.from_dict, answer, "device connection")

    async def devices(self, user_id: str) -> list[DeviceConnection]:
        """The user's device connections: vendor account, status, last sync (no tokens)."""
        check_user(user_id)
        answer = await self._routes.call("GET", f"/users/{user_id}/devices", user=user_id)
        return [parsed(DeviceConnection.from_dict, item, "device connection") for item in answer]

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
        raises :class:`InvalidArgumentError` naming the nearest ones, and so does a window
        the server will not read (reversed, or over ten years), with its reason.
        """
        check_user(user_id)
        check_metric(metric)
        answer = await self._routes.call(
            "GET",
            f"/users/{user_id}/metrics/{metric}",
            user=user_id,
            params={"start": _bound("start", start), "end": _bound("end", end)},
            refusals={400: InvalidArgumentError, 422: InvalidArgumentError},
        )
        return [parsed(MetricRow.from_dict, item, "metric row") for item in answer]


def _bound(name: str, bound: object) -> str:
    # The window's own rules (order, length) are the server's; this is only the type.
    if not isinstance(bound, date):
        raise InvalidArgumentError(f"{name} must be a date or datetime, got {bound!r}")
    return bound.isoformat()


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
