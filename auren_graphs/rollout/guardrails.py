"""Guardrail math: per-version health from analysis run records, candidate vs control.

Pure functions, unit-tested without a server. A run record is what the analysis graph
writes for each run of an assistant under rollout (see `auren_graphs.assignment`), with
the user's feedback merged in later.

Per version: analysis failure rate, narrative fallback rate, p95 latency, alert
findings per user-day and mean feedback. Each guardrail becomes a ratio where higher is
better and 1.0 means "as good as control" (capped at 1.0: a better candidate on one
guardrail never buys slack on another). A stage passes when both sides have the
minimum sample and every available ratio is at least its threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from auren_graphs.rollout.context import GuardrailName, RolloutContext

GUARDRAILS: tuple[GuardrailName, ...] = ("success", "narrative", "latency", "alerts", "feedback")
#: Added to both alert rates, so a move from 0 to 0.1 alerts per user-day is not "infinitely worse".
ALERT_SMOOTHING = 0.5
#: Added to both feedback means (scores are 0 to 1).
FEEDBACK_SMOOTHING = 0.05


@dataclass(frozen=True)
class VersionMetrics:
    """One version's guardrail inputs over a set of finished (or timed-out) runs."""

    runs: int = 0
    failures: int = 0
    fallbacks: int = 0
    failure_rate: float = 0.0
    fallback_rate: float = 0.0
    p95_latency_seconds: float | None = None
    user_days: int = 0
    alert_rate: float = 0.0
    feedback_count: int = 0
    feedback_mean: float | None = None
    pending: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Verdict:
    """Whether a stage passes, with each guardrail's ratio and the reason in words."""

    passed: bool
    reason: str
    health: float | None
    ratios: Mapping[GuardrailName, float] = field(default_factory=dict)
    failing: Sequence[str] = field(default_factory=tuple)
    candidate: VersionMetrics = field(default_factory=VersionMetrics)
    control: VersionMetrics = field(default_factory=VersionMetrics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reason": self.reason,
            "health": None if self.health is None else round(self.health, 4),
            "ratios": {k: round(v, 4) for k, v in self.ratios.items()},
            "failing": list(self.failing),
            "candidate": self.candidate.to_dict(),
            "control": self.control.to_dict(),
        }


def p95(values: Iterable[float]) -> float | None:
    """The 95th percentile by nearest rank (no interpolation: small samples stay honest)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _outcome(record: Mapping[str, Any], now: float, failure_timeout: float) -> bool | None:
    """True: finished; False: failed or timed out; None: still running (not counted)."""
    ok = record.get("ok")
    if ok is True:
        return True
    if ok is False:
        return False
    started = record.get("started_at")
    if isinstance(started, int | float) and now - started >= failure_timeout:
        return False
    return None


def summarize(
    records: Iterable[Mapping[str, Any]], *, now: float, failure_timeout: float
) -> VersionMetrics:
    """One version's metrics. Runs still within `failure_timeout` of their start are left out."""
    runs = failures = fallbacks = pending = 0
    latencies: list[float] = []
    alerts_by_user_day: dict[tuple[str, str], tuple[float, int]] = {}
    scores: list[float] = []
    for record in records:
        score = record.get("feedback_score")
        if isinstance(score, int | float) and not isinstance(score, bool):
            scores.append(float(score))
        outcome = _outcome(record, now, failure_timeout)
        if outcome is None:
            if record.get("started_at") is not None:
                pending += 1
            continue
        runs += 1
        if not outcome:
            failures += 1
            continue
        if record.get("fallback"):
            fallbacks += 1
        latency = record.get("latency_seconds")
        if isinstance(latency, int | float):
            latencies.append(float(latency))
        # Alerts per user-day: the newest run of each user and day counts, so a person
        # asking three times a day is one user-day, not three.
        key = (str(record.get("user_id")), str(record.get("day")))
        at = float(record.get("finished_at") or record.get("started_at") or 0.0)
        if key not in alerts_by_user_day or at >= alerts_by_user_day[key][0]:
            alerts_by_user_day[key] = (at, int(record.get("alerts") or 0))
    succeeded = runs - failures
    return VersionMetrics(
        runs=runs,
        failures=failures,
        fallbacks=fallbacks,
        failure_rate=failures / runs if runs else 0.0,
        fallback_rate=fallbacks / succeeded if succeeded else 0.0,
        p95_latency_seconds=p95(latencies),
        user_days=len(alerts_by_user_day),
        alert_rate=(
            sum(n for _, n in alerts_by_user_day.values()) / len(alerts_by_user_day)
            if alerts_by_user_day
            else 0.0
        ),
        feedback_count=len(scores),
        feedback_mean=sum(scores) / len(scores) if scores else None,
        pending=pending,
    )


