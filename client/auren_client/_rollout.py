"""Staged rollouts of analysis assistant versions (``client.rollout``) and user feedback.

A rollout runs on the server as the ``rollout`` graph, on one thread per assistant (its
id derived from the assistant's). It plans, waits for approval (an interrupt), then
gives the candidate version to 10%, 50% and 100% of users, monitoring guardrails after
each step, and completes (the candidate becomes the assistant's latest version) or
rolls back by itself. This module starts it, reads its status and history from the
store, and answers its interrupts: approve, reject, abort, advance.

Rollout control needs a service API key: a client built with a user ``token`` refuses
every call here before sending anything (the server would refuse it too).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from langgraph_sdk.client import LangGraphClient

from ._assistants import assistant_id
from ._errors import (
    AurenError,
    AuthenticationError,
    InvalidArgumentError,
    NotFoundError,
    RequestRejectedError,
    UnexpectedResponseError,
    run_failed,
    translate,
)
from ._retry import Retrier

T = TypeVar("T")

#: The graph that runs rollouts (its name in ``langgraph.json``).
ROLLOUT_GRAPH = "rollout"
ACTIVE_STATUSES = frozenset({"planning", "awaiting_approval", "rolling_out"})
_BUSY_RETRIES = 40
_BUSY_PAUSE = 0.25
_HISTORY_PAGE = 200


class RolloutConflictError(AurenError):
    """The assistant already has an active rollout, or the rollout is not where the call
    expects it (approving a rollout that is not waiting for approval, for example)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- what the client returns ------------------------------------------------------------


@dataclass(frozen=True)
class RolloutDecision:
    """One entry of a rollout's history: what was decided, when, at which stage, and why."""

    seq: int
    event: str
    at: str
    stage: int | None = None
    percent: int | None = None
    verdict: str | None = None
    reason: str | None = None
    by: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> RolloutDecision:
        stage = raw.get("stage")
        return cls(
            seq=int(raw.get("seq") or 0),
            event=str(raw.get("event") or ""),
            at=str(raw.get("at") or ""),
            stage=stage if isinstance(stage, int) else None,
            percent=raw.get("percent") if isinstance(raw.get("percent"), int) else None,
            verdict=raw.get("verdict"),
            reason=raw.get("reason"),
            by=raw.get("by"),
            metrics=dict(raw.get("metrics") or {}),
            data=dict(raw),
        )

    def describe(self) -> str:
        stage = "" if self.stage is None else f" stage {self.stage + 1} ({self.percent}%)"
        who = f" by {self.by}" if self.by else ""
        why = f": {self.reason}" if self.reason else ""
        return f"#{self.seq} {self.at} {self.event}{stage}{who}{why}"


