"""The ``auren`` command line: the client's calls, one command each.

Global options (``--url``, ``--api-key``, also read from ``AUREN_URL`` and
``AUREN_API_KEY``) live on the root app and reach every command through
:class:`CliState`. A group of commands is its own ``typer.Typer`` added with
``app.add_typer(...)`` (``auren assistants ...``, ``auren rollout ...``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ._assistants import ASSISTANTS_DIR, AssistantStatus
from ._errors import AurenError
from ._files import Source
from ._models import IngestReport, MetricRow
from ._rollout import RolloutStatus
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
    typer.echo(
        "records by outcome: " + ", ".join(f"{k} {v}" for k, v in report.outcomes.to_dict().items())
    )
    for kind, count in sorted(report.ignored.items(), key=lambda item: -item[1]):
        typer.echo(f"  ignored {kind}: {count}")
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


# -- auren assistants ---------------------------------------------------------------

assistants_app = typer.Typer(
    name="assistants",
    help="Assistants kept as files (assistants/*.json): sync, list, versions, diff, switch.",
    no_args_is_help=True,
)
app.add_typer(assistants_app)

AssistantsDir = Annotated[
    Path, typer.Option("--dir", help="Directory of assistant files", show_default=True)
]
AssistantName = Annotated[str, typer.Argument(help="Assistant name (its file's name)")]


@assistants_app.command("sync")
def assistants_sync(ctx: typer.Context, directory: AssistantsDir = ASSISTANTS_DIR) -> None:
    """Create or update the server's assistants from the files; unchanged files write nothing."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        outcomes = auren.assistants.sync(directory)
    for outcome in outcomes:
        typer.echo(outcome.describe())
        for warning in outcome.warnings:
            typer.echo(f"warning: {warning}", err=True)


@assistants_app.command("list")
def assistants_list(ctx: typer.Context, directory: AssistantsDir = ASSISTANTS_DIR) -> None:
    """The assistants sync manages on the server, and whether they match their files."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        statuses = auren.assistants.list_all(directory if directory.is_dir() else None)
    _echo_lines(AssistantStatus.lines(statuses))


@assistants_app.command("versions")
def assistants_versions(ctx: typer.Context, name: AssistantName) -> None:
    """An assistant's server versions, newest first (* marks the one runs use)."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        history = auren.assistants.versions(name)
    _echo_lines(history.lines())


@assistants_app.command("diff")
def assistants_diff(
    ctx: typer.Context, name: AssistantName, directory: AssistantsDir = ASSISTANTS_DIR
) -> None:
    """The file against the server's current version: context keys and fields that differ."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        diff = auren.assistants.diff(name, directory)
    _echo_lines(diff.lines())


@assistants_app.command("switch")
def assistants_switch(
    ctx: typer.Context,
    name: AssistantName,
    version: Annotated[int, typer.Argument(help="Server version to behave as", min=1)],
) -> None:
    """Make runs behave exactly as VERSION did: a new version copying it whole."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        outcome = auren.assistants.switch(name, version)
    typer.echo(outcome.describe())


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


# -- auren rollout ------------------------------------------------------------------

rollout_app = typer.Typer(
    name="rollout",
    help="Staged rollouts of an analysis assistant's version: start, status, approve, "
    "reject, abort, advance. Needs a service API key.",
    no_args_is_help=True,
)
app.add_typer(rollout_app)

RolloutAssistant = Annotated[str, typer.Argument(help="Analysis assistant: its name or id")]
By = Annotated[str | None, typer.Option("--by", help="Who decides (kept in the history)")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the history)")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print the status as JSON")]


def _print_status(status: RolloutStatus, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(dataclasses.asdict(status), default=str))
    else:
        _echo_lines(status.lines())


@rollout_app.command("start")
def rollout_start(
    ctx: typer.Context,
    assistant: RolloutAssistant,
    candidate: Annotated[int, typer.Option("--candidate", help="Version to roll out", min=1)],
    control: Annotated[
        int | None,
        typer.Option("--control", help="Version users stay on (default: current)", min=1),
    ] = None,
    stages: Annotated[
        str | None, typer.Option("--stages", help="Percentages, e.g. 10,50,100")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Health ratio a stage needs (0.9)")
    ] = None,
    window: Annotated[
        float | None, typer.Option("--window", help="Monitoring window per stage, seconds")
    ] = None,
    min_sample: Annotated[
        int | None, typer.Option("--min-sample", help="Runs per side a stage needs")
    ] = None,
    tick: Annotated[
        int | None, typer.Option("--tick", help="Seconds between the cron's ticks")
    ] = None,
    approval: Annotated[
        bool | None,
        typer.Option("--approval/--no-approval", help="Wait for approval before stage 1"),
    ] = None,
    by: By = None,
    json_output: JsonOutput = False,
) -> None:
    """Propose a rollout of CANDIDATE; it waits for approval (unless --no-approval)."""
    try:
        percents = [int(p) for p in stages.split(",")] if stages else None
    except ValueError:
        raise typer.BadParameter(f"--stages {stages!r} is not a list like 10,50,100") from None
    with _errors_to_exit(), _state(ctx).client() as auren:
        status = auren.rollout.start(
            assistant,
            candidate,
            control,
            stages=percents,
            health_threshold=threshold,
            window_seconds=window,
            min_sample=min_sample,
            tick_seconds=tick,
            approval_required=approval,
            by=by,
        )
    _print_status(status, json_output)


@rollout_app.command("status")
def rollout_status(
    ctx: typer.Context, assistant: RolloutAssistant, json_output: JsonOutput = False
) -> None:
    """The assistant's current (or last) rollout and its whole history."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        status = auren.rollout.status(assistant)
    _print_status(status, json_output)


@rollout_app.command("approve")
def rollout_approve(
    ctx: typer.Context, assistant: RolloutAssistant, by: By = None, json_output: JsonOutput = False
) -> None:
    """Approve the plan: stage 1 starts."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        status = auren.rollout.approve(assistant, by=by)
    _print_status(status, json_output)


@rollout_app.command("reject")
def rollout_reject(
    ctx: typer.Context,
    assistant: RolloutAssistant,
    by: By = None,
    reason: Reason = None,
    json_output: JsonOutput = False,
) -> None:
    """Reject the plan: nothing is assigned, nothing changes."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        status = auren.rollout.reject(assistant, by=by, reason=reason)
    _print_status(status, json_output)


@rollout_app.command("abort")
def rollout_abort(
    ctx: typer.Context,
    assistant: RolloutAssistant,
    by: By = None,
    reason: Reason = None,
    json_output: JsonOutput = False,
) -> None:
    """Stop the rollout: everyone back on control, the assistant back on control."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        status = auren.rollout.abort(assistant, by=by, reason=reason)
    _print_status(status, json_output)


@rollout_app.command("advance")
def rollout_advance(
    ctx: typer.Context, assistant: RolloutAssistant, by: By = None, json_output: JsonOutput = False
) -> None:
    """End the current monitoring window now and decide the stage."""
    with _errors_to_exit(), _state(ctx).client() as auren:
        status = auren.rollout.advance(assistant, by=by)
    _print_status(status, json_output)


def main() -> None:
    """Entry point of the ``auren`` script."""
    app(prog_name="auren")


if __name__ == "__main__":  # pragma: no cover
    main()
