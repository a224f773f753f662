"""The progress bar of a file ingestion: bytes read, records sent, records the server has
ingested, and, once everything is sent, that the server is still at work."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

if TYPE_CHECKING:
    from auren_contract import IngestReport


class IngestProgress:
    """A rich progress bar on stderr; silent when disabled or stderr is not a terminal.

    ``read`` is called from the parser's thread; rich's Progress is thread-safe.
    """

    def __init__(
        self,
        description: str,
        total_bytes: int | None,
        *,
        enabled: bool,
        console: Console | None = None,
    ) -> None:
        console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[records]:,} records sent, {task.fields[stored]:,} ingested"),
            console=console,
            transient=False,
            disable=not (enabled and console.is_terminal),
        )
        self._task: TaskID = self._progress.add_task(
            description, total=total_bytes, records=0, stored=0
        )
        self._description = description
        self.records = 0
        self.stored = 0

    def __enter__(self) -> IngestProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def read(self, n_bytes: int) -> None:
        self._progress.advance(self._task, n_bytes)

    def sent(self, n_records: int) -> None:
        self.records += n_records
        self._progress.update(self._task, records=self.records)

    def ingested(self, report: IngestReport) -> None:
        """A run's report is in: its records are ingested."""
        self.stored += report.records
        self._progress.update(self._task, stored=self.stored)

    def server_working(self) -> None:
        """Everything is sent; what remains is the server's (the bar stays full)."""
        self._progress.update(
            self._task, description=f"{self._description}: sent, the server is ingesting"
        )
