"""Real services for the integration tests: a throwaway Postgres and `langgraph dev`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """AUREN_TEST_POSTGRES_URI when set, else a fresh embedded Postgres deleted afterwards."""
    configured = os.environ.get("AUREN_TEST_POSTGRES_URI")
    if configured:
        yield configured
        return
    import pgserver

    # Short path: Postgres puts its Unix socket here, and socket paths are limited.
    pgdata = Path(tempfile.mkdtemp(prefix="aurpg", dir="/tmp"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


@dataclass
class StoppablePostgres:
    """An embedded Postgres of a test's own that can be stopped and started again."""

    server: Any

    @property
    def uri(self) -> str:
        return str(self.server.get_uri())

    def stop(self) -> None:
        """A fast shutdown: sessions are cut off, as in a restart or a failover."""
        from pgserver._commands import pg_ctl

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()


@contextmanager
def stoppable_postgres() -> Iterator[StoppablePostgres]:
    """Never AUREN_TEST_POSTGRES_URI: this one gets stopped."""
    import pgserver

    pgdata = Path(tempfile.mkdtemp(prefix="aurst", dir="/tmp"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield StoppablePostgres(server)
    finally:
        server.ensure_postgres_running()  # cleanup stops and deletes a running one
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


@dataclass
class DevServer:
    """A `langgraph dev` process on a port of our choosing, restartable and killable."""

    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    jobs: int = 4
    config: str = "langgraph.json"
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def start(self, timeout: float = 90.0) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(LANGGRAPH),
                "dev",
                "--config",
                str(REPO / self.config),
                "--port",
                str(self.port),
                "--host",
                "127.0.0.1",
                "--no-browser",
                "--no-reload",
                "--n-jobs-per-worker",
                str(self.jobs),
            ],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"langgraph dev exited early:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/ok", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"langgraph dev did not answer /ok on {self.url}:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hooks, no flushing."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def restart(self, *, kill: bool = True) -> None:
        self.kill() if kill else self.stop()
        self.start()

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(
    env: dict[str, str], config: str = "langgraph.json", *, jobs: int = 4, port: int | None = None
) -> Iterator[DevServer]:
    """A started `DevServer` in its own temporary folder, stopped and removed afterwards.
    `port`: one chosen beforehand (when the server must know its own URL, say)."""
    workdir = Path(tempfile.mkdtemp(prefix="auren-dev-"))
    server = DevServer(env=env, workdir=workdir, config=config, jobs=jobs)
    if port is not None:
        server.port = port
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if keep := os.environ.get("AUREN_KEEP_SERVER_LOGS"):  # a folder to keep them in
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(server.log_path, Path(keep) / f"server-{server.port}.log")
        shutil.rmtree(workdir, ignore_errors=True)


def server_env(postgres_uri: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUREN_", "LANGSMITH_"))}
    env.update(
        LANGSMITH_TRACING="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        PYTHONUNBUFFERED="1",
    )
    if postgres_uri is not None:
        env["AUREN_POSTGRES_URI"] = postgres_uri
    env.update(extra)
    return env
