"""The report in a real browser: Debian's headless Chromium, driven by Playwright.

Each case writes the report to `.artifacts/` (git-ignored), opens it from disk, and
checks that every chart is drawn (an SVG of real size with shapes in it), that the
console shows no error, that the page asks the network for nothing, and writes a
full-page screenshot beside it. A missing browser fails the test: `make install`
installs Debian's chromium.
"""

from __future__ import annotations

import pytest
from langgraph.store.memory import InMemoryStore
from playwright.async_api import Browser

from auren_graphs.report import build_report
from tests.support.browser import assert_drawn, open_report
from tests.support.report_users import CONNECTIONS, END, apple_only, mixed, seed_user

pytestmark = pytest.mark.browser


async def report_of(observations: list, days: int, user: str = "user-browser") -> str:  # type: ignore[type-arg]
    store = InMemoryStore()
    await seed_user(store, user, observations)
    return await build_report(store, user, days=days, end=END, connections=CONNECTIONS)


async def test_several_months_of_mixed_data(browser: Browser) -> None:
    opened = await open_report(browser, "mixed", await report_of(mixed(150), 90))
    assert_drawn(opened, ["hrv", "rhr", "sleep", "training"])
    assert "Findings" in opened.text and "Describes 2026-11-" in opened.text
    assert "7XKQ2MZP4R" in opened.text


async def test_an_empty_user(browser: Browser) -> None:
    opened = await open_report(browser, "empty", await report_of([], 90, "user-empty"))
    assert_drawn(opened, [])
    assert "There is no data yet for user-empty." in opened.text
    assert "auren ingest user-empty" in opened.text


async def test_a_user_with_only_apple_data(browser: Browser) -> None:
    opened = await open_report(browser, "apple", await report_of(apple_only(120), 90))
    assert_drawn(opened, ["sdnn", "rhr", "sleep"])
    assert "SDNN spot checks are not comparable with the overnight rMSSD baseline" in opened.text
    assert "No training load in these days" in opened.text


async def test_a_year(browser: Browser) -> None:
    opened = await open_report(browser, "year", await report_of(mixed(365 + 67), 365))
    assert_drawn(opened, ["hrv", "rhr", "sleep", "training"])


async def test_the_checks_see_console_errors_network_requests_and_blank_charts(
    browser: Browser,
) -> None:
    page = (
        "<!DOCTYPE html><html><body>"
        '<figure class="chart" data-chart="blank"><svg width="10" height="10"></svg></figure>'
        '<img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script>'
        "</body></html>"
    )
    opened = await open_report(browser, "harness-check", page)
    assert opened.requests == ["http://127.0.0.1:9/pixel.png"]
    assert any("boom" in e for e in opened.errors)
    with pytest.raises(AssertionError):
        assert_drawn(opened, ["blank"])
