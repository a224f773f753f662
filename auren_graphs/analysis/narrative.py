"""The narrative: a model's words when one is configured, a deterministic writer otherwise.

Numbers in a narrative come only from the findings: a model's text with any other number
is discarded for the deterministic one. Model calls have a timeout, retries with backoff
(inside the OpenAI client) and a circuit breaker, so a failing model costs little and
never loses the findings.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from auren_graphs.analysis.findings import Finding
from auren_graphs.prompts import NARRATIVE_SYSTEM, NARRATIVE_USER, STYLE_WORDS
from auren_graphs.settings import get_settings

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


def deterministic_narrative(findings: Sequence[Finding], style: str = "concise") -> str:
    """A plain narrative built from the findings' own sentences."""
    if not findings:
        return "There is no data yet to analyse. Connect a device or add entries first."
    ordered = sorted(findings, key=lambda f: {"alert": 0, "watch": 1}.get(f["severity"], 2))
    chosen = ordered if style == "detailed" else ordered[:5]
    lines = [f"{f['title']}. {f['summary']} (Source: {f['grade_words']}.)" for f in chosen]
    return " ".join(lines)


def allowed_numbers(findings: Iterable[Finding]) -> list[str]:
    """Every number that a finding states, as written and as its values."""
    text = json.dumps(list(findings), default=str)
    return _NUMBER.findall(text)


def unsupported_numbers(narrative: str, findings: Sequence[Finding]) -> list[str]:
    """Numbers in the narrative that no finding states (at the narrative's precision)."""
    allowed = allowed_numbers(findings)
    out = []
    for written in _NUMBER.findall(narrative):
        digits = len(written.split(".")[1]) if "." in written else 0
        target = float(written)
        if not any(abs(round(float(a), digits) - target) < 10 ** -(digits + 3) for a in allowed):
            out.append(written)
    return out


def messages(
    request: str, day: str, findings: Sequence[Finding], style: str, language: str
) -> list[tuple[str, str]]:
    slim = [
        {k: f[k] for k in ("title", "summary", "severity", "values", "grade_words")}
        for f in findings
    ]
    return [
        (
            "system",
            NARRATIVE_SYSTEM.format(language=language, style_words=STYLE_WORDS.get(style, style)),
        ),
        (
            "human",
            NARRATIVE_USER.format(request=request, day=day, findings=json.dumps(slim, indent=1)),
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
