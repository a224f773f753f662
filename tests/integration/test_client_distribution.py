"""The client's distributions alone (`pip install ./contract ./client ./cli`), as a service
team installs them: `auren_client` imports, the `auren` CLI runs, and the server's stack
is absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import REPO

pytestmark = pytest.mark.integration

UV = Path(sys.executable).with_name("uv")
SERVER_STACK = ["langgraph_api", "psycopg", "langchain_openai", "langgraph", "auren_graphs",
                "auren_ops", "pgserver", "matplotlib"]  # fmt: skip


@pytest.fixture(scope="module")
def client_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("client-only") / "venv"
    subprocess.run([str(UV), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
         *(str(REPO / folder) for folder in ("contract", "client", "cli"))],
        check=True, timeout=600,
    )  # fmt: skip
    return venv / "bin"


def test_the_client_imports_without_the_server_stack(client_only: Path) -> None:
    probe = (
        "import importlib.util, auren_client, auren_contract\n"
        f"print([m for m in {SERVER_STACK!r} if importlib.util.find_spec(m)])\n"
        "print(sorted(auren_client.__all__)[:3])"
    )
    found = subprocess.run(  # from elsewhere: `python -c` puts its directory on the path
        [str(client_only / "python"), "-c", probe],
        cwd=client_only, capture_output=True, text=True, check=True,
    )  # fmt: skip
    absent, exported = found.stdout.splitlines()
    assert absent == "[]", f"the client distribution pulled in {absent}"
    assert exported.startswith("[")


def test_its_cli_runs_without_the_ops_plugin(client_only: Path) -> None:
    helped = subprocess.run(
        [str(client_only / "auren"), "--help"], capture_output=True, text=True, check=True
    )
    assert "ingest" in helped.stdout and "report" in helped.stdout
    assert " ops " not in helped.stdout  # the plugin comes with the server's distribution
    listed = subprocess.run(
        [str(client_only / "auren"), "metrics", "--list", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert '"name": "hrv_rmssd"' in listed.stdout
