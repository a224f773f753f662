"""Run-time options of the ingestion graph (assistant context, rendered by Studio)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IngestionContext(BaseModel):
    """Options an ingestion assistant may set."""

    report_limit: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description="How many refusal reasons a report lists (counts are always exact).",
    )
