"""CI subset: Postgres stopped and started twice under load (a few seconds each)."""

from __future__ import annotations

import pytest

from reliability.postgres import postgres_outage

pytestmark = pytest.mark.reliability


async def test_postgres_restart_loses_nothing_and_answers_503_not_500() -> None:
    row = await postgres_outage(outages=2, clients=3, seed=4)
    assert row.trials == 2
    assert (row.lost, row.duplicates, row.status_5xx, row.hangs) == (0, 0, 0, 0), row
    assert all(seconds < 60 for seconds in row.recovery), row
    # The prober saw Postgres down: /health answered 503 (naming it) at least once.
    assert any(note.startswith("probes:") and "/health 503" in note for note in row.notes), row
