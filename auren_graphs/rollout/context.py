"""Run-time options of the rollout graph: stages, guardrails, monitoring and approval.

The options of a rollout are the context of the run that starts it; the first node
copies them into the state, so the runs that resume it later (approvals, the ticker's
ticks) follow the same plan whatever context they carry.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import BaseModel, Field, field_validator

GuardrailName = Literal["success", "narrative", "latency", "alerts", "feedback"]


class RolloutContext(BaseModel):
    """What a rollout assistant (or the run that starts a rollout) may set."""

    stages: list[int] = Field(
        default_factory=lambda: [10, 50, 100],
        min_length=1,
        max_length=10,
        description="Percent of users on the candidate at each stage, increasing, ending at 100.",
    )
    health_threshold: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="A stage passes when every guardrail's candidate/control health ratio "
        "is at least this (1.0: no worse than control).",
    )
    guardrail_thresholds: dict[GuardrailName, float] = Field(
        default_factory=dict,
        description="Per-guardrail thresholds overriding health_threshold "
        "(success, narrative, latency, alerts, feedback).",
    )
    latency_floor_seconds: float = Field(
        default=1.0,
        ge=0,
        le=600,
        description="p95 latencies below this count as this, so sub-second noise never fails "
        "a stage.",
    )
    window_seconds: float = Field(
        default=3600.0,
        ge=1,
        le=30 * 86400,
        description="Shortest monitoring time of a stage; the window ends at the first tick "
        "after it (or at an explicit advance). A window that ends with fewer runs than "
        "min_sample keeps waiting for them.",
    )
    min_sample: int = Field(
        default=20,
        ge=1,
        le=1_000_000,
        description="Analysis runs a stage needs from the candidate (and from control, "
        "cumulatively) before it is decided; `advance --force` decides on fewer.",
    )
    approval_required: bool = Field(
        default=True, description="Wait for an operator's approval of the plan before stage 1."
    )
    tick_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="How often AUREN's ticker looks at the rollout once a stage's window "
        "is over, until the stage is decided (seconds).",
    )
    failure_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="An analysis run still unfinished this long after it started counts as failed.",
    )
    baseline_runs: int = Field(
        default=500,
        ge=0,
        le=100_000,
        description="Most recent earlier runs of each version read as its historical baseline.",
    )

    @field_validator("stages")
    @classmethod
    def _increasing_to_100(cls, stages: list[int]) -> list[int]:
        if any(not 1 <= s <= 100 for s in stages):
            raise ValueError("every stage is a percentage from 1 to 100")
        if any(b <= a for a, b in itertools.pairwise(stages)):
            raise ValueError("stages must increase")
        if stages[-1] != 100:
            raise ValueError("the last stage must be 100 (everyone on the candidate)")
        return stages

    @field_validator("guardrail_thresholds")
    @classmethod
    def _ratios(cls, thresholds: dict[GuardrailName, float]) -> dict[GuardrailName, float]:
        if any(not 0 < v <= 1 for v in thresholds.values()):
            raise ValueError("a guardrail threshold is a ratio in (0, 1]")
        return thresholds

    def threshold(self, guardrail: GuardrailName) -> float:
        return self.guardrail_thresholds.get(guardrail, self.health_threshold)
