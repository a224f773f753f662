"""The ``auren`` command line: the client's calls, one command each.

Global options (``--url``, ``--api-key``, also read from ``AUREN_URL`` and
``AUREN_API_KEY``) live on the root app and reach every command through
:class:`CliState` (``ctx.obj``). Other distributions add command groups as plugins:
an entry point in the ``auren.cli`` group naming a ``typer.Typer`` (the server's
distribution adds ``auren ops``); a plugin's commands read ``ctx.obj.url`` and
``ctx.obj.api_key``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ._errors import AurenError
from ._files import Source
from ._models import IngestReport, MetricRow
from ._settings import API_KEY_ENV, DEFAULT_URL, URL_ENV
from ._sync import SyncAurenClient

app = typer.Typer(
    name="auren",
    help="AUREN: ingest wearable data and read a user's metrics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class CliState:
    """What the global options decided; ``client_options`` go to the client as is."""

    url: str | None = None
    api_key: str | None = None
    client_options: dict[str, Any] = field(default_factory=dict)

    def client(self) -> SyncAurenClient:
        return SyncAurenClient(self.url, self.api_key, **self.client_options)


@app.callback()
def _root(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option("--url", envvar=URL_ENV, help=f"Server URL (default {DEFAULT_URL})"),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar=API_KEY_ENV, help="API key", show_default=False),
    ] = None,
) -> None:
    state = ctx.ensure_object(CliState)
    state.url = url or state.url
    state.api_key = api_key or state.api_key


def _state(ctx: typer.Context) -> CliState:
    return ctx.ensure_object(CliState)


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    """An expected failure prints its message (no traceback) and exits with 1."""
    try:
        yield
    except (AurenError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


@app.command()
def connect(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="AUREN user id")],
    device: Annotated[str, typer.Argument(help="oura, whoop, apple_health or manual")],
    vendor_user_id: Annotated[
        str | None, typer.Option("--vendor-user-id", help="The user's id at the vendor")
    ] = None,
) -> None:
    """Connect a device to a user."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        auren.connect_device(user, device, vendor_user_id)
    suffix = f" (vendor user {vendor_user_id})" if vendor_user_id else ""
    typer.echo(f"connected {device} to {user}{suffix}")


@app.command()
def ingest(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="AUREN user id")],
    device: Annotated[str, typer.Argument(help="oura, whoop, apple_health or manual")],
    file: Annotated[
        str | None,
        typer.Argument(help="Payload file (export.xml, export.zip, JSON); - or none for stdin"),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr")] = True,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Ingest a payload in the vendor's own format and print the report."""
    if file is None and sys.stdin.isatty():
        raise typer.BadParameter("give a FILE, or pipe the payload in (use - for stdin)")
    source: Source = sys.stdin.buffer if file in (None, "-") else Path(file)
    with _errors_to_exit(), _state(ctx).client() as auren:
        report = auren.ingest_file(user, device, source, progress=progress)
    if json_output:
        typer.echo(json.dumps(report.to_dict()))
    else:
        _print_report(report)


def _print_report(report: IngestReport) -> None:
    typer.echo(f"records     {report.records}")
    typer.echo(f"accepted    {report.accepted}")
    typer.echo(f"duplicates  {report.duplicates}")
    typer.echo(f"updated     {report.updated}")
    typer.echo(f"skipped     {report.skipped_count}")
    typer.echo(f"rejected    {report.rejected_count}")
    for rejection in report.rejected:
        typer.echo(f"  {rejection.ref}: {rejection.reason}")
    if report.rejected_count > len(report.rejected):
        typer.echo(f"  ... and {report.rejected_count - len(report.rejected)} more")


def _moment(value: str) -> date:
    """``2026-11-02`` is a day; anything longer is an ISO 8601 date-time."""
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time") from None


@app.command()
def metrics(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="AUREN user id")],
    metric: Annotated[str, typer.Argument(help="Canonical metric name, e.g. hrv_rmssd")],
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD) or instant (ISO 8601)")],
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD) or instant (ISO 8601)")],
    json_lines: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per row")
    ] = False,
) -> None:
    """Print a user's values of one metric between two days or instants."""
    first, last = _moment(start), _moment(end)
    with _errors_to_exit(), _state(ctx).client() as auren:
        rows = auren.metrics(user, metric, first, last)
    if json_lines:
        for row in rows:
            typer.echo(json.dumps(row.to_dict()))
    else:
        _print_rows(rows)


def _print_rows(rows: list[MetricRow]) -> None:
    table = Table("day", "timestamp", "value", "unit", "device")
    for row in rows:
        stamp = row.timestamp.isoformat() if row.timestamp else ""
        table.add_row(row.day.isoformat(), stamp, f"{row.value:g}", row.unit, row.device)
    Console(soft_wrap=True).print(table)
    typer.echo(f"{len(rows)} rows")


# -- plugins ----------------------------------------------------------------------

#: Entry-point group of command groups other distributions add to ``auren``.
PLUGIN_GROUP = "auren.cli"


def _add_plugins(root: typer.Typer) -> None:
    """Each entry point of ``auren.cli`` is a ``typer.Typer`` added under its name (the
    server distribution adds ``auren ops``). The client never imports them itself; a
    plugin that fails to load is reported and left out, the rest of ``auren`` works."""
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            group = entry.load()
        except Exception as exc:  # a broken plugin must not take the client's CLI down
            print(f"auren: plugin {entry.name!r} not loaded: {exc}", file=sys.stderr)
            continue
        if isinstance(group, typer.Typer):
            root.add_typer(group, name=entry.name)


_add_plugins(app)


def main() -> None:
    """Entry point of the ``auren`` script."""
    app(prog_name="auren")


if __name__ == "__main__":  # pragma: no cover
    main()
