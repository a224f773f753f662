"""Which assistant version an analysis run uses, and the record it leaves for rollouts.

Neutral ground between the analysis graph (which follows assignments and writes run
records) and the rollout graph (which makes assignments and reads the records): both
import this module, neither imports the other.

Store layout (`auren_contract`, reachable by services only):

- `("rollouts", "active")` / assistant id: the assistant's current (or last) rollout:
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

**The default analysis assistant.** A run of the bare `analysis` graph (the platform's
own assistant of the graph, which clients use unless told otherwise) is served by the
synced assistant `analysis-standard` when one exists: its current version, or the
version its rollout assigns the user. So a rollout of the default assistant reaches
everyone who asks for an analysis, and a switch of it changes what everyone gets.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from langgraph.store.base import BaseStore

from auren_contract import (
    ANALYSIS_GRAPH,
    Namespace,
    active_rollouts_namespace,
    assistant_id,
    rollout_runs_namespace,
)
from auren_graphs import platform

Cohort = Literal["candidate", "control"]

#: The assistant that serves runs of the bare analysis graph, once it is synced.
DEFAULT_ANALYSIS_ASSISTANT = "analysis-standard"
#: langgraph-api's namespace of the assistant it makes for each graph
#: (`langgraph_api.graph.NAMESPACE_GRAPH`; a unit test holds the two equal).
PLATFORM_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def platform_assistant_id(graph: str) -> str:
    """The id of the assistant the platform makes for `graph` (runs naming the graph)."""
    return str(uuid.uuid5(PLATFORM_ASSISTANT_NAMESPACE, graph))


def bucket(user_id: str, rollout_id: str) -> int:
    """The user's bucket in this rollout, 0-99: the same on every call, process and server."""
    digest = hashlib.sha256(f"{rollout_id}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def cohort_of(user_id: str, rollout_id: str, percent: int) -> Cohort:
    return "candidate" if bucket(user_id, rollout_id) < percent else "control"


@dataclass(frozen=True)
class Resolution:
    """The version one analysis run uses under a rollout, and why."""

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


async def read_active(store: BaseStore, assistant: str) -> dict[str, Any] | None:
    """The assistant's current (or last) rollout record, if it ever had one."""
    item = await store.aget(active_rollouts_namespace(), assistant)
    return dict(item.value) if item is not None else None


@dataclass(frozen=True)
class RunVersion:
    """What an analysis run of some assistant actually runs.

    `assistant_id`: whose rollout and run records apply (None: no assistant at all);
    `context`: the context to use instead of the run's own (None: the run's own);
    `resolution`: set when a rollout assigned the version.
    """

    assistant_id: str | None = None
    context: dict[str, Any] | None = None
    resolution: Resolution | None = None


async def current_version(assistant: str) -> dict[str, Any] | None:
    """The assistant's current version from the server's own API; None when there is none."""
    try:
        return dict(await platform.loopback().assistants.get(assistant))
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise


async def version_for_run(store: BaseStore, run_assistant: str | None, user_id: str) -> RunVersion:
    """The version an analysis run of `run_assistant` for `user_id` uses now."""
    if not run_assistant:
        return RunVersion()
    served, context = run_assistant, None
    if run_assistant == platform_assistant_id(ANALYSIS_GRAPH):
        default = await current_version(assistant_id(DEFAULT_ANALYSIS_ASSISTANT))
        if default is not None:
            served, context = str(default["assistant_id"]), dict(default.get("context") or {})
    resolution = resolve(await read_active(store, served), user_id)
    if resolution is not None:
        context = resolution.context
    return RunVersion(served, context, resolution)


def record_namespaces(run_assistant: str) -> list[Namespace]:
    """Where the run record of a run of `run_assistant` can be: under the default
    analysis assistant first when the run was of the bare graph, then its own."""
    own = rollout_runs_namespace(run_assistant)
    if run_assistant != platform_assistant_id(ANALYSIS_GRAPH):
        return [own]
    return [rollout_runs_namespace(assistant_id(DEFAULT_ANALYSIS_ASSISTANT)), own]


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
    namespace = rollout_runs_namespace(str(record["assistant_id"]))
    key = str(record["run_id"])
    existing = await store.aget(namespace, key)
    merged = {**(existing.value if existing is not None else {}), **record}
    await store.aput(namespace, key, merged, index=False)
