"""Run-time options of the analysis graph: the method's choices and the narrative's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from auren_graphs.analysis.method import MethodOptions


class AnalysisContext(BaseModel):
    """What an analysis assistant version may vary. Defaults equal the published method."""

    swc_multiplier: float = Field(
        default=0.5,
        gt=0,
        le=3,
        description="Half-width of the normal band in reference SDs (0.5 SD SWC; 1.0 is stricter).",
    )
    acute_multiplier: float = Field(
        default=1.0, gt=0, le=3, description="SDs below the reference for an acute HRV drop."
    )
    default_sleep_need_hours: float = Field(
        default=8.0, gt=0, le=24, description="Nightly sleep need when the device gives none."
    )
    alert_after_days: int = Field(
        default=1,
        ge=1,
        le=30,
        description="Consecutive below-normal HRV days before an alert finding (E choice, Q3).",
    )
    lookback_days: int = Field(
        default=120, ge=14, le=730, description="Days of history read for each analysis."
    )
    model: str = Field(default="gpt-4o-mini", description="OpenAI chat model for the narrative.")
    temperature: float = Field(default=0.2, ge=0, le=2, description="Model sampling temperature.")
    style: Literal["concise", "detailed"] = Field(
        default="concise", description="How long the narrative is."
    )
    language: str = Field(default="English", description="Language of the model narrative.")
    model_timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="Timeout of one model call."
    )
    model_max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries (with backoff) of a failed model call."
    )

    def method_options(self) -> MethodOptions:
        return MethodOptions(
            swc_multiplier=self.swc_multiplier,
            acute_multiplier=self.acute_multiplier,
            default_sleep_need_hours=self.default_sleep_need_hours,
            alert_after_days=self.alert_after_days,
        )
