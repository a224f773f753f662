"""What the rollout's nodes share: its options, its records in the store, and its clock.

Every write here is keyed deterministically (the assistant's id, the rollout's id and
the decision's sequence number), so a node run again after a crash rewrites the same
items instead of adding new ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from auren_contract import (
    active_rollouts_namespace,
    rollout_history_namespace,
    rollout_runs_namespace,
)
from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.assignment import read_active, utc_now
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.state import RolloutState

Update = dict[str, Any]

_PAGE = 500
_MAX_RECORDS = 50_000


def store_of(runtime: Runtime[RolloutContext]) -> BaseStore:
    if runtime.store is None:
        raise RuntimeError("the rollout graph needs a store; run it on the LangGraph server")
    return runtime.store


def options_of(state: RolloutState) -> RolloutContext:
    """The rollout's options, as fixed when it started."""
    return RolloutContext.model_validate(state.options)


def now() -> datetime:
    return datetime.now(UTC)


def run_config(key: str) -> str:
    """A value of this run's `configurable` (thread_id, run_id), or ""."""
    return str(get_config().get("configurable", {}).get(key) or "")


def context_hash(context: Mapping[str, Any]) -> str:
    """What an analysis version does, as a short hash: its context with every default filled."""
    full = AnalysisContext.model_validate(dict(context)).model_dump(mode="json")
    text = json.dumps(full, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def side(version: Mapping[str, Any]) -> dict[str, Any]:
    """One side of the comparison (candidate or control): a version and what it does."""
    context = dict(version.get("context") or {})
    return {
        "version": int(version["version"]),
        "context": context,
        "context_hash": context_hash(context),
    }


async def record(
    runtime: Runtime[RolloutContext], state: RolloutState, event: str, **fields: Any
) -> Update:
    """One decision: into the store (all of them) and the state's bounded history."""
    seq = state.seq + 1
    entry = {
        "seq": seq,
        "event": event,
        "rollout_id": state.rollout_id,
        "stage": fields.pop("stage", state.stage_index if state.stage_index >= 0 else None),
        "percent": fields.pop("percent", state.percent),
        "at": utc_now(),
        **fields,
    }
    namespace = rollout_history_namespace(str(state.assistant_id), str(state.rollout_id))
    await store_of(runtime).aput(namespace, f"{seq:03d}-{event}", entry, index=False)
    return {"history": [entry], "seq": seq}


async def update_active(
    runtime: Runtime[RolloutContext], assistant_id: str, **changes: Any
) -> dict[str, Any]:
    """Change the assistant's active rollout record (what runs and the ticker read)."""
    store = store_of(runtime)
    active = {**(await read_active(store, assistant_id) or {}), **changes, "updated_at": utc_now()}
    await store.aput(active_rollouts_namespace(), assistant_id, active, index=False)
    return active


async def search_runs(
    store: BaseStore, assistant_id: str, filter: Mapping[str, Any], limit: int = _MAX_RECORDS
) -> list[dict[str, Any]]:
    """The assistant's run records matching `filter`, up to `limit`."""
    out: list[dict[str, Any]] = []
    while len(out) < limit:
        page = await store.asearch(
            rollout_runs_namespace(assistant_id),
            filter=dict(filter),
            limit=min(_PAGE, limit - len(out)),
            offset=len(out),
        )
        out += [dict(item.value) for item in page]
        if len(page) < _PAGE:
            break
    return out
