"""`make dev`: the dev server as a newcomer expects it to behave.

`langgraph dev` alone quietly serves elsewhere when its port is taken, ignores `.env`,
and leaves the embedded Postgres running after Ctrl-C. This launcher, run as
`python -m auren_graphs.devserver`:

- reads `.env` from where it runs (variables already in the environment win);
- serves on `--port` when given, refusing a taken one with a message that says what to
  do; else on `--preferred-port` (2024), or the next free port when that one is taken,
  saying so;
- writes the URL to `auren_contract.DEV_SERVER_FILE` while it serves, which the CLI and
  `AurenClient()` started in the same directory read, and prints it; a second launcher in
  the same directory refuses to start (it would share the first one's Postgres);
- starts the embedded Postgres itself (unless `AUREN_POSTGRES_URI` names one), hands
  its URI to the server, and stops it once the server has stopped, on Ctrl-C too. A
  launcher killed outright leaves Postgres running; the next start picks it up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from dotenv import load_dotenv

from auren_contract import DEV_SERVER_FILE, dev_server_url

HOST = "127.0.0.1"
#: How far past a taken preferred port to look for a free one.
PORT_SEARCH = 50


class PortTakenError(Exception):
    """The port asked for is taken: nothing was started."""


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_port(explicit: int | None, preferred: int) -> tuple[int, str | None]:
    """The port to serve on, and a note when it is not the one a person expects."""
    if explicit is not None:
        if not port_is_free(explicit):
            raise PortTakenError(
                f"port {explicit} is taken by another process; choose a free one "
                f"(make dev PORT={explicit + 1}) or stop what holds it"
            )
        return explicit, None
    for port in range(preferred, preferred + PORT_SEARCH):
        if port_is_free(port):
            note = None if port == preferred else f"port {preferred} is taken by another process"
            return port, note
    raise PortTakenError(
        f"ports {preferred}-{preferred + PORT_SEARCH - 1} are all taken; give one: make dev PORT=N"
    )


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """The embedded Postgres in `data_dir/pgdata` for as long as the server runs."""
    from pgserver import postgres_server  # the dev extra: only `make dev` needs it

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: pgserver's own exit hook stays out of it, this one stops it.
    server = postgres_server.get_server(pgdata, cleanup_mode=None)
    try:
        yield str(server.get_uri())
    finally:
        print("AUREN: stopping the embedded Postgres", file=sys.stderr, flush=True)
        _stop_postgres(server, pgdata)


def _stop_postgres(server: object, pgdata: Path) -> None:
    # pg_ctl directly: pgserver stops only when no other process holds a handle, and a
    # dev server killed earlier may have left its handle behind. Ctrl-C may have reached
    # Postgres too (it shares the terminal's process group) and be shutting it down
    # already, when pg_ctl fails: either way, return once it is gone.
    import psutil
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import

    postmaster = _postmaster(pgdata)
    with suppress(subprocess.CalledProcessError):
        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=getattr(server, "system_user", None)
        )
    if postmaster is not None:
        with suppress(psutil.Error):
            psutil.Process(postmaster).wait(60)


def _postmaster(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def announced(url: str, directory: Path) -> Iterator[None]:
    """`DEV_SERVER_FILE` names `url` while the server runs."""
    path = directory / DEV_SERVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            path.unlink()


def serve(command: Sequence[str], env: dict[str, str]) -> int:
    """Run `langgraph dev` until it exits. Ctrl-C reaches it from the terminal (same
    process group); this process waits for it instead of dying first, so what follows
    (stopping Postgres) runs."""
    process = subprocess.Popen(command, env=env)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    here = Path.cwd()
    if (here / ".env").is_file():
        load_dotenv(here / ".env", override=False)
        print("AUREN: read .env", file=sys.stderr)
    if running := dev_server_url(here):
        # A second one would share (and on Ctrl-C stop) the first one's Postgres.
        print(f"AUREN: make dev already serves this directory at {running}", file=sys.stderr)
        return 1
    try:
        port, note = choose_port(args.port, args.preferred_port)
    except PortTakenError as exc:
        print(f"AUREN: {exc}", file=sys.stderr)
        return 1
    url = f"http://{HOST}:{port}"
    _say_where(url, note)
    command = [
        str(Path(sys.executable).with_name("langgraph")), "dev", "--host", HOST,
        "--port", str(port), "--no-browser", "--config", args.config,
        "--n-jobs-per-worker", str(args.jobs),
    ]  # fmt: skip
    env = dict(os.environ)
    with announced(url, here):
        if env.get("AUREN_POSTGRES_URI"):
            return serve(command, env)
        from auren_graphs.settings import get_settings

        with embedded_postgres(get_settings().data_dir) as uri:
            return serve(command, {**env, "AUREN_POSTGRES_URI": uri})


def _say_where(url: str, note: str | None) -> None:
    if note:
        print(f"AUREN: {note}; serving on {url} instead.", file=sys.stderr)
    print(
        f"AUREN: {url} (the auren CLI and AurenClient() in this directory find it; "
        f"elsewhere: export AUREN_URL={url})",
        file=sys.stderr,
        flush=True,
    )


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m auren_graphs.devserver")
    parser.add_argument("--port", type=int, help="serve here or refuse (a taken port)")
    parser.add_argument("--preferred-port", type=int, default=2024)
    parser.add_argument("--config", default="langgraph.json")
    parser.add_argument("--jobs", type=int, default=4, help="runs at once per worker")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
