"""`make dev`'s launcher as a newcomer meets it: `.env` read, a taken port refused or
stepped around (and the URL said and found by the CLI), Ctrl-C stopping the embedded
Postgres it started. A real `langgraph dev` and a real embedded Postgres."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from auren_contract import DEV_SERVER_FILE
from tests.support.server import REPO, free_port

pytestmark = pytest.mark.integration

PYTHON = sys.executable
AUREN = Path(sys.executable).with_name("auren")


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def launcher_env() -> dict[str, str]:
    """A newcomer's shell: none of the suite's AUREN settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUREN_", "LANGSMITH_"))}
    return {**env, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}


def test_a_taken_port_asked_for_is_refused_saying_what_to_do(
    held_port: int, tmp_path: Path
) -> None:
    refused = subprocess.run(
        [PYTHON, "-m", "auren_graphs.devserver", "--port", str(held_port)],
        cwd=tmp_path, env=launcher_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert f"port {held_port} is taken by another process" in refused.stderr
    assert f"make dev PORT={held_port + 1}" in refused.stderr
    assert not (tmp_path / DEV_SERVER_FILE).exists()


def test_env_file_taken_port_and_ctrl_c(held_port: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / ".env").write_text(f"AUREN_DATA_DIR={data}\n")
    log = (tmp_path / "dev.log").open("wb")
    launcher = subprocess.Popen(
        [PYTHON, "-m", "auren_graphs.devserver", "--preferred-port", str(held_port),
         "--config", str(REPO / "langgraph.json"), "--jobs", "2"],
        cwd=tmp_path, env=launcher_env(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    try:
        url = wait_until_serving(tmp_path, launcher)
        said = (tmp_path / "dev.log").read_text()
        assert f"port {held_port} is taken by another process; serving on {url}" in said
        assert url != f"http://127.0.0.1:{held_port}"
        postmaster = int((data / "pgdata" / "postmaster.pid").read_text().split()[0])  # .env
        found = subprocess.run(  # no AUREN_URL: found through the file make dev wrote
            [str(AUREN), "metrics", "user-newcomer", "hrv_rmssd", "--json"],
            cwd=tmp_path, env=launcher_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert found.returncode == 0, found.stderr
        second = subprocess.run(  # it would share, and on Ctrl-C stop, the first's Postgres
            [PYTHON, "-m", "auren_graphs.devserver"], cwd=tmp_path, env=launcher_env(),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1 and f"already serves this directory at {url}" in second.stderr

        os.killpg(launcher.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        assert launcher.wait(60) in (0, -signal.SIGINT, 130)
        assert not running(postmaster), "Ctrl-C left the embedded Postgres running"
        assert not (tmp_path / DEV_SERVER_FILE).exists()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)


def wait_until_serving(directory: Path, launcher: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert launcher.poll() is None, (directory / "dev.log").read_text()[-3000:]
        with_url = directory / DEV_SERVER_FILE
        if with_url.exists():
            url = str(json.loads(with_url.read_text())["url"])
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    raise AssertionError((directory / "dev.log").read_text()[-3000:])


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_free_port_helper_is_free() -> None:  # the launcher's probe agrees with the OS
    from auren_graphs.devserver import port_is_free

    port = free_port()
    assert port_is_free(port)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        assert not port_is_free(port)
