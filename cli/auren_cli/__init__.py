"""The ``auren`` command line: the client's calls, one command each.

Its own distribution (``cli/``, ``auren-cli``) on the client's public API, as
``langgraph-cli`` is beside ``langgraph-sdk``. The root app and what commands share are
in :mod:`._base`; the commands in :mod:`._data` (ingest, metrics, report, analyze) and
:mod:`._devices` (devices, export, erase). Other distributions add command groups as
plugins: an entry point in the ``auren.cli`` group naming a ``typer.Typer`` (the server's
distribution adds ``auren ops``); a plugin's commands read ``ctx.obj.url`` and
``ctx.obj.api_key``.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

from . import _data, _devices  # noqa: F401  (they register their commands)
from ._base import CliState, app

__all__ = ["PLUGIN_GROUP", "CliState", "app", "main"]

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
