"""CI subset: the model and vendor API stand-ins fail (500), hang and drop connections."""

from __future__ import annotations

import pytest

from reliability.common import MUST_BE_ZERO
from reliability.standins import BREAKER_THRESHOLD, MODES, CheckedRow, standin_faults

pytestmark = pytest.mark.reliability


async def test_model_and_vendor_faults_lose_nothing_and_recover() -> None:
    model, vendors = await standin_faults(quick=True)
    assert isinstance(model, CheckedRow) and isinstance(vendors, CheckedRow)
    for row in (model, vendors):
        zero = {name: getattr(row, name) for name in MUST_BE_ZERO}
        assert zero == dict.fromkeys(MUST_BE_ZERO, 0), row
        assert not row.failed, row.failed
        assert len(row.recovery) == len(MODES), row  # healthy again after every mode
    assert (model.trials, vendors.trials) == (3 * 4, 3 * 5)
    for mode in MODES:
        # Faulty model: every narrative deterministic; the breaker opened after the
        # threshold, and the runs it kept out made no model call (checked per run).
        assert model.counts[f"{mode}: model failed"] >= BREAKER_THRESHOLD, model.counts
        assert model.counts[f"{mode}: breaker open"] >= 1, model.counts
        assert model.counts[f"{mode}: model failed"] + model.counts[f"{mode}: breaker open"] == 4
        # Faulty vendors: the worker retried, and its breaker deferred events.
        assert vendors.counts[f"{mode}: retry"] > 0 and vendors.counts[f"{mode}: deferred"] > 0
