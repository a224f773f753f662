"""CI subset: SIGKILL and SIGTERM during concurrent ingestion (3 kills, 2 terminations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reliability.common import reliability_server
from reliability.kill import signal_during_ingestion
from tests.support.server import DevServer

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def fault_server() -> Iterator[DevServer]:
    with reliability_server() as server:
        yield server


async def test_sigkill_loses_nothing_acknowledged(fault_server: DevServer) -> None:
    row = await signal_during_ingestion(fault_server, kills=3, clients=3, seed=1)
    assert row.trials == 3
    assert (row.lost, row.duplicates, row.status_5xx, row.hangs) == (0, 0, 0, 0), row


async def test_sigterm_stops_in_time_and_loses_nothing(fault_server: DevServer) -> None:
    row = await signal_during_ingestion(fault_server, kills=2, clients=3, sigterm=True, seed=2)
    assert (row.lost, row.duplicates, row.status_5xx, row.hangs) == (0, 0, 0, 0), row
