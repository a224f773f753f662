"""Resuming a dropped analysis stream: every event once, whatever ids the server gives.

The stand-in below replays a run's stored events after the id it is given, as either
server does: the dev server's ids are one per millisecond, shared by all of its events,
and compared as text; a Redis-backed server's are unique and compared as numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from langgraph_sdk.schema import StreamPart

from auren_client._analysis import AnalysisStream

MILLISECONDS = (1_733_400_000_000, 1_733_400_000_001, 1_733_400_000_002)


def run_events(shared_ids: bool) -> list[StreamPart]:
    parts = [StreamPart("metadata", {"run_id": "run-1"}, None)]
    for n in range(9):
        ms = MILLISECONDS[n // 3]  # three events in each millisecond
        seq = 0 if shared_ids else n % 3
        event = {"event": "finding", "finding": {"id": f"finding-{n}"}}
        parts.append(StreamPart("custom", event, f"{ms}-{seq}"))
    parts.append(StreamPart("values", {"findings": [], "narrative": "done"}, None))
    return parts


def as_text(event_id: str) -> object:
    return event_id


def as_numbers(event_id: str) -> object:
    ms, _, seq = event_id.partition("-")
    return (int(ms), int(seq))


class Runs:
    """`runs.join_stream`: the stored events after `last_event_id`, in `order`."""

    def __init__(self, stored: list[StreamPart], order: Callable[[str], Any]) -> None:
        self.stored, self.order = stored, order
        self.joined_after: list[str | None] = []

    async def join_stream(self, *_: Any, last_event_id: str | None, **__: Any) -> Any:
        self.joined_after.append(last_event_id)
        assert last_event_id is not None
        for part in self.stored:
            if part.id is not None and self.order(part.id) > self.order(last_event_id):
                yield part
        yield self.stored[-1]  # the final state, as it is streamed after the events

    async def cancel(self, *_: Any, **__: Any) -> None:
        raise AssertionError("nothing timed out")


class Sdk:
    def __init__(self, stored: list[StreamPart], order: Callable[[str], Any]) -> None:
        self.runs = Runs(stored, order)


async def dropped_after(parts: list[StreamPart], count: int) -> AsyncIterator[StreamPart]:
    for part in parts[:count]:
        yield part
    raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


@pytest.mark.parametrize("shared_ids", [True, False], ids=["dev-server", "redis-server"])
@pytest.mark.parametrize("drop_after", [2, 3, 5, 7, 9])
async def test_a_dropped_stream_resumes_with_every_event_once(
    shared_ids: bool, drop_after: int
) -> None:
    stored = run_events(shared_ids)
    sdk = Sdk(stored, as_text if shared_ids else as_numbers)
    stream = AnalysisStream(sdk, "thread-1", timeout=None)  # type: ignore[arg-type]
    events = [e async for e in stream.events(dropped_after(stored, drop_after), 3)]
    findings = [e.finding["id"] for e in events if e.type == "finding" and e.finding]
    assert findings == [f"finding-{n}" for n in range(9)]
    assert events[-1].type == "done" and events[-1].result is not None
    assert len(sdk.runs.joined_after) == 1
