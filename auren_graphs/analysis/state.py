"""Input, state and output of the analysis graph.

Parallel analyzers write the same keys in one step, so those keys have reducers:
`results` merges dicts, `findings` and `confidences` append. The first node resets them
(an update of None), so a thread's state holds one analysis, however often a user asks.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from auren_graphs.analysis.method import METHOD_VERSION


def merge_results(left: dict[str, Any], right: dict[str, Any] | None) -> dict[str, Any]:
    """Merge analyzer results; None starts afresh."""
    return {} if right is None else {**left, **right}


def append_or_reset(left: list[Any], right: list[Any] | None) -> list[Any]:
    """Append findings or confidences; None starts afresh."""
    return [] if right is None else [*left, *right]


class AnalysisInput(BaseModel):
    """A question about one user's data."""

    user_id: str | None = Field(
        default=None,
        description="The user whose data is analysed: the authenticated caller. Optional; "
        "when given it must be them.",
    )
    request: str = Field(
        default="How is my recovery?", max_length=2000, description="The person's question."
    )
    as_of: date | None = Field(
        default=None, description="Analyse up to this day (default: today, UTC)."
    )


class AnalysisOutput(BaseModel):
    """Findings and narrative of one analysis."""

    findings: Annotated[list[dict[str, Any]], append_or_reset] = Field(
        default_factory=list, description="What the method found, with numbers, rule and grade."
    )
    narrative: str = Field(default="", description="The findings in words.")
    narrative_source: Literal["model", "deterministic", ""] = Field(
        default="", description="Who wrote the narrative."
    )
    fallback_reason: str | None = Field(
        default=None, description="Why the deterministic writer was used instead of the model."
    )
    assessment: dict[str, Any] = Field(
        default_factory=dict, description="The method's newest row (section 9 fields)."
    )
    devices: dict[str, str] = Field(
        default_factory=dict, description="Which device each method input came from."
    )
    method_version: str = Field(default=METHOD_VERSION, description="Analysis method version.")
    assistant_id: str | None = Field(
        default=None,
        description="The assistant whose version ran: the run's own, or the default analysis "
        "assistant (analysis-standard) for a run of the bare graph once it is synced.",
    )
    assistant_version: int | None = Field(
        default=None,
        description="The assistant version used, when a rollout assigned one (else the "
        "assistant's current version was).",
    )
    cohort: Literal["candidate", "control"] | None = Field(
        default=None, description="The user's side of the assistant's rollout, if one is on."
    )
    rollout_id: str | None = Field(
        default=None, description="The rollout that assigned the version, if any."
    )


class AnalysisState(AnalysisInput, AnalysisOutput):
    """Working state, bounded: one analysis' inputs and results."""

    records: list[dict[str, Any]] = Field(
        default_factory=list, description="Method input records read from the store."
    )
    hrv_sdnn: dict[str, Any] | None = Field(
        default=None,
        description="Apple's SDNN spot checks in the window (days, newest day), if any: never "
        "analysed as HRV, but the reason is told when the user has no rMSSD.",
    )
    results: Annotated[dict[str, Any], merge_results] = Field(
        default_factory=dict, description="Each analyzer's fields for the newest day."
    )
    confidences: Annotated[list[dict[str, Any]], append_or_reset] = Field(
        default_factory=list, description="Each analyzer's data coverage, 0 to 1."
    )
    version_context: dict[str, Any] | None = Field(
        default=None,
        description="The chosen version's context (a rollout's assignment, or the default "
        "assistant's), used instead of the run's own.",
    )
    run_record: dict[str, Any] | None = Field(
        default=None, description="This run's guardrail record while a rollout is on."
    )