def _goodness_ratio(candidate: float, control: float) -> float:
    """candidate/control of two "higher is better" values in [0, 1], capped at 1."""
    if control <= 0:
        return 1.0  # control is already at the floor: the candidate cannot be worse
    return min(1.0, candidate / control)


def ratios(
    candidate: VersionMetrics, control: VersionMetrics, latency_floor: float
) -> dict[GuardrailName, float]:
    """Each available guardrail's health ratio (1.0 = as good as control, capped)."""
    out: dict[GuardrailName, float] = {
        "success": _goodness_ratio(1 - candidate.failure_rate, 1 - control.failure_rate),
        "narrative": _goodness_ratio(1 - candidate.fallback_rate, 1 - control.fallback_rate),
        "alerts": min(
            1.0, (control.alert_rate + ALERT_SMOOTHING) / (candidate.alert_rate + ALERT_SMOOTHING)
        ),
    }
    if candidate.p95_latency_seconds is not None and control.p95_latency_seconds is not None:
        slow = max(candidate.p95_latency_seconds, latency_floor)
        usual = max(control.p95_latency_seconds, latency_floor)
        out["latency"] = min(1.0, usual / slow) if slow > 0 else 1.0
    if candidate.feedback_mean is not None and control.feedback_mean is not None:
        out["feedback"] = min(
            1.0,
            (candidate.feedback_mean + FEEDBACK_SMOOTHING)
            / (control.feedback_mean + FEEDBACK_SMOOTHING),
        )
    return out


_WORDS: dict[str, str] = {
    "success": "analysis success rate",
    "narrative": "model narrative rate (no fallback)",
    "latency": "p95 latency",
    "alerts": "alert findings per user-day",
    "feedback": "mean user feedback",
}


def _figures(name: str, candidate: VersionMetrics, control: VersionMetrics) -> str:
    pairs = {
        "success": (1 - candidate.failure_rate, 1 - control.failure_rate),
        "narrative": (1 - candidate.fallback_rate, 1 - control.fallback_rate),
        "latency": (candidate.p95_latency_seconds or 0.0, control.p95_latency_seconds or 0.0),
        "alerts": (candidate.alert_rate, control.alert_rate),
        "feedback": (candidate.feedback_mean or 0.0, control.feedback_mean or 0.0),
    }
    cand, ctrl = pairs[name]
    return f"candidate {cand:.2f} vs control {ctrl:.2f}"


def evaluate(
    candidate: VersionMetrics,
    control: VersionMetrics,
    options: RolloutContext,
    *,
    require_sample: bool = True,
) -> Verdict:
    """The stage's verdict: enough sample on both sides (unless an operator forces the
    decision: `require_sample=False`) and every ratio at its threshold."""
    short = [
        f"{side} has {metrics.runs} finished runs, fewer than the minimum {options.min_sample}"
        for side, metrics in (("candidate", candidate), ("control", control))
        if metrics.runs < options.min_sample and require_sample
    ]
    found = ratios(candidate, control, options.latency_floor_seconds)
    health = min(found.values()) if found else None
    if short:
        return Verdict(False, "; ".join(short), health, found, ["sample"], candidate, control)
    early = (
        f" (decided early: fewer than the minimum {options.min_sample} runs)"
        if min(candidate.runs, control.runs) < options.min_sample
        else ""
    )
    failing = [name for name, ratio in found.items() if ratio < options.threshold(name)]
    if failing:
        reason = "; ".join(
            f"{_WORDS[name]} ratio {found[name]:.2f} is below {options.threshold(name):.2f} "
            f"({_figures(name, candidate, control)})"
            for name in failing
        )
        return Verdict(False, reason + early, health, found, failing, candidate, control)
    reason = (
        f"every guardrail at or above its threshold (health {health:.2f}) with "
        f"{candidate.runs} candidate and {control.runs} control runs{early}"
    )
    return Verdict(True, reason, health, found, [], candidate, control)
