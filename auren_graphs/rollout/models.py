"""What the ops routes take and answer about rollouts (typed; the OpenAPI comes from here).

Plain pydantic, nothing of the server: the ops client (`auren_ops`) reads its answers
with these very models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal[
    "planning", "awaiting_approval", "rolling_out", "completed", "rolled_back", "rejected"
]
#: A rollout in one of these holds its assistant: no second one may start.
ACTIVE_STATUSES: frozenset[str] = frozenset({"planning", "awaiting_approval", "rolling_out"})


class StartRollout(BaseModel):
    """Roll `candidate_version` of an analysis assistant out over `control_version`."""

    candidate_version: int = Field(ge=1, description="The assistant version to roll out.")
    control_version: int | None = Field(
        default=None, ge=1, description="The version users stay on (default: the current one)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Rollout options (the rollout graph's context: stages, window_seconds, "
        "min_sample, approval_required, tick_seconds, thresholds...) over those of the "
        "synced `rollout-default` assistant, or the graph's defaults.",
    )
    by: str | None = Field(default=None, max_length=200, description="Who asks for it.")
    rollout_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Id of the rollout (default: a new one).",
    )


class Answer(BaseModel):
    """An operator's answer to a waiting rollout."""

    by: str | None = Field(default=None, max_length=200, description="Who decides (kept).")
    reason: str | None = Field(default=None, max_length=2000, description="Why (kept).")


class Advance(Answer):
    """End the current stage's window now and decide it."""

    force: bool = Field(
        default=False,
        description="Decide even with fewer runs than min_sample (without: the stage keeps "
        "waiting for its runs).",
    )


class RolloutDecision(BaseModel):
    """One entry of a rollout's history: what was decided, when, at which stage, and why."""

    seq: int
    event: str = Field(
        description="proposed, approved, rejected, stage_started, "
        "stage_waiting, stage_passed, stage_failed, completed, rolled_back."
    )
    at: str
    stage: int | None = None
    percent: int | None = None
    verdict: str | None = None
    reason: str | None = None
    by: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict, description="The whole entry.")

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> RolloutDecision:
        def text(key: str) -> str | None:
            value = raw.get(key)
            return None if value is None else str(value)

        def number(key: str) -> int | None:
            value = raw.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            seq=number("seq") or 0,
            event=str(raw.get("event") or ""),
            at=str(raw.get("at") or ""),
            stage=number("stage"),
            percent=number("percent"),
            verdict=text("verdict"),
            reason=text("reason"),
            by=text("by"),
            metrics=dict(raw.get("metrics") or {}),
            data=dict(raw),
        )


class RolloutStatus(BaseModel):
    """Where an assistant's current (or last) rollout stands, with its whole history."""

    rollout_id: str
    assistant_id: str
    assistant_name: str
    status: Status
    active: bool = Field(
        description="It holds the assistant: planning, awaiting approval, or rolling out."
    )
    stage_index: int = Field(description="Current stage (0-based; -1: none yet).")
    percent: int = Field(description="Share of users (0-100) on the candidate.")
    stages: list[int]
    candidate_version: int
    control_version: int
    thread_id: str
    started_at: str
    updated_at: str
    window_ends_at: str | None = None
    waiting: str | None = Field(
        default=None, description="Why the stage, its window over, still waits."
    )
    reason: str | None = Field(default=None, description="Why it ended as it did.")
    requested_by: str | None = None
    plan: dict[str, Any] | None = Field(
        default=None, description="The plan put up for approval (stages, thresholds, analysis)."
    )
    history: list[RolloutDecision]

    @classmethod
    def of(cls, record: Mapping[str, Any], history: Sequence[RolloutDecision]) -> RolloutStatus:
        return cls(
            rollout_id=str(record["rollout_id"]),
            assistant_id=str(record["assistant_id"]),
            assistant_name=str(record.get("assistant_name") or record["assistant_id"]),
            status=record["status"],
            active=record["status"] in ACTIVE_STATUSES,
            stage_index=int(record.get("stage_index", -1)),
            percent=int(record.get("percent") or 0),
            stages=[int(s) for s in record.get("stages") or []],
            candidate_version=int(record["candidate"]["version"]),
            control_version=int(record["control"]["version"]),
            thread_id=str(record.get("thread_id") or ""),
            started_at=str(record.get("started_at") or ""),
            updated_at=str(record.get("updated_at") or ""),
            window_ends_at=record.get("window_ends_at"),
            waiting=record.get("waiting"),
            reason=record.get("reason"),
            requested_by=record.get("requested_by"),
            plan=record.get("plan"),
            history=sorted(history, key=lambda d: d.seq),
        )
