"""The analysis graph: read the series, run the analyzers in parallel, compose, narrate.

`load_series` first resolves the version the user gets (a rollout of the run's
assistant may assign the candidate); `record_run` finishes the run's guardrail record.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from auren_graphs.analysis import nodes
from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.analysis.state import AnalysisInput, AnalysisOutput, AnalysisState

Analyzer = Literal[
    "analyze_hrv", "analyze_rhr", "analyze_sleep", "analyze_training", "analyze_bands"
]
ANALYZERS: list[Analyzer] = [
    "analyze_hrv",
    "analyze_rhr",
    "analyze_sleep",
    "analyze_training",
    "analyze_bands",
]


def route_after_load_series(state: AnalysisState) -> list[Analyzer] | Literal["compose"]:
    """Every analyzer at once (one parallel step), or straight on when there is no data.

    SDNN alone counts as data: the HRV analyzer says why it is not analysed."""
    return ANALYZERS if state.records or state.hrv_sdnn else "compose"


builder = StateGraph(
    AnalysisState,
    context_schema=AnalysisContext,
    input_schema=AnalysisInput,
    output_schema=AnalysisOutput,
)
builder.add_node("load_series", nodes.load_series)
builder.add_node("analyze_hrv", nodes.analyze_hrv)
builder.add_node("analyze_rhr", nodes.analyze_rhr)
builder.add_node("analyze_sleep", nodes.analyze_sleep)
builder.add_node("analyze_training", nodes.analyze_training)
builder.add_node("analyze_bands", nodes.analyze_bands)
builder.add_node("compose", nodes.compose)
builder.add_node("narrate", nodes.narrate)
builder.add_node("record_run", nodes.record_run)
builder.add_edge(START, "load_series")
builder.add_conditional_edges("load_series", route_after_load_series, [*ANALYZERS, "compose"])
for analyzer in ANALYZERS:
    builder.add_edge(analyzer, "compose")
builder.add_edge("compose", "narrate")
builder.add_edge("narrate", "record_run")
builder.add_edge("record_run", END)

graph = builder.compile()
graph.name = "AUREN analysis"
