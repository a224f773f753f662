"""``auren`` commands over a user's data: ingest it, read it, report on it, analyse it."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.markup import escape
from rich.table import Table

from auren_client import AnalysisEvent, IngestReport, InvalidArgumentError, MetricRow
from auren_contract import METRICS

from ._base import User, app, client_of, err, errors_to_exit, moment, out

Device = Annotated[str, typer.Argument(help="oura, whoop, apple_health or manual")]


@app.command()
def connect(
    ctx: typer.Context,
    user: User,
    device: Device,
    vendor_user_id: Annotated[
        str | None, typer.Option("--vendor-user-id", help="The user's id at the vendor")
    ] = None,
) -> None:
    """Register a device for a user (pushes, manual entries); a vendor account through
    its OAuth is `auren devices connect`."""
    with errors_to_exit(), client_of(ctx) as auren:
        auren.connect_device(user, device, vendor_user_id)
    suffix = f" (vendor user {vendor_user_id})" if vendor_user_id else ""
    typer.echo(f"connected {device} to {user}{suffix}")


@app.command()
def ingest(
    ctx: typer.Context,
    user: User,
    device: Device,
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
    source: BinaryIO | Path = sys.stdin.buffer if file in (None, "-") else Path(file)
    with errors_to_exit(), client_of(ctx) as auren:
        report = auren.ingest_file(user, device, source, progress=progress)
    if json_output:
        typer.echo(json.dumps(report.to_dict()))
    else:
        print_ingest_report(report)


def print_ingest_report(report: IngestReport) -> None:
    typer.echo(f"records     {report.records}")
    typer.echo(f"accepted    {report.accepted}")
    typer.echo(f"duplicates  {report.duplicates}")
    typer.echo(f"updated     {report.updated}")
    typer.echo(f"skipped     {report.skipped_count}")
    typer.echo(f"rejected    {report.rejected_count}")
    outcomes = ", ".join(f"{k} {v}" for k, v in report.outcomes.to_dict().items())
    typer.echo(f"records by outcome: {outcomes}")
    for kind, count in sorted(report.ignored.items(), key=lambda item: -item[1]):
        typer.echo(f"  ignored {kind}: {count}")
    for rejection in report.rejected:
        typer.echo(f"  {rejection.ref}: {rejection.reason}")
    if report.rejected_count > len(report.rejected):
        typer.echo(f"  ... and {report.rejected_count - len(report.rejected)} more")


@app.command()
def metrics(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Argument(help="AUREN user id", show_default=False)] = None,
    metric: Annotated[
        str | None, typer.Argument(help="Canonical metric, e.g. hrv_rmssd", show_default=False)
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD) or instant; default 30 days back")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD) or instant; default today")
    ] = None,
    list_metrics: Annotated[
        bool, typer.Option("--list", help="List every canonical metric with its unit")
    ] = False,
    json_lines: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per row")
    ] = False,
) -> None:
    """Print a user's values of one metric between two days or instants."""
    if list_metrics:
        _print_catalog(json_lines)
        return
    if user is None or metric is None:
        raise typer.BadParameter("give USER and METRIC (every metric: auren metrics --list)")
    last = moment(end) if end else date.today()
    first = moment(start) if start else last - timedelta(days=29)
    with errors_to_exit(), client_of(ctx) as auren:
        rows = auren.metrics(user, metric, first, last)
    if json_lines:
        for row in rows:
            typer.echo(json.dumps(row.to_dict()))
    else:
        _print_rows(rows)


def _print_catalog(json_lines: bool) -> None:
    if json_lines:
        for metric in METRICS.values():
            typer.echo(json.dumps(metric._asdict()))
        return
    table = Table("metric", "unit", "kind", "meaning")
    for metric in METRICS.values():
        table.add_row(metric.name, metric.unit, metric.kind, metric.meaning)
    out.print(table)


