"""Operators' routes for staged rollouts: `/ops/rollouts/{assistant}/...` (service key only).

Each starts or answers the assistant's `rollout` graph on the server
(`auren_graphs.rollout.control`) and answers the rollout's status with its history.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from auren_graphs.assistants import api
from auren_graphs.assistants.models import AssistantVersion
from auren_graphs.http.principal import Operator
from auren_graphs.identity import Caller
from auren_graphs.platform import loopback, server_store
from auren_graphs.rollout import control
from auren_graphs.rollout.models import Advance, Answer, RolloutStatus, StartRollout

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(prefix="/ops/rollouts", tags=["ops"])

AssistantRef = Annotated[
    str, Path(max_length=100, description="The analysis assistant: its name or its id.")
]
_ANSWERS: Responses = {
    404: {"description": "no such assistant, or it never had a rollout"},
    409: {"description": "the rollout is not where this answer is for, or stays busy"},
}


async def _assistant(ref: str) -> AssistantVersion:
    found = await api.find(loopback(), ref)
    if found is None:
        raise HTTPException(404, f"no assistant {ref!r} on this server")
    return found


def _by(answer: Answer, who: Caller) -> str:
    return answer.by or who.name


@router.post(
    "/{assistant}",
    response_model=RolloutStatus,
    status_code=201,
    responses={**_ANSWERS, 422: {"description": "the request cannot start a rollout"}},
)
async def start_rollout(
    assistant: AssistantRef, request: StartRollout, who: Operator
) -> RolloutStatus:
    """Propose rolling a version out: answers once the plan waits for approval (or, with
    `approval_required: false`, once stage 1 is monitored). One active rollout per
    assistant: a second one answers 409."""
    found = await _assistant(assistant)
    request.by = request.by or who.name
    try:
        return await control.start(await server_store(), loopback(), found, request)
    except control.RolloutConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    except control.RolloutRefusedError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/{assistant}", response_model=RolloutStatus, responses=_ANSWERS)
async def rollout_status(assistant: AssistantRef, who: Operator) -> RolloutStatus:
    """The assistant's current (or last) rollout: the plan, the stage, every decision."""
    try:
        return await control.require_status(await server_store(), await _assistant(assistant))
    except control.NoRolloutError as exc:
        raise HTTPException(404, str(exc)) from None


async def _answer(assistant: str, verb: str, **value: object) -> RolloutStatus:
    found = await _assistant(assistant)
    try:
        return await control.answer(await server_store(), loopback(), found, verb, **value)
    except control.NoRolloutError as exc:
        raise HTTPException(404, str(exc)) from None
    except control.RolloutConflictError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{assistant}/approve", response_model=RolloutStatus, responses=_ANSWERS)
async def approve_rollout(assistant: AssistantRef, answer: Answer, who: Operator) -> RolloutStatus:
    """Approve the plan: stage 1 starts."""
    by = _by(answer, who)
    return await _answer(assistant, "approve", decision="approve", by=by, reason=answer.reason)


@router.post("/{assistant}/reject", response_model=RolloutStatus, responses=_ANSWERS)
async def reject_rollout(assistant: AssistantRef, answer: Answer, who: Operator) -> RolloutStatus:
    """Reject the plan: nobody gets the candidate; the assistant is untouched."""
    by = _by(answer, who)
    return await _answer(assistant, "reject", decision="reject", by=by, reason=answer.reason)


@router.post("/{assistant}/abort", response_model=RolloutStatus, responses=_ANSWERS)
async def abort_rollout(assistant: AssistantRef, answer: Answer, who: Operator) -> RolloutStatus:
    """Stop it: awaiting approval, it is rejected; rolling out, it rolls back (everyone on
    control, the assistant's latest version back on control)."""
    by = _by(answer, who)
    return await _answer(assistant, "abort", action="abort", by=by, reason=answer.reason)


@router.post("/{assistant}/advance", response_model=RolloutStatus, responses=_ANSWERS)
async def advance_rollout(
    assistant: AssistantRef, advance: Advance, who: Operator
) -> RolloutStatus:
    """End the current window now: the stage is decided on the runs so far, or keeps
    waiting for runs when it has too few (unless `force`)."""
    by = _by(advance, who)
    return await _answer(assistant, "advance", action="advance", by=by, force=advance.force)