@dataclass(frozen=True)
class RolloutStatus:
    """Where a rollout stands (from the server's store), with its whole history."""

    rollout_id: str
    assistant_id: str
    assistant_name: str
    status: str
    stage_index: int
    percent: int
    stages: list[int]
    candidate_version: int
    control_version: int
    thread_id: str
    started_at: str
    updated_at: str
    window_ends_at: str | None
    reason: str | None
    requested_by: str | None
    plan: dict[str, Any] | None
    history: list[RolloutDecision]

    @classmethod
    def of(cls, record: Mapping[str, Any], history: Sequence[RolloutDecision]) -> RolloutStatus:
        try:
            return cls(
                rollout_id=str(record["rollout_id"]),
                assistant_id=str(record["assistant_id"]),
                assistant_name=str(record.get("assistant_name") or record["assistant_id"]),
                status=str(record["status"]),
                stage_index=int(record.get("stage_index", -1)),
                percent=int(record.get("percent") or 0),
                stages=[int(s) for s in record.get("stages") or []],
                candidate_version=int(record["candidate"]["version"]),
                control_version=int(record["control"]["version"]),
                thread_id=str(record.get("thread_id") or ""),
                started_at=str(record.get("started_at") or ""),
                updated_at=str(record.get("updated_at") or ""),
                window_ends_at=record.get("window_ends_at"),
                reason=record.get("reason"),
                requested_by=record.get("requested_by"),
                plan=record.get("plan"),
                history=sorted(history, key=lambda d: d.seq),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedResponseError(
                f"the server holds a rollout record this client does not understand ({exc!r}); "
                "are client and server from the same AUREN version?"
            ) from None

    @property
    def active(self) -> bool:
        """The rollout still holds its assistant (planning, awaiting approval, rolling out)."""
        return self.status in ACTIVE_STATUSES

    @property
    def stages_passed(self) -> list[int]:
        """Percentages of the stages that passed, in order (each at most once)."""
        return [d.percent or 0 for d in self.history if d.event == "stage_passed"]

    def lines(self) -> list[str]:
        stage = (
            f"stage {self.stage_index + 1} of {len(self.stages)}"
            if self.stage_index >= 0
            else "no stage yet"
        )
        out = [
            f"rollout    {self.rollout_id} of {self.assistant_name} ({self.assistant_id})",
            f"status     {self.status}, {stage}, {self.percent}% of users on the candidate",
            f"versions   candidate v{self.candidate_version}, control v{self.control_version}",
            f"stages     {', '.join(f'{s}%' for s in self.stages)}",
        ]
        if self.status == "rolling_out" and self.window_ends_at:
            out.append(f"window     ends at {self.window_ends_at} (or at `auren rollout advance`)")
        if self.status == "awaiting_approval":
            out.append("waiting    for approval: `auren rollout approve|reject ASSISTANT`")
        if self.reason:
            out.append(f"reason     {self.reason}")
        out.append("history")
        out += [f"  {d.describe()}" for d in self.history]
        return out


# -- the manager -------------------------------------------------------------------------


class RolloutManager:
    """``AurenClient.rollout``: start, follow and steer staged rollouts.

    ``assistant`` is an analysis assistant's name (as in ``assistants/``) or its id.
    Calls that answer the rollout (approve, reject, abort, advance) resume its interrupt
    once; if the rollout's thread is busy for a moment (its cron's tick) they wait and
    try again. They are never blindly repeated: each one is a decision.
    """

    def __init__(
        self,
        sdk: LangGraphClient,
        retrier: Retrier,
        *,
        user_token: bool = False,
        graph: str = ROLLOUT_GRAPH,
    ) -> None:
        self.sdk = sdk
        self.retrier = retrier
        self.graph = graph
        self._user_token = user_token

    async def start(
        self,
        assistant: str,
        candidate_version: int,
        control_version: int | None = None,
        *,
        stages: Sequence[int] | None = None,
        health_threshold: float | None = None,
        window_seconds: float | None = None,
        min_sample: int | None = None,
        approval_required: bool | None = None,
        tick_seconds: int | None = None,
        options: Mapping[str, Any] | None = None,
        by: str | None = None,
        rollout_id: str | None = None,
    ) -> RolloutStatus:
        """Propose rolling ``candidate_version`` out over ``control_version`` (default:
        the assistant's current version). Returns once the plan waits for approval (or,
        with ``approval_required=False``, once stage 1 is monitored).

        Options left out come from the rollout assistant (``assistants/rollout-default``
        or the graph's defaults); ``options`` sets any other context field of the graph.
        A second rollout of an assistant with an active one raises
        :class:`RolloutConflictError`, and nothing is started.
        """
        self._check_service()
        versions = {"candidate_version": candidate_version, "control_version": control_version}
        for name, version in versions.items():
            if version is not None and (not isinstance(version, int) or version < 1):
                raise InvalidArgumentError(f"{name} must be a version number >= 1, not {version!r}")
        found = await self._resolve(assistant)
        current = await self._record(found)
        if current is not None and current.get("status") in ACTIVE_STATUSES:
            raise RolloutConflictError(_conflict_message(assistant, current))
        context: dict[str, Any] = {
            key: value
            for key, value in {
                "stages": list(stages) if stages is not None else None,
                "health_threshold": health_threshold,
                "window_seconds": window_seconds,
                "min_sample": min_sample,
                "approval_required": approval_required,
                "tick_seconds": tick_seconds,
            }.items()
            if value is not None
        }
        context.update(options or {})
        rollout_id = rollout_id or uuid.uuid4().hex
        thread = await self._ensure_thread(found)
        run_input: dict[str, Any] = {
            "assistant": found,
            "candidate_version": candidate_version,
            "control_version": control_version,
            "rollout_id": rollout_id,
            "requested_by": by,
        }
        result = await self._busy_aware(
            lambda: self.sdk.runs.wait(
                thread,
                self.graph,
                input=run_input,
                context=context or None,
                multitask_strategy="reject",
                if_not_exists="create",
                raise_error=False,
            ),
            retry_busy=False,
            busy_message=f"assistant {assistant} has a rollout run in progress; try again",
        )
        _raise_for(result, assistant)
        return await self.status(found)

    async def status(self, assistant: str) -> RolloutStatus:
        """The assistant's current (or last) rollout, with every decision taken."""
        self._check_service()
        found = await self._resolve(assistant)
        record = await self._record(found)
        if record is None:
            raise NotFoundError(f"assistant {assistant} has never had a rollout", 404)
        return RolloutStatus.of(record, await self._history(found, str(record["rollout_id"])))

    async def approve(self, assistant: str, *, by: str | None = None) -> RolloutStatus:
        """Approve the plan: stage 1 starts. Returns once it is being monitored."""
        value = {"decision": "approve", "by": by or "operator", "at": _now()}
        return await self._answer(assistant, value, {"awaiting_approval"}, "approve")

    async def reject(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        """Reject the plan: nobody is assigned the candidate and the assistant is untouched."""
        value = {"decision": "reject", "by": by or "operator", "at": _now(), "reason": reason}
        return await self._answer(assistant, value, {"awaiting_approval"}, "reject")

    async def abort(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        """Stop the rollout: waiting for approval, it is rejected; rolling out, it rolls
        back (everyone on control, the assistant's latest version back on control)."""
        value = {"action": "abort", "by": by or "operator", "at": _now(), "reason": reason}
        return await self._answer(assistant, value, {"awaiting_approval", "rolling_out"}, "abort")

    async def advance(self, assistant: str, *, by: str | None = None) -> RolloutStatus:
        """End the current monitoring window now (instead of at the next tick after it):
        the stage is decided on the runs so far, then the next one starts or it ends."""
        value = {"action": "advance", "by": by or "operator", "at": _now()}
        return await self._answer(assistant, value, {"rolling_out"}, "advance")

    # -- internals ------------------------------------------------------------------------

    def _check_service(self) -> None:
        if self._user_token:
            raise AuthenticationError(
                "rollouts and feedback records need a service API key (api_key= or "
                "AUREN_API_KEY); this client was built with a user token",
                403,
            )

    async def _resolve(self, assistant: str) -> str:
        """The assistant's id: given as is, derived from its name, or found by name."""
        if not isinstance(assistant, str) or not assistant.strip():
            raise InvalidArgumentError(f"assistant must be a name or an id, got {assistant!r}")
        try:
            return str(uuid.UUID(assistant))
        except ValueError:
            pass
        derived = assistant_id(assistant)
        try:
            await self.retrier.call(functools.partial(self.sdk.assistants.get, derived))
            return derived
        except NotFoundError:
            pass
        found = await self.retrier.call(
            lambda: self.sdk.assistants.search(name=assistant, limit=100)
        )
        matches = [a for a in found if a.get("name") == assistant]
        if len(matches) != 1:
            raise NotFoundError(
                f"no assistant named {assistant!r}"
                if not matches
                else f"{len(matches)} assistants are named {assistant!r}; use an id",
                404,
            )
        return str(matches[0]["assistant_id"])

    async def _record(self, assistant: str) -> dict[str, Any] | None:
        value = await self._get_value(["rollouts", assistant], "active")
        return dict(value) if value is not None else None

    async def _history(self, assistant: str, rollout_id: str) -> list[RolloutDecision]:
        decisions: list[RolloutDecision] = []
        while True:
            page = await self.retrier.call(
                functools.partial(
                    self.sdk.store.search_items,
                    ["rollouts", assistant, rollout_id],
                    limit=_HISTORY_PAGE,
                    offset=len(decisions),
                )
            )
            items = page.get("items") or []
            decisions += [RolloutDecision.of(item.get("value") or {}) for item in items]
            if len(items) < _HISTORY_PAGE:
                return decisions

    async def _get_value(self, namespace: list[str], key: str) -> Mapping[str, Any] | None:
        try:
            item = await self.retrier.call(lambda: self.sdk.store.get_item(namespace, key))
        except NotFoundError:
            return None
        value = item.get("value") if item else None
        return value if isinstance(value, Mapping) else None

    async def _ensure_thread(self, assistant: str) -> str:
        thread = _rollout_thread(assistant)
        # No user_id in the metadata: no user token reaches this thread.
        await self.retrier.call(
            lambda: self.sdk.threads.create(
                thread_id=thread,
                if_exists="do_nothing",
                metadata={"graph": ROLLOUT_GRAPH, "assistant_id": assistant},
            )
        )
        return thread

    async def _answer(
        self, assistant: str, value: dict[str, Any], expected: set[str], verb: str
    ) -> RolloutStatus:
        current = await self.status(assistant)
        if current.status not in expected:
            raise RolloutConflictError(
                f"cannot {verb} rollout {current.rollout_id} of {current.assistant_name}: it is "
                f"{current.status.replace('_', ' ')}"
                + (f" ({current.reason})" if current.reason else "")
            )
        thread = current.thread_id or _rollout_thread(current.assistant_id)
        result = await self._busy_aware(
            lambda: self.sdk.runs.wait(
                thread,
                self.graph,
                command={"resume": value},
                multitask_strategy="reject",
                if_not_exists="create",
                raise_error=False,
            ),
            retry_busy=True,
            busy_message=f"the rollout of {current.assistant_name} stayed busy; try again",
        )
        _raise_for(result, assistant)
        return await self.status(current.assistant_id)

    async def _busy_aware(
        self, fn: Callable[[], Awaitable[T]], *, retry_busy: bool, busy_message: str
    ) -> T:
        """Call once; a 409 (the thread is running something) waits and retries if allowed."""
        for _ in range(_BUSY_RETRIES if retry_busy else 1):
            try:
                return await fn()
            except Exception as exc:
                mapped = translate(exc, self.retrier.url)
                if isinstance(mapped, RequestRejectedError) and mapped.status_code == 409:
                    await asyncio.sleep(_BUSY_PAUSE)
                    continue
                if mapped is exc:
                    raise
                raise mapped from exc
        raise RolloutConflictError(busy_message)


def _conflict_message(assistant: str, record: Mapping[str, Any]) -> str:
    candidate = (record.get("candidate") or {}).get("version")
    return (
        f"assistant {assistant} already has an active rollout {record.get('rollout_id')} "
        f"({str(record.get('status')).replace('_', ' ')}, {record.get('percent', 0)}% on "
        f"v{candidate}); approve, reject or abort it before starting another"
    )


def _raise_for(result: object, assistant: str) -> None:
    """A rollout run's answer: its refusal or failure as an error, else nothing."""
    if not isinstance(result, Mapping):
        raise UnexpectedResponseError(f"the rollout run answered {result!r}")
    failure = result.get("__error__")
    if isinstance(failure, Mapping):
        raise run_failed("rollout", dict(failure))
    error = result.get("error")
    if isinstance(error, Mapping):
        message = str(error.get("message") or error)
        if error.get("kind") == "conflict":
            raise RolloutConflictError(message)
        raise InvalidArgumentError(f"the rollout of {assistant} was refused: {message}")


# -- the synchronous twin ----------------------------------------------------------------


class _Runner(Protocol):
    def __call__(self, coro: Coroutine[Any, Any, T], /) -> T: ...


class SyncRolloutManager:
    """``SyncAurenClient.rollout``: the same methods as :class:`RolloutManager`."""

    def __init__(self, manager: RolloutManager, run: _Runner) -> None:
        self._manager = manager
        self._run = run

    def start(
        self,
        assistant: str,
        candidate_version: int,
        control_version: int | None = None,
        **kwargs: Any,
    ) -> RolloutStatus:
        return self._run(
            self._manager.start(assistant, candidate_version, control_version, **kwargs)
        )

    def status(self, assistant: str) -> RolloutStatus:
        return self._run(self._manager.status(assistant))

    def approve(self, assistant: str, *, by: str | None = None) -> RolloutStatus:
        return self._run(self._manager.approve(assistant, by=by))

    def reject(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        return self._run(self._manager.reject(assistant, by=by, reason=reason))

    def abort(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        return self._run(self._manager.abort(assistant, by=by, reason=reason))

    def advance(self, assistant: str, *, by: str | None = None) -> RolloutStatus:
        return self._run(self._manager.advance(assistant, by=by))


#: An assistant's rollouts run one after another on one thread of the service's.
_ROLLOUT_THREADS = uuid.UUID("6f1c1d2e-8f5a-4a63-9a43-2f7f6d0b9e11")


def _rollout_thread(assistant_id: str) -> str:
    return str(uuid.uuid5(_ROLLOUT_THREADS, f"{assistant_id}/{ROLLOUT_GRAPH}"))
