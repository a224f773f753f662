"""The deployment configs agree with each other and name only what exists."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _config(name: str) -> dict[str, object]:
    return json.loads((REPO / name).read_text())


def test_memory_config_is_the_main_one_without_persistence() -> None:
    main = _config("langgraph.json")
    memory = _config("langgraph.platform.json")
    assert {k: v for k, v in main.items() if k not in ("checkpointer", "store")} == memory


def test_every_graph_and_factory_named_in_the_config_imports() -> None:
    main = _config("langgraph.json")
    targets = [*main["graphs"].values()]  # type: ignore[attr-defined]
    for graph in targets:
        module, attr = graph.split(":")
        assert hasattr(importlib.import_module(module), attr), graph
    for section in ("checkpointer", "store"):
        module, attr = main[section]["path"].rsplit(".", 1)  # type: ignore[index]
        assert callable(getattr(importlib.import_module(module), attr))


def test_every_python_package_is_in_its_distribution() -> None:
    import tomllib

    from setuptools import find_packages

    server = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    finding = dict(server["packages"]["find"])
    found: set[str] = set()
    for where in finding.pop("where"):
        found |= set(find_packages(str(REPO / where), **finding))
    on_disk = {
        ".".join(path.parent.relative_to(root).parts)
        for root, package in ((REPO, "auren_graphs"), (REPO / "ops", "auren_ops"))
        for path in (root / package).rglob("__init__.py")
    }
    assert on_disk <= found, on_disk - found

    def setuptools_of(folder: str) -> dict[str, object]:
        return tomllib.loads((REPO / folder / "pyproject.toml").read_text())["tool"]["setuptools"]

    assert setuptools_of("contract")["packages"] == ["auren_contract"]
    assert setuptools_of("client")["packages"] == ["auren_client"]
    assert setuptools_of("cli")["packages"] == ["auren_cli"]


def test_the_client_reports_the_version_it_is_installed_as() -> None:
    from importlib.metadata import version

    import auren_client

    assert auren_client.__version__ == version("auren-client")
