"""CI subset: Schemathesis over AUREN's own routes (25 cases per operation)."""

from __future__ import annotations

import pytest

from reliability.schema_fuzz import schema_fuzz

pytestmark = pytest.mark.reliability


async def test_custom_routes_never_answer_5xx_to_generated_requests() -> None:
    row = await schema_fuzz(examples=25)
    assert (row.status_5xx, row.hangs, row.garbage) == (0, 0, 0), row
    # Signed and token-carrying requests reached the parsers: some were accepted.
    assert "POST /webhooks/manual 200" in row.notes[0], row
    assert row.trials > 150, row
