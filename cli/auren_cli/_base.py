"""The ``auren`` root app and what every command shares: the global options, the
client they configure, and how an expected failure ends a command (message, exit 1).

Global options (``--url``, ``--api-key``, also read from ``AUREN_URL`` and
``AUREN_API_KEY``) live on the root app and reach every command through
:class:`CliState` (``ctx.obj``); plugins read ``ctx.obj.url`` and ``ctx.obj.api_key``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from auren_client import API_KEY_ENV, DEFAULT_URL, URL_ENV, AurenError, SyncAurenClient

app = typer.Typer(
    name="auren",
    help="AUREN: ingest wearable data, read a user's metrics, report and analyses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings' wrapped lines read as one paragraph
)

#: What commands print for a person; errors and progress go to stderr.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


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


def client_of(ctx: typer.Context) -> SyncAurenClient:
    """The client the global options describe."""
    return ctx.ensure_object(CliState).client()


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """An expected failure prints its message (no traceback) and exits with 1."""
    try:
        yield
    except (AurenError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


def moment(value: str) -> date:
    """``2026-11-02`` is a day; anything longer is an ISO 8601 date-time."""
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time") from None


User = Annotated[str, typer.Argument(help="AUREN user id", show_default=False)]