def _print_rows(rows: list[MetricRow]) -> None:
    table = Table("day", "timestamp", "value", "unit", "device")
    for row in rows:
        stamp = row.timestamp.isoformat() if row.timestamp else ""
        table.add_row(row.day.isoformat(), stamp, f"{row.value:g}", row.unit, row.device)
    out.print(table)
    typer.echo(f"{len(rows)} rows")


@app.command()
def report(
    ctx: typer.Context,
    user: User,
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the HTML page", dir_okay=False)
    ] = Path("report.html"),
    days: Annotated[int, typer.Option(min=7, max=730, help="Days the charts cover")] = 90,
    end: Annotated[str | None, typer.Option(help="Last day shown; default today")] = None,
) -> None:
    """Write the user's report: one self-contained HTML page that opens offline."""
    last = moment(end) if end else None
    with errors_to_exit(), client_of(ctx) as auren:
        page = auren.report(user, days=days, end=last)
        out_file.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {out_file} ({len(page.encode()) // 1024} kB); open it in a browser")


@app.command()
def analyze(
    ctx: typer.Context,
    user: User,
    question: Annotated[str, typer.Argument(help="What to ask")] = "How is my recovery?",
    assistant: Annotated[
        str, typer.Option(help="Assistant name or id; default: the server's current one")
    ] = "analysis",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Analyse as of this day (YYYY-MM-DD)")
    ] = None,
    json_lines: Annotated[
        bool, typer.Option("--json", help="Print every event as one JSON object")
    ] = False,
) -> None:
    """Analyse the user's data, streaming progress, findings and the narrative as they
    come. Exits 1 when the run fails."""
    day = _day(as_of) if as_of else None
    with errors_to_exit(), client_of(ctx) as auren:
        for event in auren.stream_analysis(user, question, assistant=assistant, as_of=day):
            _print_json_event(event) if json_lines else _print_event(event)
    if not json_lines:
        out.print()


def _day(value: str) -> date:
    with errors_to_exit():
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidArgumentError(f"--as-of {value!r}: give a day, YYYY-MM-DD") from None


def _print_event(event: AnalysisEvent) -> None:
    if event.type == "progress":
        _print_progress(event)
    elif event.type == "finding" and event.finding:
        _print_finding(event.finding)
    elif event.type == "token":
        out.print(escape(event.text), end="")
    elif event.type == "done" and event.result is not None:
        result = event.result
        note = f" ({result.fallback_reason})" if result.fallback_reason else ""
        err.print(
            f"\n[dim]{len(result.findings)} findings; narrative by {result.narrative_source}"
            f"{escape(note)}; method {result.method_version}; run {result.run_id}[/dim]"
        )


def _print_progress(event: AnalysisEvent) -> None:
    data = event.data
    if data.get("stage") == "load_series":
        err.print(f"[dim]loaded {data.get('days', 0)} days of data[/dim]")
    elif data.get("stage") == "analyzer":
        err.print(f"[dim]{data.get('analyzer')}: {data.get('findings', 0)} findings[/dim]")


def _print_finding(found: object) -> None:
    if not isinstance(found, dict):
        return
    grade = found.get("grade_words") or found.get("grade") or ""
    out.print(
        f"[bold]{escape(str(found.get('title', '')))}[/bold] "
        f"[dim]({escape(str(found.get('day', '')))}, {escape(str(found.get('severity', '')))})"
        "[/dim]"
    )
    out.print(f"  {escape(str(found.get('summary', '')))}")
    out.print(f"  [dim]{escape(str(found.get('source', '')))}; evidence: {escape(grade)}[/dim]")


def _print_json_event(event: AnalysisEvent) -> None:
    if event.type == "done" and event.result is not None:
        typer.echo(json.dumps({"type": "done", "result": asdict(event.result)}, default=str))
    else:
        typer.echo(json.dumps({"type": event.type, **dict(event.data)}, default=str))
