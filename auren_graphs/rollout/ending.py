"""How a rollout ends once it rolled out: completed, or rolled back. Both switch the
assistant with the one switch (`auren_graphs.assistants.service.switch`)."""

from __future__ import annotations

from langgraph.runtime import Runtime

from auren_graphs import observability, platform
from auren_graphs.assistants import service
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.records import Update, options_of, record, update_active
from auren_graphs.rollout.state import RolloutState


async def _switch(state: RolloutState, version: int) -> int | None:
    """Runs of the assistant behave as `version` (a new version copying it, or nothing
    when they already do): the copy's number, or None."""
    outcome = await service.switch(
        platform.loopback(), str(state.assistant_id), version, auren_rollout_id=state.rollout_id
    )
    return outcome.new_version


async def complete(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """Every stage passed: the candidate becomes the assistant's latest version."""
    candidate = int(state.candidate["version"])
    version = await _switch(state, candidate)
    reason = f"all {len(options_of(state).stages)} stages passed; v{candidate} " + (
        f"is now the assistant (as v{version})" if version else "was already the assistant"
    )
    await update_active(
        runtime, str(state.assistant_id), status="completed", percent=100, reason=reason
    )
    observability.ROLLOUT_STAGE.labels(state.assistant_name).set(100)
    entry = await record(runtime, state, "completed", reason=reason, new_version=version)
    return {"status": "completed", "percent": 100, "reason": reason, **entry}


async def roll_back(state: RolloutState, runtime: Runtime[RolloutContext]) -> Update:
    """A stage failed (or an operator aborted): everyone back on control, and the
    assistant's latest version behaves as control again."""
    if state.abort:
        reason = str(state.abort["reason"])
    else:
        verdict = state.verdict or {}
        reason = f"stage {state.stage_index + 1} ({state.percent}%) failed: {verdict.get('reason')}"
    assistant_id = str(state.assistant_id)
    # Everyone resolves to control at once, before the assistant itself is switched.
    await update_active(runtime, assistant_id, percent=0)
    version = await _switch(state, int(state.control["version"]))
    await update_active(runtime, assistant_id, status="rolled_back", reason=reason)
    observability.ROLLOUT_STAGE.labels(state.assistant_name).set(0)
    entry = await record(
        runtime, state, "rolled_back", reason=reason, new_version=version, verdict="rollback"
    )
    return {"status": "rolled_back", "percent": 0, "reason": reason, **entry}
