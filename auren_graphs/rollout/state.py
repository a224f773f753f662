"""Input, state and output of the rollout graph.

One thread per assistant (the server derives its id from the assistant's with its own
secret: `auren_graphs.rollout.control`), so rollouts of one assistant run one after
another on it. Every field holds plain data (dicts,
lists, strings), so a checkpoint loads without our classes. The history is bounded:
the newest `HISTORY_LIMIT` decisions stay in the state, all of them in the store.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from auren_graphs.rollout.models import Status

HISTORY_LIMIT = 50


def bounded_history(left: list[dict[str, Any]], right: list[dict[str, Any]] | None) -> list[Any]:
    """Append decisions, keeping the newest HISTORY_LIMIT; None starts afresh."""
    if right is None:
        return []
    return [*left, *right][-HISTORY_LIMIT:]


class RolloutInput(BaseModel):
    """Roll a new version of an analysis assistant out to its users."""

    assistant: str = Field(
        min_length=1, description="The analysis assistant: its name or its assistant id."
    )
    candidate_version: int = Field(ge=1, description="The assistant version to roll out.")
    control_version: int | None = Field(
        default=None, ge=1, description="The version users stay on (default: the current one)."
    )
    rollout_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Id of the rollout (default: derived from the run id).",
    )
    requested_by: str | None = Field(
        default=None, max_length=200, description="Who asked for the rollout."
    )


class RolloutOutput(BaseModel):
    """Where the rollout stands, and every decision taken so far."""

    rollout_id: str | None = Field(default=None, description="Id of the rollout.")
    assistant_id: str | None = Field(default=None, description="The assistant rolled out.")
    status: Status | None = Field(default=None, description="Where the rollout is.")
    stage_index: int = Field(default=-1, description="Current stage (0-based; -1: none yet).")
    percent: int = Field(default=0, description="Share of users (0-100) on the candidate.")
    plan: dict[str, Any] | None = Field(default=None, description="The plan put up for approval.")
    history: Annotated[list[dict[str, Any]], bounded_history] = Field(
        default_factory=list,
        description="Decisions (stage, time, metrics, verdict), newest last, bounded.",
    )
    reason: str | None = Field(default=None, description="Why the rollout ended as it did.")
    waiting: str | None = Field(
        default=None,
        description="Why the current stage, its window over, still waits (too few runs).",
    )
    error: dict[str, Any] | None = Field(
        default=None,
        description="Why the last start was refused ({kind: invalid|conflict, message}).",
    )


class RolloutState(RolloutInput, RolloutOutput):
    """Working state of one rollout."""

    assistant_name: str = Field(default="", description="The assistant's name.")
    graph_id: str = Field(default="", description="The assistant's graph.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="The rollout's options (RolloutContext), fixed at start."
    )
    candidate: dict[str, Any] = Field(
        default_factory=dict,
        description="The candidate version: version, context, context_hash.",
    )
    control: dict[str, Any] = Field(
        default_factory=dict, description="The control version: version, context, context_hash."
    )
    baseline: dict[str, Any] = Field(
        default_factory=dict, description="Each version's metrics from earlier runs."
    )
    analysis: dict[str, Any] = Field(
        default_factory=dict, description="The candidate against control, before any user sees it."
    )
    approval: dict[str, Any] | None = Field(
        default=None, description="The operator's answer at the gate: decision, by, at."
    )
    window_started_at: str | None = Field(
        default=None, description="When the current stage's monitoring began (UTC)."
    )
    window_ends_at: str | None = Field(
        default=None, description="The earliest end of the current stage's monitoring (UTC)."
    )
    window_closed: bool = Field(default=False, description="The current window has ended.")
    abort: dict[str, Any] | None = Field(
        default=None, description="An operator's abort while monitoring: by, at, reason."
    )
    verdict: dict[str, Any] | None = Field(
        default=None, description="The last stage decision's verdict."
    )
    force: bool = Field(
        default=False,
        description="An operator's `advance --force`: decide this stage on the runs so far.",
    )
    seq: int = Field(default=0, description="Decisions recorded so far (numbers store keys).")
