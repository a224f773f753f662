"""Who gets which version during a rollout, where rollouts live in the store, run records.

Store layout (all under `("rollouts", assistant_id, ...)`, reachable by services only):

- `("rollouts", assistant_id)` / `"active"`: the assistant's current (or last) rollout:
  id, status, stage, percentage, the candidate's and control's versions and contexts
  (copied from the assistant's versions when the rollout started), the plan.
- `("rollouts", assistant_id, rollout_id)` / `"NNN-event"`: every decision, in order.
- `("rollouts", assistant_id, "runs")` / run id: one record per analysis run of the
  assistant made while a rollout was rolling out (version, cohort, outcome, latency,
  alerts), with the user's feedback merged in later.

A user's bucket is a stable hash of (user id, rollout id) into 0-99; users whose bucket
is below the current stage's percentage get the candidate. Buckets never change during
a rollout, so a user on the candidate at 10% stays on it at 50% and 100%, and a
restarted server assigns everyone exactly as before.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from langgraph.store.base import BaseStore

from auren_graphs.analysis.context import AnalysisContext

Cohort = Literal["candidate", "control"]
Status = Literal[
    "planning", "awaiting_approval", "rolling_out", "completed", "rolled_back", "rejected"
]

ACTIVE_KEY = "active"
#: A rollout in one of these holds its assistant: no second one may start.
ACTIVE_STATUSES: frozenset[str] = frozenset({"planning", "awaiting_approval", "rolling_out"})
RUNS = "runs"


def rollout_namespace(assistant_id: str) -> tuple[str, ...]:
    return ("rollouts", assistant_id)


def history_namespace(assistant_id: str, rollout_id: str) -> tuple[str, ...]:
    return ("rollouts", assistant_id, rollout_id)


def runs_namespace(assistant_id: str) -> tuple[str, ...]:
    return ("rollouts", assistant_id, RUNS)


def bucket(user_id: str, rollout_id: str) -> int:
    """The user's bucket in this rollout, 0-99: the same on every call, process and server."""
    digest = hashlib.sha256(f"{rollout_id}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def cohort_of(user_id: str, rollout_id: str, percent: int) -> Cohort:
    return "candidate" if bucket(user_id, rollout_id) < percent else "control"


def context_hash(context: Mapping[str, Any]) -> str:
    """What an analysis version does, as a short hash: its context with every default filled."""
    full = AnalysisContext.model_validate(dict(context)).model_dump(mode="json")
    text = json.dumps(full, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Resolution:
    """The version one analysis run uses, and why."""

    rollout_id: str
    stage: int
    cohort: Cohort
    version: int
    context: dict[str, Any]
    context_hash: str


def resolve(active: Mapping[str, Any] | None, user_id: str) -> Resolution | None:
    """The user's version under the assistant's rollout; None when none is rolling out."""
    if not active or active.get("status") != "rolling_out":
        return None
    rollout_id = str(active["rollout_id"])
    cohort = cohort_of(user_id, rollout_id, int(active.get("percent") or 0))
    side: Mapping[str, Any] = active[cohort]
    return Resolution(
        rollout_id=rollout_id,
        stage=int(active.get("stage_index") or 0),
        cohort=cohort,
        version=int(side["version"]),
        context=dict(side["context"]),
        context_hash=str(side["context_hash"]),
    )


async def read_active(store: BaseStore, assistant_id: str) -> dict[str, Any] | None:
    item = await store.aget(rollout_namespace(assistant_id), ACTIVE_KEY)
    return dict(item.value) if item is not None else None


async def resolve_for_run(
    store: BaseStore, assistant_id: str | None, user_id: str
) -> Resolution | None:
    """The version an analysis run of `assistant_id` for `user_id` uses now (None: its own)."""
    if not assistant_id:
        return None
    return resolve(await read_active(store, assistant_id), user_id)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_record(
    resolution: Resolution, *, assistant_id: str, run_id: str, user_id: str, started_at: float
) -> dict[str, Any]:
    """The record written when an analysis run starts; `ok` None means "still running"."""
    return {
        "kind": "run",
        "assistant_id": assistant_id,
        "run_id": run_id,
        "rollout_id": resolution.rollout_id,
        "stage": resolution.stage,
        "cohort": resolution.cohort,
        "version": resolution.version,
        "context_hash": resolution.context_hash,
        "user_id": user_id,
        "day": datetime.fromtimestamp(started_at, UTC).date().isoformat(),
        "started_at": started_at,
        "finished_at": None,
        "ok": None,
        "fallback": None,
        "latency_seconds": None,
        "alerts": 0,
    }


def finished(
    record: Mapping[str, Any], *, fallback: bool, alerts: int, now: float | None = None
) -> dict[str, Any]:
    """The same record once the run has finished."""
    end = time.time() if now is None else now
    started = float(record.get("started_at") or end)
    return {
        **record,
        "finished_at": end,
        "ok": True,
        "fallback": fallback,
        "latency_seconds": round(max(0.0, end - started), 4),
        "alerts": alerts,
    }


async def write_run_record(store: BaseStore, record: Mapping[str, Any]) -> None:
    """Write a run record, keeping what was merged into it meanwhile (feedback)."""
    namespace = runs_namespace(str(record["assistant_id"]))
    key = str(record["run_id"])
    existing = await store.aget(namespace, key)
    merged = {**(existing.value if existing is not None else {}), **record}
    await store.aput(namespace, key, merged, index=False)
