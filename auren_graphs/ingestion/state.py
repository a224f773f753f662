"""Input, state and output of the ingestion graph.

A run's input is checkpointed, so large payloads travel by reference: the client stages
them in the store under `("uploads", user_id)` and passes their keys in `uploads`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from auren_contract import Device, IngestReport, RecordOutcomes, Rejection, Rejections
from auren_graphs.canonical import MAX_IGNORED_TYPES, OTHER_TYPES


class IngestError(BaseModel):
    """Why a payload was refused as a whole; nothing from it was stored."""

    kind: Literal["invalid_payload", "invalid_input", "forbidden", "vendor"] = Field(
        description="What was wrong (forbidden: the run may not act for that user; vendor: "
        "the vendor's API refused or failed a backfill)."
    )
    message: str = Field(description="What is wrong with it, for the sender.")


def including(
    report: IngestReport,
    *,
    limit: int,
    accepted: int = 0,
    duplicates: int = 0,
    updated: int = 0,
    records: int = 0,
    rejected: Sequence[Rejection] = (),
    skipped: Sequence[Rejection] = (),
    outcomes: Mapping[str, int] | None = None,
    ignored: Mapping[str, int] | None = None,
) -> IngestReport:
    """The run's report with one more batch's results added. The counts are exact; the
    reasons are kept up to `limit` and the ignored types named up to MAX_IGNORED_TYPES."""

    def capped(kept: list[Rejection], more: Sequence[Rejection]) -> list[Rejection]:
        return [*kept, *more[: max(0, limit - len(kept))]]

    merged = dict(report.ignored)
    for kind, count in (ignored or {}).items():
        name = kind if kind in merged or len(merged) < MAX_IGNORED_TYPES else OTHER_TYPES
        merged[name] = merged.get(name, 0) + count
    return IngestReport(
        accepted=report.accepted + accepted,
        deleted=report.deleted,
        duplicates=report.duplicates + duplicates,
        updated=report.updated + updated,
        records=report.records + records,
        rejected=Rejections(capped(report.rejected, rejected)),
        rejected_count=report.rejected_count + len(rejected),
        skipped=Rejections(capped(report.skipped, skipped)),
        skipped_count=report.skipped_count + len(skipped),
        outcomes=report.outcomes + RecordOutcomes.from_dict(outcomes or {}),
        ignored=merged,
    )


class BackfillRequest(BaseModel):
    """Fetch the user's history from the vendor's API instead of taking a payload."""

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The backfill's id: asking again with the same id resumes it.",
    )
    days: int = Field(default=30, ge=1, le=3650, description="Days of history to fetch.")


class IngestionInput(BaseModel):
    """One delivery of device data for one user."""

    user_id: str | None = Field(
        default=None,
        description="The user the data belongs to: the authenticated caller. Optional; when "
        "given it must be them (a system run names its user here, proven by its thread).",
    )
    device: Device = Field(description="The device or source the payload comes from.")
    payload: Any = Field(
        default=None,
        description="The vendor's own document (JSON value, or export.xml text); kind detected.",
    )
    uploads: list[str] = Field(
        default_factory=list,
        description="Keys of payloads the caller staged in the store (auren_contract."
        "uploads_namespace of the user).",
    )
    deletions: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="Instead of a payload: vendor records the vendor deleted (e.g. "
        "`whoop:sleep:<id>`, `oura:daily_sleep:<id>`); every value they produced is removed.",
    )
    backfill: BackfillRequest | None = Field(
        default=None,
        description="Instead of a payload: page through the vendor's API (WHOOP, Oura) for "
        "the last `days` days, with the connection's tokens.",
    )


class IngestionOutput(BaseModel):
    """The run's answer: a report, or why the payload was refused."""

    report: IngestReport = Field(
        default_factory=IngestReport, description="Accepted, duplicates, rejected."
    )
    error: IngestError | None = Field(default=None, description="Set when nothing was stored.")


class IngestionState(IngestionInput, IngestionOutput):
    """Working state: small and bounded; the data itself goes to the store."""

    vendor_user_id: str | None = Field(
        default=None, description="Vendor account connected for this user and device."
    )
    cursor: int = Field(default=0, description="How many staged uploads are done.")
    backfill_cursor: dict[str, Any] | None = Field(
        default=None,
        description="Where a backfill is: collection, page token, pages and records so far.",
    )
