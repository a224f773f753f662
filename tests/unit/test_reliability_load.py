"""The pure helpers of the sustained-load family: RSS slope, throughput spans, duplicates."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from reliability.load import Sample, duplicates, make_call, rss_slope, throughput


def samples(rss: list[float], per_window: list[int], every: float = 5.0) -> list[Sample]:
    """Samples `every` seconds apart; `per_window[i]` ingests between sample i and i+1."""
    done = [0]
    for n in per_window:
        done.append(done[-1] + n)
    return [Sample(i * every, mb, d) for i, (mb, d) in enumerate(zip(rss, done, strict=True))]


def test_slope_of_a_straight_line_is_its_gradient_per_minute() -> None:
    # 1 MB every 5 s is 12 MB/min.
    line = samples([200.0 + i for i in range(13)], [0] * 12)
    assert rss_slope(line) == pytest.approx(12.0)
    assert rss_slope(line, 0) == pytest.approx(12.0)


def test_slope_leaves_out_the_warm_up() -> None:
    # Steep growth during the first 20 % of the run, flat afterwards.
    rss = [100.0, 175.0, 250.0] + [250.0] * 8
    run = samples(rss, [0] * 10)
    assert rss_slope(run) == pytest.approx(0.0, abs=1e-9)
    assert rss_slope(run, 0) > 0


def test_slope_of_flat_noise_is_near_zero() -> None:
    run = samples([300.0 + (1 if i % 2 else -1) for i in range(121)], [0] * 120)
    assert abs(rss_slope(run)) < 0.05


def test_slope_needs_two_samples() -> None:
    assert math.isnan(rss_slope([]))
    assert math.isnan(rss_slope(samples([100.0], [])))


def test_throughput_per_span_in_ingests_per_minute() -> None:
    # 10 ingests every 5 s = 120/min throughout.
    steady = samples([0.0] * 11, [10] * 10)
    assert throughput(steady) == pytest.approx([120.0] * 5)


def test_throughput_shows_decay_between_first_and_last_span() -> None:
    run = samples([0.0] * 11, [10, 10, 8, 8, 6, 6, 4, 4, 2, 2])
    rates = throughput(run)
    assert rates == pytest.approx([120.0, 96.0, 72.0, 48.0, 24.0])
    assert rates[-1] / rates[0] == pytest.approx(0.2)


def test_throughput_with_uneven_spans_and_too_few_samples() -> None:
    run = samples([0.0] * 4, [6, 6, 6])  # 3 windows cannot make 5 spans: fewer, not empty
    assert throughput(run) == pytest.approx([72.0] * 3)
    assert throughput(samples([0.0], [])) == []


def item(metric: str, day: str, *ids: str) -> dict[str, Any]:
    return {
        "namespace": ["users", "u", "metrics", metric],
        "key": day,
        "value": {"rows": [{"id": i, "value": 1.0} for i in ids]},
    }


def test_duplicates_counts_an_identity_stored_twice() -> None:
    assert duplicates([item("heart_rate", "2026-01-01", "a", "b")]) == 0
    assert duplicates([item("heart_rate", "2026-01-01", "a"), item("hr", "2026-01-02", "a")]) == 1
    assert duplicates([item("heart_rate", "2026-01-01", "a", "a", "a")]) == 2


def test_duplicates_allows_one_combined_or_derived_row_per_item() -> None:
    items = [
        item("steps", day, "apple_health:derived:apple_steps:steps", "oura:combined")
        for day in ("2026-01-01", "2026-01-02")
    ]
    assert duplicates(items) == 0
    items.append(item("steps", "2026-01-02", "apple_health:derived:apple_steps:steps"))
    assert duplicates(items) == 1


def test_calls_cover_days_of_their_own_with_identities_to_audit() -> None:
    last = date(2026, 11, 20)
    calls = []
    for n in range(6):
        calls.append(make_call("u", n, last, seed=0))
        last = date.fromordinal(last.toordinal() - calls[-1].days)
    assert [c.device for c in calls[:3]] == ["oura", "manual", "apple_health"]
    assert all(c.identities for c in calls)
    seen: set[str] = set()
    for call in calls:
        assert not seen & call.identities  # identities unique per call
        seen |= call.identities
