"""Guardrail math and rollout options, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from auren_graphs.rollout.context import RolloutContext
from auren_graphs.rollout.guardrails import VersionMetrics, evaluate, p95, ratios, summarize

NOW = 1_000_000.0


def run(
    user: str = "u1",
    day: str = "2026-11-20",
    *,
    ok: bool | None = True,
    fallback: bool = False,
    latency: float = 0.4,
    alerts: int = 0,
    feedback: float | None = None,
    started: float = NOW - 60,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "user_id": user,
        "day": day,
        "ok": ok,
        "fallback": fallback,
        "latency_seconds": latency,
        "alerts": alerts,
        "started_at": started,
        "finished_at": started + latency,
    }
    if feedback is not None:
        record["feedback_score"] = feedback
    return record


def metrics(records: list[dict[str, Any]], timeout: float = 300) -> VersionMetrics:
    return summarize(records, now=NOW, failure_timeout=timeout)


def healthy(n: int, **kwargs: Any) -> list[dict[str, Any]]:
    return [run(f"u{i}", **kwargs) for i in range(n)]


OPTIONS = RolloutContext(min_sample=5)


# -- per-version metrics -------------------------------------------------------------------


def test_p95_is_the_nearest_rank() -> None:
    assert p95([]) is None
    assert p95([3.0]) == 3.0
    assert p95([float(v) for v in range(1, 101)]) == 95.0
    assert p95([float(v) for v in range(1, 21)]) == 19.0  # ceil(0.95 * 20) = 19th value
    assert p95([5.0, 1.0, 3.0]) == 5.0


def test_failures_include_runs_that_never_finished() -> None:
    records = [
        run("a"),
        run("b", ok=False),
        run("c", ok=None, started=NOW - 400),  # timed out: failed
        run("d", ok=None, started=NOW - 10),  # still running: not counted yet
    ]
    m = metrics(records)
    assert (m.runs, m.failures, m.pending) == (3, 2, 1)
    assert m.failure_rate == pytest.approx(2 / 3)


def test_fallback_rate_is_over_successful_runs() -> None:
    m = metrics([run("a", fallback=True), run("b"), run("c"), run("d"), run("e", ok=False)])
    assert m.fallbacks == 1
    assert m.fallback_rate == pytest.approx(1 / 4)


def test_alert_rate_counts_each_user_day_once_by_its_newest_run() -> None:
    records = [
        run("a", "2026-11-20", alerts=2, started=NOW - 100),
        run("a", "2026-11-20", alerts=1, started=NOW - 50),  # newer: this one counts
        run("a", "2026-11-21", alerts=0),
        run("b", "2026-11-20", alerts=3),
    ]
    m = metrics(records)
    assert m.user_days == 3
    assert m.alert_rate == pytest.approx((1 + 0 + 3) / 3)


def test_feedback_mean_and_latency() -> None:
    m = metrics([run("a", feedback=1.0, latency=0.2), run("b", feedback=0.5, latency=2.0)])
    assert m.feedback_count == 2
    assert m.feedback_mean == pytest.approx(0.75)
    assert m.p95_latency_seconds == 2.0


def test_nothing_gives_empty_metrics() -> None:
    m = metrics([])
    assert m == VersionMetrics()
    assert m.to_dict()["p95_latency_seconds"] is None


# -- candidate against control ---------------------------------------------------------------


def test_a_candidate_as_good_as_control_passes() -> None:
    verdict = evaluate(metrics(healthy(6)), metrics(healthy(20)), OPTIONS)
    assert verdict.passed, verdict.reason
    assert verdict.health == 1.0
    assert set(verdict.ratios) == {"success", "narrative", "alerts", "latency"}
    assert "6 candidate and 20 control runs" in verdict.reason


def test_too_few_runs_on_either_side_fails_with_the_sample_named() -> None:
    verdict = evaluate(metrics(healthy(4)), metrics(healthy(20)), OPTIONS)
    assert not verdict.passed
    assert verdict.failing == ["sample"]
    assert "candidate has 4 finished runs, fewer than the minimum 5" in verdict.reason
    verdict = evaluate(metrics(healthy(5)), metrics(healthy(2)), OPTIONS)
    assert "control has 2" in verdict.reason


def test_a_forced_decision_judges_the_runs_there_are_and_says_so() -> None:
    few = metrics(healthy(2))
    verdict = evaluate(few, metrics(healthy(20)), OPTIONS, require_sample=False)
    assert verdict.passed and verdict.failing == []
    assert "decided early: fewer than the minimum 5 runs" in verdict.reason
    bad = metrics(healthy(2, feedback=0.0))
    verdict = evaluate(bad, metrics(healthy(20, feedback=1.0)), OPTIONS, require_sample=False)
    assert verdict.failing == ["feedback"] and "decided early" in verdict.reason
    assert (
        "decided early" not in evaluate(metrics(healthy(6)), metrics(healthy(20)), OPTIONS).reason
    )


def test_bad_feedback_fails_and_says_so() -> None:
    candidate = metrics(healthy(6, feedback=0.0))
    control = metrics(healthy(20, feedback=1.0))
    verdict = evaluate(candidate, control, OPTIONS)
    assert not verdict.passed
    assert verdict.failing == ["feedback"]
    assert "mean user feedback ratio 0.05 is below 0.90" in verdict.reason
    assert "candidate 0.00 vs control 1.00" in verdict.reason


def test_feedback_counts_only_when_both_sides_have_some() -> None:
    candidate = metrics(healthy(6, feedback=0.0))
    assert "feedback" not in ratios(candidate, metrics(healthy(20)), 1.0)


def test_failures_and_fallbacks_fail_a_stage() -> None:
    candidate = metrics([*healthy(4), run("x", ok=False), run("y", ok=False)])
    verdict = evaluate(candidate, metrics(healthy(20)), OPTIONS)
    assert verdict.failing == ["success"]
    assert verdict.ratios["success"] == pytest.approx(4 / 6)
    candidate = metrics([*healthy(3), *healthy(3, fallback=True)])
    assert evaluate(candidate, metrics(healthy(20)), OPTIONS).failing == ["narrative"]


def test_latency_below_the_floor_is_noise_above_it_counts() -> None:
    fast, slower = metrics(healthy(6, latency=0.1)), metrics(healthy(6, latency=0.9))
    assert ratios(slower, fast, latency_floor=1.0)["latency"] == 1.0
    slow = metrics(healthy(6, latency=4.0))
    assert ratios(slow, fast, latency_floor=1.0)["latency"] == pytest.approx(0.25)
    assert evaluate(slow, metrics(healthy(20, latency=0.1)), OPTIONS).failing == ["latency"]


def test_more_alerts_per_user_day_fail() -> None:
    candidate = metrics(healthy(6, alerts=2))
    verdict = evaluate(candidate, metrics(healthy(20, alerts=0)), OPTIONS)
    assert verdict.failing == ["alerts"]
    assert verdict.ratios["alerts"] == pytest.approx(0.5 / 2.5)


def test_a_better_candidate_never_buys_slack_elsewhere() -> None:
    # Much faster and fewer alerts, but worse feedback: the ratios are capped at 1.
    candidate = metrics(healthy(6, latency=0.1, feedback=0.5))
    control = metrics(healthy(20, latency=9.0, alerts=3, feedback=1.0))
    found = ratios(candidate, control, 1.0)
    assert found["latency"] == found["alerts"] == 1.0
    assert not evaluate(candidate, control, OPTIONS).passed


def test_control_at_the_floor_cannot_be_beaten_down() -> None:
    # Both sides always fall back (no model configured): equal, not "infinitely worse".
    both = metrics(healthy(6, fallback=True))
    assert ratios(both, both, 1.0)["narrative"] == 1.0


def test_per_guardrail_thresholds_override_the_health_threshold() -> None:
    candidate = metrics(healthy(6, latency=1.5))
    control = metrics(healthy(20, latency=1.0))
    assert not evaluate(candidate, control, OPTIONS).passed
    lenient = RolloutContext(min_sample=5, guardrail_thresholds={"latency": 0.5})
    assert evaluate(candidate, control, lenient).passed


def test_verdict_to_dict_is_plain_data() -> None:
    found = evaluate(metrics(healthy(6)), metrics(healthy(20)), OPTIONS).to_dict()
    assert found["passed"] is True
    assert found["candidate"]["runs"] == 6
    assert isinstance(found["failing"], list)


# -- options -----------------------------------------------------------------------------------


def test_default_options() -> None:
    options = RolloutContext()
    assert options.stages == [10, 50, 100]
    assert options.health_threshold == 0.9
    assert options.approval_required is True
    assert options.tick_seconds == 60


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([10, 50], "last stage must be 100"),
        ([50, 10, 100], "must increase"),
        ([10, 10, 100], "must increase"),
        ([0, 100], "from 1 to 100"),
        ([], "at least 1"),
    ],
)
def test_bad_stages_are_refused(stages: list[int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RolloutContext(stages=stages)


def test_guardrail_thresholds_are_ratios() -> None:
    with pytest.raises(ValidationError, match=r"\(0, 1\]"):
        RolloutContext(guardrail_thresholds={"feedback": 1.5})
