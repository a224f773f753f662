"""Prometheus metrics of AUREN's own work, served at `GET /metrics/auren`.

They live in their own registry, so they never mix with (or clash with) the server's
`/metrics`. Counters are per process: under `langgraph dev` the graphs run in the API
process, so one scrape sees everything. (With separate queue workers, as in the docker
deploy, ingestion counters grow in the workers; scrape them too, or use a push gateway.)

Labels are small closed sets (devices, vendors, outcomes, reason classes), never user
ids or free text, so the number of series stays bounded.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from auren_graphs.canonical import NormalizedBatch
    from auren_graphs.ingestion.storage import WriteCounts

REGISTRY = CollectorRegistry(auto_describe=True)

SAMPLES_INGESTED = Counter(
    "auren_samples_ingested",
    "Values written by the ingestion graph, by device and outcome "
    "(accepted: new; updated: a vendor correction; duplicate: already stored).",
    ["device", "outcome"],
    registry=REGISTRY,
)
SAMPLES_REJECTED = Counter(
    "auren_samples_rejected",
    "Values or records refused by the ingestion graph, by device and reason class.",
    ["device", "reason"],
    registry=REGISTRY,
)
WEBHOOK_ACK_SECONDS = Histogram(
    "auren_webhook_ack_seconds",
    "Time to answer a webhook or push, by vendor and outcome "
    "(accepted, duplicate, ignored, refused, unavailable).",
    ["vendor", "outcome"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
WEBHOOK_EVENTS_PROCESSED = Counter(
    "auren_webhook_events_processed",
    "Attempts of the webhook worker, by vendor and outcome "
    "(done, skipped, retry, deferred, failed).",
    ["vendor", "outcome"],
    registry=REGISTRY,
)
WEBHOOK_BACKLOG = Gauge(
    "auren_webhook_backlog",
    "Webhook events recorded and not yet processed (as of the last health check or poll).",
    registry=REGISTRY,
)
ANALYSIS_RUNS = Counter(
    "auren_analysis_runs",
    "Analyses finished, by the source of their narrative (model or deterministic).",
    ["narrative"],
    registry=REGISTRY,
)
NARRATIVE_FALLBACKS = Counter(
    "auren_narrative_fallbacks",
    "Analyses whose narrative fell back to the deterministic writer, by reason class.",
    ["reason"],
    registry=REGISTRY,
)
ROLLOUT_STAGE = Gauge(
    "auren_rollout_stage_percent",
    "Share of users (0-100) on the candidate assistant version of a rollout.",
    ["rollout"],
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# ------------------------------------------------------------------------ ingestion


# First match wins; the texts are the normalizers' own reason wordings.
_REASON_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wrong_user", ("belongs to",)),
    ("implausible", ("plausible range",)),
    ("unit", ("unit",)),
    ("not_a_number", ("not a number", "not finite", "not an integer")),
    ("time", ("timestamp", "day ", "offset", "date")),
    ("unrecognised", ("not a ", "unknown", "unrecognised", "no id", "must be")),
)


def reason_class(reason: str) -> str:
    """A rejection reason's class: a small fixed set, fit for a metric label."""
    text = reason.lower()
    for name, needles in _REASON_CLASSES:
        if any(needle in text for needle in needles):
            return name
    return "other"


def record_ingest(device: str, counts: WriteCounts, batch: NormalizedBatch) -> None:
    """Count what one ingested batch wrote and refused (called by the ingestion nodes)."""
    for outcome, value in (
        ("accepted", counts.accepted),
        ("updated", counts.updated),
        ("duplicate", counts.duplicates),
    ):
        if value:
            SAMPLES_INGESTED.labels(device, outcome).inc(value)
    for rejection in batch.rejections:
        SAMPLES_REJECTED.labels(device, reason_class(rejection.reason)).inc()


# ------------------------------------------------------------------------- analysis

P = ParamSpec("P")


def fallback_class(reason: str) -> str:
    text = reason.lower()
    if "no model configured" in text:
        return "not_configured"
    if "circuit breaker" in text:
        return "breaker_open"
    if "numbers" in text:
        return "unsupported_numbers"
    if text.startswith("the narrative"):  # narrative.stale_wording: stale data, "today"
        return "stale_wording"
    if "timeout" in text:
        return "timeout"
    return "model_error"


def counts_analysis(
    node: Callable[P, Awaitable[dict[str, Any]]],
) -> Callable[P, Awaitable[dict[str, Any]]]:
    """Wrap the `narrate` node: one analysis run counted, and its fallback if any.

    A decorator rather than calls at each return, so the node's own code is untouched.
    """

    @functools.wraps(node)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        update = await node(*args, **kwargs)
        ANALYSIS_RUNS.labels(str(update.get("narrative_source", "unknown"))).inc()
        reason = update.get("fallback_reason")
        if reason:
            NARRATIVE_FALLBACKS.labels(fallback_class(str(reason))).inc()
        return update

    return wrapper
