"""The report without a server or a browser: what `gather` reads and computes, and the
page `render_report` writes (escaping, no script, no network reference, gaps as gaps)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from auren_graphs.analysis import method
from auren_graphs.analysis.series import read_rows, to_records
from auren_graphs.canonical import Observation
from auren_graphs.report import MAX_DAYS, build_report, gather, render_report
from auren_graphs.report.charts import gap_runs
from auren_graphs.report.gather import latest_findings
from tests.support.report_users import CONNECTIONS, END, apple_only, mixed, seed_user

USER = "user-report"


async def seeded(observations: list[Observation], **kwargs: Any) -> InMemoryStore:
    store = InMemoryStore()
    await seed_user(store, USER, observations, **kwargs)
    return store


@pytest.fixture(scope="module")
async def mixed_store() -> InMemoryStore:
    return await seeded(mixed())


async def test_gather_shows_the_methods_rows_on_every_day_and_nothing_on_days_without_data(
    mixed_store: InMemoryStore,
) -> None:
    data = await gather(mixed_store, USER, days=90, end=END)
    assert data.days[0] == END - timedelta(days=89) and data.days[-1] == END
    assert len(data.days) == 90 and all(len(v) == 90 for v in data.series.values())
    # Exactly the method's rows, computed over the days read before the first day shown.
    rows = await read_rows(mixed_store, USER, END, 89 + 67)
    records, _ = to_records(rows)
    assessed = {r["day"]: r for r in method.assess(records)}
    for i, day in enumerate(data.days):
        row = assessed.get(day.isoformat(), {})
        for name in ("ln_rmssd", "hrv_mean7", "hrv_band_low", "sleep_debt_hours"):
            assert data.series[name][i] == row.get(name), (day, name)
    # The band exists from the first day shown: the 60-day reference was read too.
    assert data.series["hrv_band_low"][0] is not None
    # Days without an HRV value have none: no interpolation, no carry-forward.
    hrv_days = {o.day for o in mixed() if o.metric == "hrv_rmssd"}
    for day, value in zip(data.days, data.series["ln_rmssd"], strict=True):
        assert (value is not None) == (day in hrv_days)
    trip = [d for d in data.days if d not in hrv_days]
    assert len(trip) >= 6


async def test_training_load_is_the_days_entries_and_monotony_the_methods(
    mixed_store: InMemoryStore,
) -> None:
    data = await gather(mixed_store, USER, days=30, end=END)
    loads = {o.day: o.value for o in mixed() if o.metric == "training_load"}
    assert data.series["training_load"] == [loads.get(d) for d in data.days]
    assert any(v is not None for v in data.series["training_monotony"])


async def test_freshness_is_the_newest_day_of_each_metric(mixed_store: InMemoryStore) -> None:
    data = await gather(mixed_store, USER, days=90, end=END + timedelta(days=5))
    fresh = {f.metric: f for f in data.freshness}
    newest_hrv = max(o.day for o in mixed() if o.metric == "hrv_rmssd")
    assert fresh["hrv_rmssd"].newest_day == newest_hrv
    assert fresh["hrv_rmssd"].devices == ("oura",)
    assert fresh["hrv_rmssd"].age_days(data.end) == (END + timedelta(days=5) - newest_hrv).days
    assert fresh["hrv_sdnn"].newest_day is None and fresh["hrv_sdnn"].days_with_data == 0
    assert data.newest_day == max(o.day for o in mixed())


async def test_the_findings_listed_are_each_analyzers_latest(mixed_store: InMemoryStore) -> None:
    data = await gather(mixed_store, USER, days=90, end=END)
    assert data.findings
    per_analyzer: dict[str, set[str]] = {}
    for f in data.findings:
        per_analyzer.setdefault(f["analyzer"], set()).add(f["day"])
    assert all(len(days) == 1 for days in per_analyzer.values())
    assert {"hrv", "rhr", "sleep", "training", "composite"} <= set(per_analyzer)


def test_an_older_analysis_is_history_not_a_current_finding() -> None:
    old = {"id": "hrv_alert", "analyzer": "hrv", "day": "2026-11-01", "severity": "alert"}
    new = {"id": "hrv_status", "analyzer": "hrv", "day": "2026-11-20", "severity": "info"}
    sleep = {"id": "sleep_debt", "analyzer": "sleep", "day": "2026-11-18", "severity": "watch"}
    assert [f["id"] for f in latest_findings([old, new, sleep])] == ["sleep_debt", "hrv_status"]


async def test_an_apple_only_user_has_sdnn_and_no_hrv_analysis() -> None:
    store = await seeded(apple_only())
    data = await gather(store, USER, days=90, end=END)
    assert all(v is None for v in data.series["ln_rmssd"])
    assert any(v is not None for v in data.series["hrv_sdnn"])
    assert data.hrv_sdnn and data.hrv_sdnn["newest_day"] <= END.isoformat()
    assert "hrv_not_analysed" in {f["id"] for f in data.findings}
    page = render_report(data)
    assert 'id="note-hrv"' in page and 'data-chart="sdnn"' in page
    assert 'data-chart="hrv"' not in page
    assert "not comparable with the overnight rMSSD baseline" in page
    assert 'id="note-training"' in page


async def test_an_empty_user_gets_a_page_that_says_so_and_how_to_ingest() -> None:
    store = await seeded([])
    data = await gather(store, "nobody", days=90, end=END, connections=CONNECTIONS)
    assert data.is_empty and not data.has_any_data and data.findings == ()
    page = render_report(data)
    assert "There is no data yet for <strong>nobody</strong>." in page
    assert "auren ingest nobody apple_health export.xml" in page
    assert "<svg" not in page
    assert "7XKQ2MZP4R" in page  # the connections are still listed


async def test_a_user_whose_data_is_older_than_the_period_is_told_so() -> None:
    store = await seeded(mixed(40))
    page = await build_report(store, USER, days=7, end=END + timedelta(days=100))
    assert "Older data exists" in page and "no data yet" not in page.lower()


async def test_stale_data_is_shown_as_of_its_day(mixed_store: InMemoryStore) -> None:
    page = await build_report(mixed_store, USER, days=90, end=END + timedelta(days=10))
    newest = max(o.day for o in mixed())
    age = (END + timedelta(days=10) - newest).days
    assert f"As of {newest.isoformat()}: the newest data is {age} days older" in page


@pytest.mark.parametrize("days", [0, -1, MAX_DAYS + 1])
async def test_days_out_of_range_are_refused(days: int) -> None:
    with pytest.raises(ValueError, match="days must be between"):
        await gather(InMemoryStore(), USER, days=days, end=END)


def test_gap_runs() -> None:
    assert gap_runs([True, False, False, True, False]) == [(1, 2), (4, 4)]
    assert gap_runs([True, True]) == []
    assert gap_runs([False]) == [(0, 0)]


async def test_the_page_is_self_contained_and_draws_gaps_as_gaps(
    mixed_store: InMemoryStore,
) -> None:
    page = await build_report(mixed_store, USER, days=90, end=END, connections=CONNECTIONS)
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page.lower()
    # Nothing to fetch: every reference points inside the page.
    refs = re.findall(r'(?:href|src)="([^"]*)"|url\(([^)]*)\)', page)
    assert refs and all((a or b).startswith("#") for a, b in refs)
    assert not re.search(r"@import|<link|<img|<iframe|<object", page, re.IGNORECASE)
    # Four charts, ids unique across the inlined SVGs.
    assert re.findall(r'data-chart="(\w+)"', page) == ["hrv", "rhr", "sleep", "training"]
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # The daily HRV line is broken where days have no value: several path pieces.
    daily = re.search(r'<g id="hrv-daily">\s*<path d="([^"]+)"', page)
    assert daily and daily.group(1).count("M") > 3
    assert page.count('id="hrv-gap-0-') >= 3
    # Findings with their day, numbers, rule, citation and grade in words.
    assert 'data-finding="hrv_status"' in page and "Describes 2026-11-" in page
    assert "our own engineering choice, not a published rule" in page
    assert "Rule <code>hrv_status</code>" in page and "Plews" in page
    assert "2026-11-20 07:41 UTC" in page and "disconnected" in page


async def test_user_controlled_text_is_escaped(mixed_store: InMemoryStore) -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    data = await gather(
        mixed_store,
        USER,
        days=30,
        end=END,
        connections=[
            {"device": evil, "vendor_user_id": evil, "status": evil, "last_sync_at": evil}
        ],
    )
    finding = {
        "id": evil,
        "analyzer": "hrv",
        "day": END.isoformat(),
        "title": evil,
        "summary": evil,
        "severity": evil,
        "values": {evil: evil},
        "rule": evil,
        "source": evil,
        "grade": evil,
        "grade_words": evil,
    }
    page = render_report(replace(data, user_id=evil, findings=(finding,)))
    assert "<script" not in page and "<img" not in page
    assert 'data-finding="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 10
    assert 'class="finding info"' in page  # an unknown severity is not a class name


async def test_a_year_renders(mixed_store: InMemoryStore) -> None:
    store = await seeded(mixed(365 + 67))
    data = await gather(store, USER, days=365, end=END)
    assert len(data.days) == 365 and data.series["hrv_band_low"][0] is not None
    page = render_report(data)
    assert re.findall(r'data-chart="(\w+)"', page) == ["hrv", "rhr", "sleep", "training"]
