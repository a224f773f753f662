"""Analysis runs as typed events: what the server streams, in the client's words.

The analysis graph streams custom events (`progress`, `finding`, `token`, whoever
narrates) and its state. These become :class:`AnalysisEvent` values of four types:
``progress``, ``finding``, ``token`` and, last, ``done`` carrying the :class:`AnalysisResult`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import StreamMode, StreamPart

from ._errors import AurenTimeoutError, run_failed

EventType = Literal["progress", "finding", "token", "done"]
STREAM_MODES: list[StreamMode] = ["custom", "values"]


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis: findings with their numbers, rules and grades, and a narrative."""

    findings: list[dict[str, Any]]
    narrative: str
    narrative_source: str
    fallback_reason: str | None
    assessment: dict[str, Any]
    method_version: str
    run_id: str | None = None

    @classmethod
    def from_state(cls, state: Mapping[str, Any], run_id: str | None = None) -> AnalysisResult:
        return cls(
            findings=list(state.get("findings") or []),
            narrative=str(state.get("narrative") or ""),
            narrative_source=str(state.get("narrative_source") or ""),
            fallback_reason=state.get("fallback_reason"),
            assessment=dict(state.get("assessment") or {}),
            method_version=str(state.get("method_version") or ""),
            run_id=run_id,
        )


@dataclass(frozen=True)
class AnalysisEvent:
    """One streamed event. ``text`` is set for tokens, ``finding`` for findings,
    ``result`` for ``done``; ``data`` is the raw payload."""

    type: EventType
    data: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    finding: Mapping[str, Any] | None = None
    result: AnalysisResult | None = None
    source: str | None = None


@dataclass
class EventTranslator:
    """Turns the SDK's stream parts of one run into AnalysisEvents."""

    run_id: str | None = None
    last_state: Mapping[str, Any] = field(default_factory=dict)

    def translate(self, event: str, data: Any) -> list[AnalysisEvent]:
        if event == "metadata" and isinstance(data, Mapping):
            self.run_id = data.get("run_id", self.run_id)
        elif event == "values" and isinstance(data, Mapping):
            self.last_state = data
        elif event == "custom" and isinstance(data, Mapping):
            return _custom(data)
        elif event == "error":
            raise run_failed("analysis", dict(data) if isinstance(data, Mapping) else data)
        return []

    def done(self) -> AnalysisEvent:
        result = AnalysisResult.from_state(self.last_state, self.run_id)
        return AnalysisEvent("done", data=dict(self.last_state), result=result)


def _custom(data: Mapping[str, Any]) -> list[AnalysisEvent]:
    kind = data.get("event")
    if kind == "progress":
        return [AnalysisEvent("progress", data=data)]
    if kind == "finding":
        return [AnalysisEvent("finding", data=data, finding=data.get("finding"))]
    if kind == "token":
        return [
            AnalysisEvent(
                "token", data=data, text=str(data.get("text", "")), source=data.get("source")
            )
        ]
    return []


@dataclass
class ResumePoint:
    """Where a dropped stream is joined again, and how many replayed events it has.

    The dev server gives every event of one millisecond the same id (``<ms>-0``) and
    replays the events after the id it is given, so joining after the last id received
    would lose the rest of that millisecond. It is joined after the id just before, and
    the replayed events of the last id that had already arrived are dropped by count.
    """

    last_id: str | None = None
    received: int = 0  # events received with `last_id`

    def received_one(self, event_id: str | None) -> None:
        if not event_id:
            return
        if event_id == self.last_id:
            self.received += 1
        else:
            self.last_id, self.received = event_id, 1

    def join_after(self) -> str | None:
        ms, _, seq = (self.last_id or "").partition("-")
        if not (ms.isdigit() and seq.isdigit()):
            return self.last_id  # not a stream id of that form: join after it as it is
        return f"{ms}-{int(seq) - 1}" if int(seq) else f"{int(ms) - 1}-{2**64 - 1}"


@dataclass
class AnalysisStream:
    """One analysis run's events: resumed after a dropped connection, bounded in time."""

    sdk: LangGraphClient
    thread_id: str
    timeout: float | None
    headers: dict[str, str] = field(default_factory=dict)
    translator: EventTranslator = field(default_factory=EventTranslator)
    resume: ResumePoint = field(default_factory=ResumePoint)

    async def events(
        self, parts: AsyncIterator[StreamPart], resume_attempts: int
    ) -> AsyncIterator[AnalysisEvent]:
        loop = asyncio.get_running_loop()
        deadline = None if self.timeout is None else loop.time() + self.timeout
        attempts = replayed = 0
        while True:
            try:
                while (part := await self._next(parts, deadline)) is not None:
                    if replayed and part.id == self.resume.last_id:
                        replayed -= 1  # received before the connection dropped
                        continue
                    self.resume.received_one(part.id)
                    for event in self.translator.translate(part.event, part.data):
                        yield event
                break
            except httpx.TransportError:
                # A dropped connection: the run goes on (on_disconnect="continue"), so
                # join it again from the last event seen, once the run id is known.
                if self.translator.run_id is None or attempts >= resume_attempts:
                    raise
                attempts += 1
                await asyncio.sleep(0.2 * attempts)
                replayed = self.resume.received
                parts = self.sdk.runs.join_stream(
                    self.thread_id,
                    self.translator.run_id,
                    stream_mode=STREAM_MODES,
                    last_event_id=self.resume.join_after(),
                    headers=self.headers,
                )
        yield self.translator.done()

    async def _next(
        self, parts: AsyncIterator[StreamPart], deadline: float | None
    ) -> StreamPart | None:
        remaining = None if deadline is None else deadline - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(anext(parts, None), remaining)
        except TimeoutError:
            await self._cancel()
            raise AurenTimeoutError(
                f"the analysis did not finish within {self.timeout:g} s; its run was "
                "cancelled on the server, ask again or raise the timeout"
            ) from None

    async def _cancel(self) -> None:
        if self.translator.run_id is None:
            return
        with contextlib.suppress(Exception):  # best effort: the timeout is what matters
            await self.sdk.runs.cancel(self.thread_id, self.translator.run_id, headers=self.headers)
