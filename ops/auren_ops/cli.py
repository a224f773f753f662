"""`auren ops ...`: the operators' commands, a plugin of the client's `auren` CLI.

Registered as the `ops` entry point of the `auren.cli` group (root `pyproject.toml`);
the client's CLI finds it there and never imports this package itself. Global options
(`--url`, `--api-key`) come from the root command through `ctx.obj`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auren_ops import _render as render

if TYPE_CHECKING:
    from auren_ops._client import SyncOpsClient

app = typer.Typer(
    name="ops",
    help="Operators (a service API key): assistants kept as files, staged rollouts, "
    "Oura subscriptions, failed webhook events.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
assistants_app = typer.Typer(
    name="assistants",
    help="Assistants kept as files (assistants/*.json): sync, list, versions, diff, switch.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
rollout_app = typer.Typer(
    name="rollout",
    help="Staged rollouts of an analysis assistant's version: start, status, approve, "
    "reject, abort, advance.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
vendors_app = typer.Typer(
    name="oura",
    help="Oura webhook subscriptions of this deployment.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
webhooks_app = typer.Typer(
    name="webhooks",
    help="Webhook events that exhausted their retries: list, requeue.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(assistants_app)
app.add_typer(rollout_app)
app.add_typer(vendors_app)
app.add_typer(webhooks_app)


@contextmanager
def _ops(ctx: typer.Context) -> Iterator[SyncOpsClient]:
    """The ops client for the root command's options; an expected failure prints its
    message (no traceback) and exits with 1."""
    from auren_client import AurenError
    from auren_ops._client import SyncOpsClient

    state = ctx.obj
    try:
        with SyncOpsClient(
            getattr(state, "url", None),
            getattr(state, "api_key", None),
            **getattr(state, "ops_options", {}),
        ) as client:
            yield client
    except (AurenError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


# -- assistants ---------------------------------------------------------------------

Directory = Annotated[Path, typer.Option("--dir", help="Directory of assistant files")]
Name = Annotated[str, typer.Argument(help="Assistant name (its file's name)")]
DEFAULT_DIR = Path("assistants")


def _file(directory: Path, name: str) -> dict[str, Any]:
    path = directory / f"{name}.json"
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}") from None
    if not isinstance(content, dict):
        raise typer.BadParameter(f"{path} is not a JSON object")
    return content


@assistants_app.command("sync")
def assistants_sync(
    ctx: typer.Context,
    directory: Directory = DEFAULT_DIR,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would change")] = False,
) -> None:
    """Create or update the server's assistants from the files; unchanged files write
    nothing. Every file is checked first: one invalid file and nothing is synced."""
    from auren_ops._client import load_assistant_files

    with _ops(ctx) as ops:
        if dry_run:
            outcomes = [
                ops.sync_assistant(c, dry_run=True) for _, c in load_assistant_files(directory)
            ]
        else:
            outcomes = ops.sync_assistants(directory)
    for outcome in outcomes:
        typer.echo(render.sync_line(outcome))
        for warning in outcome.warnings:
            typer.echo(f"warning: {warning}", err=True)


@assistants_app.command("list")
def assistants_list(ctx: typer.Context, directory: Directory = DEFAULT_DIR) -> None:
    """The assistants synced from files, and (with their directory) whether each one
    still matches its file."""
    from auren_ops._client import load_assistant_files

    with _ops(ctx) as ops:
        current = ops.list_assistants()
        files = load_assistant_files(directory) if directory.is_dir() else []
        checked = {c["name"]: ops.sync_assistant(c, dry_run=True) for _, c in files}
    render.print_assistants(current, checked if directory.is_dir() else None)


@assistants_app.command("versions")
def assistants_versions(ctx: typer.Context, name: Name) -> None:
    """An assistant's server versions, newest first (* marks the one runs use)."""
    with _ops(ctx) as ops:
        history = ops.assistant_versions(name)
    render.print_history(history)


@assistants_app.command("diff")
def assistants_diff(ctx: typer.Context, name: Name, directory: Directory = DEFAULT_DIR) -> None:
    """The file against the server's current version: context keys and fields that differ."""
    content = _file(directory, name)
    with _ops(ctx) as ops:
        diff = ops.diff_assistant(content)
    for line in render.diff_lines(diff):
        typer.echo(line)


@assistants_app.command("switch")
def assistants_switch(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int, typer.Argument(help="Server version to behave as", min=1)],
) -> None:
    """Make runs behave exactly as VERSION did: a new version copying it whole."""
    with _ops(ctx) as ops:
        outcome = ops.switch_assistant(name, version)
    typer.echo(render.switch_line(outcome))


# -- rollouts -----------------------------------------------------------------------

Assistant = Annotated[str, typer.Argument(help="Analysis assistant: its name or id")]
By = Annotated[str | None, typer.Option("--by", help="Who decides (kept in the history)")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the history)")]
Json = Annotated[bool, typer.Option("--json", help="Print the status as JSON")]


def _stages(text: str | None) -> list[int] | None:
    try:
        return [int(p) for p in text.split(",")] if text else None
    except ValueError:
        raise typer.BadParameter(f"--stages {text!r} is not a list like 10,50,100") from None


