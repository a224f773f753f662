"""The narrative's guards: numbers only from findings, the circuit breaker, the writer."""

from __future__ import annotations

import time

from auren_graphs.analysis.narrative import (
    CircuitBreaker,
    deterministic_narrative,
    unsupported_numbers,
)

FINDINGS = [
    {
        "id": "hrv_status",
        "title": "HRV below your normal range",
        "severity": "watch",
        "summary": "Your 7-day average is 3.91, below your normal range (3.96 to 4.12).",
        "values": {"mean7": 3.912525, "band_low": 3.957747},
        "grade_words": "a peer-reviewed rule",
    },
    {
        "id": "hrv_alert",
        "title": "HRV below normal for several days",
        "severity": "alert",
        "summary": "HRV has been below your normal range for 5 consecutive days.",
        "values": {"days_below_normal": 5},
        "grade_words": "our own engineering choice, not a published rule",
    },
]


def test_numbers_must_come_from_the_findings() -> None:
    assert (
        unsupported_numbers("Your HRV average is 3.91 and has been low for 5 days.", FINDINGS) == []
    )
    # Rounded versions of a finding's value are fine; invented numbers are not.
    assert unsupported_numbers("It is about 3.9.", FINDINGS) == []
    assert unsupported_numbers("HRV fell 37 percent over 2 weeks.", FINDINGS) == ["37", "2"]


def test_deterministic_narrative_orders_by_severity_and_names_the_grade() -> None:
    text = deterministic_narrative(FINDINGS)
    assert text.index("several days") < text.index("normal range (3.96")
    assert "not a published rule" in text
    assert unsupported_numbers(text, FINDINGS) == []
    assert "no data" in deterministic_narrative([]).lower()


def test_circuit_breaker_opens_after_failures_and_half_opens_after_the_pause() -> None:
    breaker = CircuitBreaker(threshold=2, reset_after=0.05)
    assert breaker.allows()
    breaker.record(ok=False)
    assert breaker.allows()
    breaker.record(ok=False)
    assert not breaker.allows()
    time.sleep(0.06)
    assert breaker.allows()  # half-open: one call may try
    assert not breaker.allows()  # ...and only one, while it is out
    breaker.record(ok=False)
    assert not breaker.allows()  # that one failed: open again at once
    time.sleep(0.06)
    assert breaker.allows()
    breaker.record(ok=True)
    assert breaker.allows()
    assert breaker.failures == 0
