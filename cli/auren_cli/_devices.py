"""``auren`` commands over a user's devices and data lifetime: connect a vendor account
through its OAuth, backfill, disconnect, export everything, erase everything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ._base import User, app, client_of, err, errors_to_exit, out
from ._data import print_ingest_report

devices = typer.Typer(
    help="A user's devices: connect a vendor account, backfill, disconnect.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(devices, name="devices")

Vendor = Annotated[str, typer.Argument(help="whoop or oura", show_default=False)]


@devices.command("list")
def list_devices(ctx: typer.Context, user: User) -> None:
    """The user's devices: status (connected, needs_reauth, disconnected), last sync."""
    with errors_to_exit(), client_of(ctx) as auren:
        found = auren.devices(user)
    table = Table("device", "status", "vendor user", "connected", "last sync", "last error")
    for device in found:
        synced = device.last_sync_at.isoformat(timespec="seconds") if device.last_sync_at else ""
        table.add_row(
            device.device,
            device.status,
            device.vendor_user_id or "",
            device.connected_at.isoformat(timespec="seconds"),
            synced,
            device.last_error or "",
        )
    out.print(table)


@devices.command("connect")
def connect_vendor(
    ctx: typer.Context,
    user: User,
    vendor: Vendor,
    return_to: Annotated[
        str | None,
        typer.Option(help="Where the browser goes afterwards (an origin the server allows)"),
    ] = None,
) -> None:
    """Print the URL that connects the user's vendor account: open it in the user's
    browser. AUREN stores the connection and starts a 30-day backfill."""
    with errors_to_exit(), client_of(ctx) as auren:
        url = auren.connect_url(user, vendor, return_to=return_to)
    err.print(f"Open this URL in {user}'s browser to connect {vendor}:")
    typer.echo(url)


@devices.command("backfill")
def backfill(
    ctx: typer.Context,
    user: User,
    vendor: Vendor,
    days: Annotated[int, typer.Option(min=1, max=3650, help="How many days back")] = 30,
) -> None:
    """Fetch the user's last DAYS days from the vendor's API; prints pages as they land."""

    def progress(event: dict[str, Any]) -> None:
        state = "done" if event.get("done") else "…"
        err.print(
            f"[dim]{event.get('collection')}: {event.get('pages')} pages, "
            f"{event.get('records')} records {state}[/dim]"
        )

    with errors_to_exit(), client_of(ctx) as auren:
        report = auren.backfill(user, vendor, days=days, progress=progress)
    print_ingest_report(report)


@devices.command("disconnect")
def disconnect(ctx: typer.Context, user: User, vendor: Vendor) -> None:
    """Disconnect: revoked at the vendor, tokens deleted, the data kept."""
    with errors_to_exit(), client_of(ctx) as auren:
        answer = auren.disconnect(user, vendor)
    revoked = "revoked at the vendor" if answer.get("revoked") else "not revoked at the vendor"
    typer.echo(f"{vendor} disconnected from {user} ({revoked}); the data is kept")


@app.command()
def export(
    ctx: typer.Context,
    user: User,
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the zip archive", dir_okay=False)
    ] = Path("auren-export.zip"),
) -> None:
    """Write everything stored about the user to one zip archive (metrics, findings,
    devices without their tokens, a manifest)."""
    with errors_to_exit(), client_of(ctx) as auren:
        archive = auren.export(user)
        out_file.write_bytes(archive)
    typer.echo(f"wrote {out_file} ({len(archive) // 1024} kB)")


@app.command()
def erase(
    ctx: typer.Context,
    user: User,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase everything about the user: data, findings, threads, connections (revoked
    at the vendor). There is no undo; `auren export` first to keep a copy."""
    if not yes:
        typer.confirm(f"Erase everything about {user}? There is no undo", abort=True)
    with errors_to_exit(), client_of(ctx) as auren:
        removed = auren.erase(user)
    typer.echo(f"erased {user}: " + ", ".join(f"{k} {v}" for k, v in removed.items() if v))