@rollout_app.command("start")
def rollout_start(
    ctx: typer.Context,
    assistant: Assistant,
    candidate: Annotated[int, typer.Option("--candidate", help="Version to roll out", min=1)],
    control: Annotated[
        int | None, typer.Option("--control", help="Version users stay on (default: current)")
    ] = None,
    stages: Annotated[str | None, typer.Option(help="Percentages, e.g. 10,50,100")] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Health ratio a stage needs (0.9)")
    ] = None,
    window: Annotated[
        float | None, typer.Option("--window", help="Shortest monitoring per stage, seconds")
    ] = None,
    min_sample: Annotated[
        int | None, typer.Option("--min-sample", help="Runs per side before a stage is decided")
    ] = None,
    tick: Annotated[
        int | None, typer.Option("--tick", help="Seconds between looks once a window is over")
    ] = None,
    approval: Annotated[
        bool | None, typer.Option("--approval/--no-approval", help="Wait for approval first")
    ] = None,
    by: By = None,
    json_output: Json = False,
) -> None:
    """Propose a rollout of CANDIDATE; the plan waits for approval (unless --no-approval)."""
    chosen = {
        "stages": _stages(stages),
        "health_threshold": threshold,
        "window_seconds": window,
        "min_sample": min_sample,
        "tick_seconds": tick,
        "approval_required": approval,
    }
    options = {k: v for k, v in chosen.items() if v is not None}
    with _ops(ctx) as ops:
        status = ops.start_rollout(assistant, candidate, control, options=options, by=by)
    render.print_status(status, json_output)


@rollout_app.command("status")
def rollout_status(ctx: typer.Context, assistant: Assistant, json_output: Json = False) -> None:
    """The assistant's current (or last) rollout: the plan, the stage, every decision."""
    with _ops(ctx) as ops:
        status = ops.rollout_status(assistant)
    render.print_status(status, json_output)


@rollout_app.command("approve")
def rollout_approve(
    ctx: typer.Context, assistant: Assistant, by: By = None, json_output: Json = False
) -> None:
    """Approve the plan: stage 1 starts."""
    with _ops(ctx) as ops:
        status = ops.approve_rollout(assistant, by=by)
    render.print_status(status, json_output)


@rollout_app.command("reject")
def rollout_reject(
    ctx: typer.Context,
    assistant: Assistant,
    by: By = None,
    reason: Reason = None,
    json_output: Json = False,
) -> None:
    """Reject the plan: nobody gets the candidate, nothing changes."""
    with _ops(ctx) as ops:
        status = ops.reject_rollout(assistant, by=by, reason=reason)
    render.print_status(status, json_output)


@rollout_app.command("abort")
def rollout_abort(
    ctx: typer.Context,
    assistant: Assistant,
    by: By = None,
    reason: Reason = None,
    json_output: Json = False,
) -> None:
    """Stop it: everyone back on control, the assistant back on control."""
    with _ops(ctx) as ops:
        status = ops.abort_rollout(assistant, by=by, reason=reason)
    render.print_status(status, json_output)


@rollout_app.command("advance")
def rollout_advance(
    ctx: typer.Context,
    assistant: Assistant,
    by: By = None,
    force: Annotated[
        bool, typer.Option("--force", help="Decide even with fewer runs than the minimum")
    ] = False,
    json_output: Json = False,
) -> None:
    """End the current window now and decide the stage (too few runs: it keeps waiting,
    unless --force)."""
    with _ops(ctx) as ops:
        status = ops.advance_rollout(assistant, by=by, force=force)
    render.print_status(status, json_output)


# -- the vendors' side ----------------------------------------------------------------

JsonRows = Annotated[bool, typer.Option("--json", help="Print one JSON object per row")]


@vendors_app.command("subscriptions")
def oura_subscriptions(ctx: typer.Context, json_output: JsonRows = False) -> None:
    """This deployment's Oura webhook subscriptions and when each expires (the server
    renews them before they do)."""
    with _ops(ctx) as ops:
        render.records(ops.oura_subscriptions(), json_output)


@vendors_app.command("subscribe")
def oura_subscribe(ctx: typer.Context, json_output: JsonRows = False) -> None:
    """Create the Oura subscriptions AUREN needs that do not exist yet; Oura verifies
    each by calling this deployment's /webhooks/oura (AUREN_PUBLIC_URL)."""
    with _ops(ctx) as ops:
        render.records(ops.oura_subscribe(), json_output)


@webhooks_app.command("failed")
def webhooks_failed(ctx: typer.Context, json_output: JsonRows = False) -> None:
    """Webhook events that exhausted their retries, newest first, with their last error."""
    with _ops(ctx) as ops:
        render.records(ops.failed_webhooks(), json_output)


@webhooks_app.command("requeue")
def webhooks_requeue(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(help="Event ids; none: every failed event")
    ] = None,
) -> None:
    """Make failed events due again, with fresh attempts (after fixing what failed them)."""
    with _ops(ctx) as ops:
        count = ops.requeue_webhooks(ids or None)
    typer.echo(f"requeued {count} events")
