"""CI subset: one minute of sustained ingestion with analyses in between, audited."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from reliability.common import healthy, reliability_server
from reliability.load import sustained_load
from tests.support.server import DevServer

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def load_server() -> Iterator[DevServer]:
    with reliability_server() as server:
        yield server


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return int(found[1])


async def test_a_minute_of_load_loses_nothing_and_fails_nothing(load_server: DevServer) -> None:
    row = await sustained_load(load_server, seconds=60, seed=5)
    notes = "; ".join(row.notes)
    assert (row.lost, row.duplicates, row.status_5xx, row.hangs, row.garbage) == (0,) * 5, row
    assert row.trials > 0
    assert number(r"(\d+) of \d+ ingests acknowledged", notes) == row.trials
    assert number(r"(\d+) analyses", notes) > 0
    assert number(r"(\d+) values acknowledged", notes) > 0
    assert number(r"over (\d+) RSS samples", notes) >= 10  # one every 5 s
    assert "nan" not in notes
    assert healthy(load_server)
