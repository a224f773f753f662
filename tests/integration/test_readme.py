"""The README's examples, run as written against a real server: every fenced block
marked `run` (```bash run, ```python run), from a directory laid out like a clone, with
the server found the way `make dev`'s is (`.auren/dev-server.json`), not through
AUREN_URL. The suite's server enforces auth, so the service key rides in AUREN_API_KEY
(the README's `make dev` is open and needs none)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from auren_contract import DEV_SERVER_FILE
from tests.support.config import SERVICE_KEY
from tests.support.server import REPO, DevServer

pytestmark = pytest.mark.integration

BLOCK = re.compile(r"^```(bash|python) run\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [body for found, body in BLOCK.findall(text) if found == language]


@pytest.fixture
def clone(server: DevServer, tmp_path: Path) -> Path:
    """A directory like a clone after `make install`, with `make dev` serving."""
    for name in (".venv", "examples", "assistants"):
        (tmp_path / name).symlink_to(REPO / name)
    announced = tmp_path / DEV_SERVER_FILE
    announced.parent.mkdir()
    assert server.process is not None
    announced.write_text(json.dumps({"url": server.url, "pid": server.process.pid}))
    return tmp_path


def shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AUREN_URL"}
    return {**env, "AUREN_API_KEY": SERVICE_KEY, "NO_COLOR": "1"}


def test_the_readme_has_examples_to_run() -> None:
    assert len(blocks("bash")) >= 1 and len(blocks("python")) >= 1


@pytest.mark.parametrize("index", range(len(blocks("bash"))))
def test_each_command_runs_as_written(clone: Path, index: int) -> None:
    for line in blocks("bash")[index].splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command or command.startswith("#"):
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=clone, env=shell_env(),
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_each_python_example_runs_as_written(clone: Path, index: int) -> None:
    script = clone / f"example_{index}.py"
    script.write_text(blocks("python")[index])
    done = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), script.name], cwd=clone, env=shell_env(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), "the example printed nothing"
