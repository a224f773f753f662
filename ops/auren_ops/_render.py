"""How `auren ops` prints what the server answered (rich tables, plain lines)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import typer
from rich.console import Console
from rich.table import Table

from auren_graphs.assistants.models import (
    AssistantDiff,
    AssistantHistory,
    AssistantVersion,
    KeyChange,
    SwitchOutcome,
    SyncOutcome,
)
from auren_graphs.rollout.models import RolloutDecision, RolloutStatus

#: What a dry-run sync of a file says about the assistant on the server.
_FILE_STATE = {
    "unchanged": "in sync",
    "updated": "file differs",
    "kept": "switched",
    "created": "not synced",
}


def _console() -> Console:
    """A terminal's own width; piped or captured, wide enough that no cell is cut."""
    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(soft_wrap=True, width=240)


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


_DRY_RUN = {"created": "would create", "updated": "would update"}


def sync_line(outcome: SyncOutcome) -> str:
    action = _DRY_RUN.get(outcome.action, outcome.action) if outcome.dry_run else outcome.action
    version = f"v{outcome.version}" if outcome.version is not None else "(new version)"
    text = f"{action:<9} {outcome.name} {version} (file version {outcome.file_version})"
    return f"{text}: {outcome.note}" if outcome.note else text


def print_assistants(
    current: list[AssistantVersion], checked: Mapping[str, SyncOutcome] | None
) -> None:
    table = Table("name", "graph", "version", "file version", "origin", "status", "assistant id")
    rows = {v.name: v for v in current}
    for name in sorted(set(rows) | set(checked or {})):
        version, outcome = rows.get(name), (checked or {}).get(name)
        state = "-" if checked is None else _FILE_STATE[outcome.action] if outcome else "no file"
        table.add_row(
            name,
            version.graph_id if version else "-",
            f"v{version.version}" if version else "-",
            _dash(version.file_version if version else None),
            version.describe_origin() if version else "-",
            state,
            version.assistant_id if version else (outcome.assistant_id if outcome else "-"),
        )
    _console().print(table)


def print_history(history: AssistantHistory) -> None:
    table = Table("", "version", "origin", "file version", "file hash", "created", "context")
    for v in history.versions:
        table.add_row(
            "*" if v.version == history.current else "",
            f"v{v.version}",
            v.describe_origin(),
            _dash(v.file_version),
            (v.file_hash or "-")[:12],
            v.created_at[:19],
            json.dumps(v.context, sort_keys=True),
        )
    _console().print(table)


def _change(change: KeyChange) -> str:
    file = json.dumps(change.file_value) if change.in_file else "(absent)"
    server = json.dumps(change.server_value) if change.in_server else "(absent)"
    return f"{change.key}: file {file}, server {server}"


def diff_lines(diff: AssistantDiff) -> list[str]:
    head = f"{diff.name}: file version {diff.file_version} ({diff.file_hash[:12]})"
    server = diff.server
    if server is None:
        return [f"{head}; not on the server yet (sync creates it)"]
    head += (
        f" vs server v{server.version} (file version {_dash(server.file_version)}, "
        f"{(server.file_hash or '-')[:12]}, {server.describe_origin()})"
    )
    if diff.in_sync:
        return [f"{head}: in sync"]
    return [
        head,
        *(f"  context {_change(c)}" for c in diff.context_changes),
        *(f"  metadata {_change(c)}" for c in diff.metadata_changes),
        *(f"  {f} differs" for f in diff.field_changes),
    ]


def switch_line(outcome: SwitchOutcome) -> str:
    if outcome.new_version is None:
        already = f"v{outcome.previous} already behaves as v{outcome.target}"
        return f"{outcome.name} {already}: nothing to do"
    return (
        f"switched {outcome.name} from v{outcome.previous} to v{outcome.target}: "
        f"new version v{outcome.new_version} is a copy of v{outcome.target}"
    )


def _decision(d: RolloutDecision) -> str:
    stage = "" if d.stage is None else f" stage {d.stage + 1} ({d.percent}%)"
    who = f" by {d.by}" if d.by else ""
    why = f": {d.reason}" if d.reason else ""
    return f"#{d.seq} {d.at} {d.event}{stage}{who}{why}"


def _plan_lines(plan: Mapping[str, object]) -> list[str]:
    stages = plan.get("stages") or []
    lines = ["plan"]
    for s in stages if isinstance(stages, list) else []:
        lines.append(
            f"  stage {s['stage'] + 1}: {s['percent']}% of users, at least "
            f"{s['window_seconds']:g} s and {s['min_sample']} runs per side"
        )
    thresholds = plan.get("thresholds") or {}
    if isinstance(thresholds, Mapping):
        lines.append("  guardrails " + ", ".join(f"{k} >= {v}" for k, v in thresholds.items()))
    analysis = plan.get("analysis") or {}
    if isinstance(analysis, Mapping) and analysis.get("summary"):
        lines.append(f"  analysis   {analysis['summary']}")
    return lines


def status_lines(status: RolloutStatus) -> list[str]:
    stage = (
        f"stage {status.stage_index + 1} of {len(status.stages)}"
        if status.stage_index >= 0
        else "no stage yet"
    )
    out = [
        f"rollout    {status.rollout_id} of {status.assistant_name} ({status.assistant_id})",
        f"status     {status.status}, {stage}, {status.percent}% of users on the candidate",
        f"versions   candidate v{status.candidate_version}, control v{status.control_version}",
        f"stages     {', '.join(f'{s}%' for s in status.stages)}",
    ]
    if status.status == "rolling_out" and status.window_ends_at:
        out.append(
            f"window     ends at {status.window_ends_at} (or at `auren ops rollout advance`)"
        )
    if status.waiting:
        out.append(f"waiting    {status.waiting}; `auren ops rollout advance --force` decides now")
    if status.status == "awaiting_approval":
        out.append("waiting    for approval: `auren ops rollout approve|reject ASSISTANT`")
    if status.plan and status.status in ("planning", "awaiting_approval"):
        out += _plan_lines(status.plan)
    if status.reason:
        out.append(f"reason     {status.reason}")
    out.append("history")
    out += [f"  {_decision(d)}" for d in status.history]
    return out


def print_status(status: RolloutStatus, json_output: bool) -> None:
    if json_output:
        typer.echo(status.model_dump_json())
        return
    for line in status_lines(status):
        typer.echo(line)


def records(rows: list[dict[str, object]], json_output: bool) -> None:
    """Rows the server answered: JSON lines, or a table of their keys."""
    if json_output:
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    if not rows:
        typer.echo("none")
        return
    table = Table(*rows[0])
    for row in rows:
        table.add_row(*(_dash(row.get(key)) for key in rows[0]))
    _console().print(table)
