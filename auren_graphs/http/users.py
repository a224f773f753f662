"""A user's threads, findings and feedback: `/users/{user}/...`.

`PUT /users/{user}/threads/{graph}` is how a client learns (and the server creates) the
user's own thread of a graph: its id is derived with the server's secret, so nobody else
can name it. Runs then go through the LangGraph API on that thread, as the user.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse
from langgraph_sdk.errors import NotFoundError
from pydantic import BaseModel, Field, field_validator
from starlette.background import BackgroundTask

from auren_contract import ANALYSIS_GRAPH, INGESTION_GRAPH, findings_namespace
from auren_graphs.assignment import record_namespaces
from auren_graphs.http.principal import ServedUser
from auren_graphs.ingestion import worker
from auren_graphs.leaving import erase, export_archive
from auren_graphs.platform import loopback, server_store
from auren_graphs.threads import own_thread

router = APIRouter(prefix="/users/{user_id}", tags=["users"])

UserGraph = Literal["ingestion", "analysis"]


class ThreadRef(BaseModel):
    graph: UserGraph = Field(description="The graph the thread runs.")
    thread_id: str = Field(description="The user's own thread of that graph.")


class Feedback(BaseModel):
    """A person's verdict on one analysis."""

    run_id: uuid.UUID = Field(description="The analysis run's id.")
    # strict: a number, never `true` or "0.5" (the one rule: the client checks nothing).
    score: float = Field(ge=0, le=1, strict=True, description="0 (bad) to 1 (good).")
    comment: str | None = Field(default=None, max_length=2000, description="Why, in words.")

    @field_validator("score")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("score must be a finite number from 0 to 1")
        return value


@router.put("/threads/{graph}", response_model=ThreadRef)
async def user_thread(user_id: ServedUser, graph: UserGraph) -> ThreadRef:
    """The user's own thread of `graph` (created on first use). Every ingestion of the
    user runs on it, so overlapping deliveries queue instead of racing."""
    if graph == INGESTION_GRAPH:
        worker.warm()  # an import is coming: ready its reader while the client prepares
    return ThreadRef(graph=graph, thread_id=await own_thread(user_id, graph))


@router.get("/findings", response_model=list[dict[str, Any]])
async def user_findings(
    user_id: ServedUser,
    query: Annotated[
        str | None, Query(max_length=200, description="Words every finding's text must hold.")
    ] = None,
    analyzer: Annotated[
        str | None, Query(max_length=40, description="hrv, rhr, sleep, ...")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The findings remembered for the user, newest day first."""
    words = (query or "").lower().split()
    store = await server_store()
    found = await store.asearch(
        findings_namespace(user_id),
        filter={"analyzer": analyzer} if analyzer else None,
        limit=2000,
    )
    kept = [
        dict(item.value)
        for item in found
        if all(word in str(item.value.get("text", "")).lower() for word in words)
    ]
    kept.sort(key=lambda f: str(f.get("day", "")), reverse=True)
    return kept[:limit]


@router.post("/feedback", status_code=204, responses={404: {"description": "no such run"}})
async def user_feedback(user_id: ServedUser, feedback: Feedback) -> None:
    """Record the user's verdict on one of their analyses (`AnalysisResult.run_id`). It
    feeds the guardrails of the assistant's rollouts; giving it again replaces it."""
    thread = await own_thread(user_id, ANALYSIS_GRAPH)
    try:
        run = await loopback().runs.get(thread, str(feedback.run_id))
    except NotFoundError:
        raise HTTPException(404, f"{user_id} has no analysis run {feedback.run_id}") from None
    # The run's record, where the analysis wrote it (the default assistant's, for a run
    # of the bare graph); none yet: a new one under the run's own assistant.
    store = await server_store()
    run_id = str(feedback.run_id)
    namespaces = record_namespaces(str(run["assistant_id"]))
    found = [(ns, await store.aget(ns, run_id)) for ns in namespaces]
    namespace, existing = next(((ns, i) for ns, i in found if i is not None), found[-1])
    record: dict[str, Any] = (
        dict(existing.value)
        if existing is not None
        else {
            "kind": "run",
            "assistant_id": str(run["assistant_id"]),
            "run_id": run_id,
            "user_id": user_id,
            "rollout_id": None,
        }
    )
    record.update(
        feedback_score=feedback.score,
        feedback_comment=feedback.comment,
        feedback_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    await store.aput(namespace, run_id, record, index=False)


@router.get(
    "/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "the archive"}},
)
async def user_export(user_id: ServedUser) -> FileResponse:
    """Everything stored about the user as one zip: JSON lines per metric, the findings,
    the device connections (never a token), a manifest."""
    path = await export_archive(user_id)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"auren-{user_id}.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.delete("", response_model=dict[str, int])
async def user_erase(user_id: ServedUser) -> dict[str, int]:
    """Erase everything about the user: data, findings, threads and runs, crons, device
    connections (revoked at the vendor first), webhook events. What was removed."""
    return await erase(user_id)
