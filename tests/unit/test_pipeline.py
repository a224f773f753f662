"""The client's run pipeline and its progress: runs grow 1, 2, 4 ... chunks, each run's
report reaches the progress as soon as it is in, and the bar says when only the
server's work is left."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from auren_client import IngestReport
from auren_client._pipeline import RunPipeline
from auren_client._progress import IngestProgress


async def test_each_runs_report_is_seen_as_soon_as_it_is_in() -> None:
    seen: list[int] = []
    gate = asyncio.Event()

    async def run(keys: list[str]) -> IngestReport:
        if len(keys) > 1:
            await gate.wait()  # later runs finish only when let go
        return IngestReport(accepted=len(keys), records=len(keys))

    pipeline = RunPipeline(
        run, chunks_per_run=4, max_pending=8, on_done=lambda r: seen.append(r.records)
    )
    for n in range(7):
        await pipeline.add(f"k{n}")
    await asyncio.sleep(0.01)
    assert seen == [1]  # the first run (one chunk) is in; the others are waiting
    gate.set()
    report = await pipeline.finish()
    assert sorted(seen) == [1, 2, 4] and report.records == 7 and pipeline.runs == 3


def test_the_bar_counts_what_is_ingested_and_says_when_the_server_works() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    bar = IngestProgress("apple_health export.xml", 1000, enabled=True, console=console)
    with bar:
        bar.read(1000)
        bar.sent(300)
        bar.ingested(IngestReport(records=120))
        bar.server_working()
        bar._progress.refresh()
    shown = screen.getvalue()
    assert "300 records sent, 120 ingested" in shown
    assert "apple_health export.xml: sent, the server is ingesting" in shown
