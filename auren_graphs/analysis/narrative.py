"""The narrative: a model's words when one is configured, a deterministic writer otherwise.

Numbers in a narrative come only from the findings (and the data's age): a model's text
with any other number is discarded for the deterministic one. Every narrative names the
day its findings describe; when the newest data is more than a day older than the
analysis day (`as_of`), it says "as of <day>" and how old that is, and never "today" (a
model's text that does is discarded too). Model calls have a timeout, retries with backoff
(inside the OpenAI client) and a circuit breaker, so a failing model costs little and
never loses the findings.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auren_graphs.analysis.findings import Finding, days_words
from auren_graphs.prompts import NARRATIVE_SYSTEM, NARRATIVE_USER, STYLE_WORDS
from auren_graphs.settings import get_settings

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_TODAY = re.compile(r"\btoday\b", re.IGNORECASE)
STALE_AFTER_DAYS = 1  # data more than this many days older than the analysis day is stale


def freshness(findings: Iterable[Finding], as_of: date | None) -> dict[str, Any] | None:
    """The newest day the findings describe and its age on `as_of`; None without either."""
    days = [str(f["day"]) for f in findings if f.get("day")]
    if not days or as_of is None:
        return None
    newest = max(days)
    age = (as_of - date.fromisoformat(newest)).days
    return {
        "as_of": as_of.isoformat(),
        "newest_day": newest,
        "age_days": age,
        "stale": age > STALE_AFTER_DAYS,
    }


def day_lead(day: str | None, as_of: date | None) -> str:
    """How a narrative introduces the findings of one day, relative to the analysis day."""
    if day is None:
        return ""
    if as_of is None:
        return f"For {day}:"
    age = (as_of - date.fromisoformat(day)).days
    if age == 0:
        return f"Today, {day}:"
    if age == 1:
        return f"Yesterday, {day}:"
    if age < 0:
        return f"For {day}:"
    return f"As of {day} ({days_words(age)} old on {as_of.isoformat()}, nothing newer):"


def _severity(f: Finding) -> int:
    return {"alert": 0, "watch": 1}.get(f["severity"], 2)


def deterministic_narrative(
    findings: Sequence[Finding], style: str = "concise", as_of: date | None = None
) -> str:
    """A plain narrative built from the findings' own sentences, grouped by the day they
    describe (newest first), each group introduced by its day and, if old, its age."""
    if not findings:
        return "There is no data yet to analyse. Connect a device or add entries first."
    ordered = sorted(findings, key=_severity)
    chosen = ordered if style == "detailed" else ordered[:5]
    by_day: dict[str | None, list[Finding]] = {}
    for f in sorted(chosen, key=lambda f: str(f.get("day") or ""), reverse=True):
        by_day.setdefault(f.get("day"), []).append(f)
    parts = []
    for day, group in by_day.items():
        lines = [f"{f['title']}. {f['summary']} (Source: {f['grade_words']}.)" for f in group]
        parts.append(" ".join([day_lead(day, as_of), *lines]).strip())
    return " ".join(parts)


def stale_wording(narrative: str, fresh: Mapping[str, Any] | None) -> str | None:
    """Why a narrative misstates how old the data is, or None when it does not: stale
    data called "today", or the newest day not named (as YYYY-MM-DD, in any language)."""
    if not fresh or not fresh["stale"]:
        return None
    if _TODAY.search(narrative):
        return f"the narrative says 'today' about data from {fresh['newest_day']}"
    if fresh["newest_day"] not in narrative:
        return f"the narrative does not name the day of the data, {fresh['newest_day']}"
    return None


def allowed_numbers(findings: Iterable[Finding], facts: Any = None) -> list[str]:
    """Every number that a finding states, as written and as its values (and the facts')."""
    text = json.dumps([list(findings), facts], default=str)
    return _NUMBER.findall(text)


def unsupported_numbers(
    narrative: str, findings: Sequence[Finding], facts: Mapping[str, Any] | None = None
) -> list[str]:
    """Numbers in the narrative that no finding (or fact such as the data's age) states,
    at the narrative's precision."""
    allowed = allowed_numbers(findings, facts)
    out = []
    for written in _NUMBER.findall(narrative):
        digits = len(written.split(".")[1]) if "." in written else 0
        target = float(written)
        if not any(abs(round(float(a), digits) - target) < 10 ** -(digits + 3) for a in allowed):
            out.append(written)
    return out


def freshness_words(fresh: Mapping[str, Any] | None) -> str:
    """What the model is told about the data's age."""
    if fresh is None:
        return "There are no findings with a day."
    newest, age = fresh["newest_day"], fresh["age_days"]
    if fresh["stale"]:
        return (
            f"The newest data is from {newest}, {days_words(age)} before the analysis day. "
            f'Say "as of {newest}" and that the data is {days_words(age)} old; never say '
            '"today".'
        )
    if age == 1:
        return f"The newest data is from yesterday, {newest}."
    return f"The newest data is from {newest}, the analysis day."


def messages(
    request: str,
    findings: Sequence[Finding],
    style: str,
    language: str,
    as_of: date | None = None,
) -> list[tuple[str, str]]:
    slim = [
        {k: f.get(k) for k in ("day", "title", "summary", "severity", "values", "grade_words")}
        for f in findings
    ]
    fresh = freshness(findings, as_of)
    return [
        (
            "system",
            NARRATIVE_SYSTEM.format(language=language, style_words=STYLE_WORDS.get(style, style)),
        ),
        (
            "human",
            NARRATIVE_USER.format(
                request=request,
                as_of=as_of.isoformat() if as_of else "not given",
                freshness=freshness_words(fresh),
                findings=json.dumps(slim, indent=1),
            ),
        ),
    ]


@dataclass
class CircuitBreaker:
    """Stops calling a failing model for `reset_after` seconds after `threshold` failures."""

    threshold: int = 3
    reset_after: float = 30.0
    failures: int = 0
    opened_at: float | None = field(default=None)

    def allows(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at >= self.reset_after:
            # Half-open: this caller probes; the rest stay out until it reports (a
            # success closes the breaker, a failure re-opens it) or another cool-down ends.
            self.opened_at = time.monotonic()
            return True
        return False

    def record(self, ok: bool) -> None:
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = time.monotonic()


MODEL_BREAKER = CircuitBreaker(
    threshold=get_settings().model_breaker_threshold,
    reset_after=get_settings().model_breaker_reset_seconds,
)


def chunk_text(text: str) -> list[Any]:
    """Split a narrative into word chunks for streaming, keeping the spacing."""
    return re.findall(r"\S+\s*", text)
