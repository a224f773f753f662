"""Operators' routes for assistants kept as files: `/ops/assistants/...` (service key only).

The server owns the file format (`auren_graphs.assistants.models`), checks files against
their graph's context schema with `jsonschema`, syncs them, and switches versions: the
switch the rollout graph uses too (`auren_graphs.assistants.service`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from auren_graphs.assistants import api, service
from auren_graphs.assistants.models import (
    AssistantDiff,
    AssistantFile,
    AssistantHistory,
    AssistantVersion,
    SwitchOutcome,
    SyncOutcome,
)
from auren_graphs.http.principal import Operator
from auren_graphs.platform import loopback

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(prefix="/ops/assistants", tags=["ops"])

Name = Annotated[str, Path(max_length=100, description="The assistant's name (or its id).")]
_INVALID: Responses = {422: {"description": "an invalid file: every problem, one per line"}}
_MISSING: Responses = {404: {"description": "no such assistant, or no such version of it"}}


class SwitchTo(BaseModel):
    version: int = Field(ge=1, description="The server version runs should behave as.")


async def _checked(name: str, file: AssistantFile) -> AssistantFile:
    if file.name != name:
        raise HTTPException(422, f"the file names {file.name!r}, the path {name!r}")
    try:
        return await service.check(loopback(), file.model_dump(mode="json"))
    except service.InvalidAssistantFileError as exc:
        lines = "\n  ".join(exc.problems)
        raise HTTPException(422, f"invalid assistant file {name!r}:\n  {lines}") from None


@router.get("", response_model=list[AssistantVersion])
async def list_assistants(who: Operator) -> list[AssistantVersion]:
    """The current version of every assistant synced from a file."""
    return await api.managed(loopback())


@router.put("/{name}", response_model=SyncOutcome, responses=_INVALID)
async def sync_assistant(
    name: Name,
    file: AssistantFile,
    who: Operator,
    dry_run: Annotated[bool, Query(description="Check and say what sync would do.")] = False,
) -> SyncOutcome:
    """Sync one file (its content is the body): create the assistant (its id derived
    from its name), or write a new version only when the file changed."""
    return await service.sync(loopback(), await _checked(name, file), dry_run=dry_run)


@router.get("/{name}/versions", response_model=AssistantHistory, responses=_MISSING)
async def assistant_versions(name: Name, who: Operator) -> AssistantHistory:
    """The assistant's server versions, newest first."""
    try:
        return await service.history(loopback(), name)
    except service.AssistantNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{name}/diff", response_model=AssistantDiff, responses=_INVALID)
async def diff_assistant(name: Name, file: AssistantFile, who: Operator) -> AssistantDiff:
    """The file (the body) against the server's current version: context keys and
    fields that differ."""
    return await service.diff(loopback(), await _checked(name, file))


@router.post("/{name}/switch", response_model=SwitchOutcome, responses=_MISSING)
async def switch_assistant(name: Name, to: SwitchTo, who: Operator) -> SwitchOutcome:
    """Make runs behave exactly as `version` did: a new version copying it whole
    (`set_latest` would not restore its context), or nothing when they already do."""
    try:
        return await service.switch(loopback(), name, to.version)
    except service.AssistantNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
