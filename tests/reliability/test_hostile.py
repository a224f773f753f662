"""CI subset: hostile bodies per device over HTTP (40; a few ingestions/s on the dev
server) and through the graph in-process on Postgres (250), and the known attacks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reliability.common import healthy, reliability_server
from reliability.hostile import FUZZ_JOBS, attacks, fuzz, fuzz_in_process
from tests.support.server import DevServer

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[DevServer]:
    with reliability_server(jobs=FUZZ_JOBS) as server:
        yield server


async def test_fuzzed_bodies_get_no_5xx_and_store_no_garbage(hostile_server: DevServer) -> None:
    row = await fuzz(hostile_server, per_device=40, seed=3)
    assert (row.status_5xx, row.hangs, row.garbage) == (0, 0, 0), row
    assert healthy(hostile_server)


async def test_attacks_are_refused_and_store_nothing(hostile_server: DevServer) -> None:
    row = await attacks(hostile_server)
    assert (row.status_5xx, row.hangs, row.garbage) == (0, 0, 0), row
    assert healthy(hostile_server)


async def test_fuzzed_bodies_never_crash_the_graph_nor_store_garbage() -> None:
    row = await fuzz_in_process(250, seed=5)
    assert row.trials == 1000
    assert (row.status_5xx, row.garbage) == (0, 0), row
