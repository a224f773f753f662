"""The README's tables are held to the code they describe: every server setting and
every canonical metric appears there as it is."""

from __future__ import annotations

import re
from pathlib import Path

from auren_contract import METRICS
from auren_graphs.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
#: Set by the server from langgraph.json, never by an operator.
INTERNAL = {"LANGGRAPH_STORE"}


def environment_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"AUREN_{name.upper()}")
    return names - INTERNAL


def test_every_setting_is_in_the_environment_table() -> None:
    table = README.split("## Environment", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)`", table, flags=re.MULTILINE))
    assert environment_names() - listed == set(), "settings missing from the README"


def test_the_metric_table_is_the_contracts() -> None:
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| ([^|]+) \| (\w+) \| ([^|]+) \|$", README, re.M)
    table = {name: (unit.strip(), kind, meaning.strip()) for name, unit, kind, meaning in rows}
    assert table == {m.name: (m.unit, m.kind, m.meaning) for m in METRICS.values()}
