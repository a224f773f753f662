"""The rollout graph: plan, approve, then per stage assign, monitor, decide; complete or roll back.

```
start → collect_metrics → analyze → propose_plan → approval_gate → assign → monitor → decide
  approval_gate: approve → assign, reject → reject → END, no answer → approval_gate
  monitor: window open → monitor (next tick), window over → decide, abort → roll_back
  decide: passed → assign (next stage) or complete → END, failed → roll_back → END,
          too few runs → monitor (wait on; `advance --force` decides anyway)
  start: a refused start → END, or back to the interrupt its run cut short
```

Nodes by concern: `start` (taking the assistant), `plan` (metrics, analysis, plan),
`stages` (gate, assign, monitor, decide), `ending` (complete, roll back).
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from auren_graphs.rollout import ending, plan, stages
from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.start import start
from auren_graphs.rollout.state import RolloutInput, RolloutOutput, RolloutState


def route_after_start(
    state: RolloutState,
) -> Literal["collect_metrics", "approval_gate", "monitor", "__end__"]:
    """On to planning; a refused start ends, or (when this thread's rollout was waiting and
    the refused run's input cut its wait short) goes back to where that rollout waited."""
    if state.error is None:
        return "collect_metrics"
    resume_at = state.error.get("resume_at")
    if resume_at == "approval_gate":
        return "approval_gate"
    if resume_at == "monitor":
        return "monitor"
    return "__end__"


def route_after_approval_gate(
    state: RolloutState,
) -> Literal["assign", "reject", "approval_gate"]:
    """Approved: stage 1. Rejected: close. Anything else was not an answer: wait on."""
    if state.approval is None:
        return "approval_gate"
    return "assign" if state.approval["decision"] == "approve" else "reject"


def route_after_monitor(state: RolloutState) -> Literal["decide", "monitor", "roll_back"]:
    """Aborted: roll back. Window over: decide. Otherwise wait for the next tick."""
    if state.abort is not None:
        return "roll_back"
    return "decide" if state.window_closed else "monitor"


def route_after_decide(
    state: RolloutState,
) -> Literal["assign", "complete", "roll_back", "monitor"]:
    """A failed stage rolls back; a passed one goes to the next stage, or completes; one
    with too few runs keeps monitoring."""
    if (state.verdict or {}).get("waiting"):
        return "monitor"
    if not (state.verdict or {}).get("passed"):
        return "roll_back"
    stages = state.options.get("stages") or []
    return "assign" if state.stage_index + 1 < len(stages) else "complete"


builder = StateGraph(
    RolloutState,
    context_schema=RolloutContext,
    input_schema=RolloutInput,
    output_schema=RolloutOutput,
)
builder.add_node("start", start)
builder.add_node("collect_metrics", plan.collect_metrics)
builder.add_node("analyze", plan.analyze)
builder.add_node("propose_plan", plan.propose_plan)
builder.add_node("approval_gate", stages.approval_gate)
builder.add_node("reject", stages.reject)
builder.add_node("assign", stages.assign)
builder.add_node("monitor", stages.monitor)
builder.add_node("decide", stages.decide)
builder.add_node("complete", ending.complete)
builder.add_node("roll_back", ending.roll_back)
builder.add_edge(START, "start")
builder.add_conditional_edges(
    "start", route_after_start, ["collect_metrics", "approval_gate", "monitor", END]
)
builder.add_edge("collect_metrics", "analyze")
builder.add_edge("analyze", "propose_plan")
builder.add_edge("propose_plan", "approval_gate")
builder.add_conditional_edges(
    "approval_gate", route_after_approval_gate, ["assign", "reject", "approval_gate"]
)
builder.add_edge("reject", END)
builder.add_edge("assign", "monitor")
builder.add_conditional_edges("monitor", route_after_monitor, ["decide", "monitor", "roll_back"])
builder.add_conditional_edges(
    "decide", route_after_decide, ["assign", "complete", "roll_back", "monitor"]
)
builder.add_edge("complete", END)
builder.add_edge("roll_back", END)

graph = builder.compile()
graph.name = "AUREN rollout"
