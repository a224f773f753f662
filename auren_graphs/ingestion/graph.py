"""The ingestion graph: validate, route by device, normalize, de-duplicate, store; or page
through a vendor's API (a backfill) and store each page the same way."""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from auren_graphs.ingestion import nodes
from auren_graphs.ingestion.backfill import backfill_page, route_after_backfill_page
from auren_graphs.ingestion.context import IngestionContext
from auren_graphs.ingestion.state import IngestionInput, IngestionOutput, IngestionState

DeviceNode = Literal["ingest_oura", "ingest_whoop", "ingest_apple_health", "ingest_manual"]
NODE_OF_DEVICE: dict[str, DeviceNode] = {
    "oura": "ingest_oura",
    "whoop": "ingest_whoop",
    "apple_health": "ingest_apple_health",
    "manual": "ingest_manual",
}


def route_after_check_input(
    state: IngestionState,
) -> DeviceNode | Literal["backfill_page", "delete_vendor_records", "__end__"]:
    """To the device's normalizer (or the vendor's API for a backfill, or deletions), or
    straight out when the input was refused."""
    if state.error is not None:
        return "__end__"
    if state.backfill is not None:
        return "backfill_page"
    if state.deletions:
        return "delete_vendor_records"
    return NODE_OF_DEVICE[state.device]


def route_after_ingest(state: IngestionState) -> DeviceNode | Literal["__end__"]:
    """Once more per staged upload, until all are done or one is refused."""
    if state.error is not None or state.cursor >= len(state.uploads):
        return "__end__"
    return NODE_OF_DEVICE[state.device]


_DEVICE_NODES = {
    NODE_OF_DEVICE["oura"]: nodes.ingest_oura,
    NODE_OF_DEVICE["whoop"]: nodes.ingest_whoop,
    NODE_OF_DEVICE["apple_health"]: nodes.ingest_apple_health,
    NODE_OF_DEVICE["manual"]: nodes.ingest_manual,
}

builder = StateGraph(
    IngestionState,
    context_schema=IngestionContext,
    input_schema=IngestionInput,
    output_schema=IngestionOutput,
)
builder.add_node("check_input", nodes.check_input)
builder.add_edge(START, "check_input")
builder.add_conditional_edges(
    "check_input",
    route_after_check_input,
    [*_DEVICE_NODES, "backfill_page", "delete_vendor_records", END],
)
builder.add_node("delete_vendor_records", nodes.delete_vendor_records)
builder.add_edge("delete_vendor_records", END)
builder.add_node("backfill_page", backfill_page)
builder.add_conditional_edges("backfill_page", route_after_backfill_page, ["backfill_page", END])
for name, node in _DEVICE_NODES.items():
    builder.add_node(name, node)
    builder.add_conditional_edges(name, route_after_ingest, [*_DEVICE_NODES, END])

graph = builder.compile()
graph.name = "AUREN ingestion"
