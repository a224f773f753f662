"""The narrative's guards: numbers only from findings, the circuit breaker, the writer."""

from __future__ import annotations

import time
from datetime import date

import pytest

from auren_graphs import observability
from auren_graphs.analysis.narrative import (
    CircuitBreaker,
    deterministic_narrative,
    freshness,
    messages,
    stale_wording,
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


def dated(day: str, **extra: object) -> list[dict[str, object]]:
    return [{**f, "day": day, **extra} for f in FINDINGS]


def test_freshness_is_the_newest_findings_day_and_its_age() -> None:
    findings = [*dated("2026-11-10"), {**FINDINGS[0], "day": "2026-11-12"}]
    assert freshness(findings, date(2026, 11, 20)) == {
        "as_of": "2026-11-20",
        "newest_day": "2026-11-12",
        "age_days": 8,
        "stale": True,
    }
    assert freshness(dated("2026-11-19"), date(2026, 11, 20))["stale"] is False  # type: ignore[index]
    assert freshness(FINDINGS, date(2026, 11, 20)) is None  # no day: nothing to say
    assert freshness(dated("2026-11-19"), None) is None


def test_deterministic_narrative_of_stale_data_says_as_of_and_how_old() -> None:
    text = deterministic_narrative(dated("2026-11-10"), as_of=date(2026, 11, 20))
    assert text.startswith("As of 2026-11-10 (10 days old on 2026-11-20, nothing newer): ")
    assert "today" not in text.lower()
    fresh = freshness(dated("2026-11-10"), date(2026, 11, 20))
    assert unsupported_numbers(text, dated("2026-11-10"), fresh) == []


def test_deterministic_narrative_names_each_day_newest_first() -> None:
    findings = [{**FINDINGS[0], "day": "2026-11-15"}, {**FINDINGS[1], "day": "2026-11-20"}]
    text = deterministic_narrative(findings, as_of=date(2026, 11, 20))
    assert text.index("Today, 2026-11-20:") < text.index("several days")
    assert text.index("several days") < text.index("As of 2026-11-15 (5 days old")
    assert "Yesterday, 2026-11-19:" in deterministic_narrative(
        dated("2026-11-19"), as_of=date(2026, 11, 20)
    )


def test_the_data_age_is_a_number_a_model_may_state_only_when_given() -> None:
    fresh = freshness(dated("2026-11-12"), date(2026, 11, 20))
    text = "As of 2026-11-12, your data is 8 days old; your HRV average is 3.91."
    assert unsupported_numbers(text, dated("2026-11-12")) == ["8"]
    assert unsupported_numbers(text, dated("2026-11-12"), fresh) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("As of 2026-11-10 your HRV was low.", None),
        ("Today your HRV is low (data from 2026-11-10).", "'today'"),
        ("Your HRV was low ten days ago.", "does not name the day"),
    ],
)
def test_stale_wording_of_a_model_narrative(text: str, problem: str | None) -> None:
    fresh = freshness(dated("2026-11-10"), date(2026, 11, 20))
    found = stale_wording(text, fresh)
    assert found is None if problem is None else problem in (found or "")
    if found is not None:
        assert observability.fallback_class(found) == "stale_wording"
    # Fresh data may be called today.
    assert (
        stale_wording("Today your HRV is low.", freshness(dated("2026-11-20"), date(2026, 11, 20)))
        is None
    )


def test_the_model_prompt_gives_each_findings_day_and_the_datas_age() -> None:
    stale = messages("How am I?", dated("2026-11-10"), "concise", "English", date(2026, 11, 20))
    system, human = stale[0][1], stale[1][1]
    assert 'do not say "today"' in system
    assert "The analysis day is 2026-11-20." in human
    assert 'Say "as of 2026-11-10" and that the data is 10 days old; never say "today".' in human
    assert '"day": "2026-11-10"' in human
    fresh = messages("How am I?", dated("2026-11-20"), "concise", "English", date(2026, 11, 20))[1][
        1
    ]
    assert "The newest data is from 2026-11-20, the analysis day." in fresh
    assert "as of" not in fresh.lower()
