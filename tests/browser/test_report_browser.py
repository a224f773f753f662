"""The report in a real browser: Debian's headless Chromium, driven by Playwright.

Each case writes the report to `.artifacts/` (git-ignored), opens it from disk, and
checks that every chart is drawn (an SVG of real size with shapes in it), that the
console shows no error, that the page asks the network for nothing, and writes a
full-page screenshot beside it. A missing browser fails the test: `make install`
installs Debian's chromium.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from langgraph.store.memory import InMemoryStore
from playwright.async_api import Browser, ConsoleMessage, Request, async_playwright

from auren_graphs.report import build_report
from tests.support.report_users import CONNECTIONS, END, apple_only, mixed, seed_user

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("AUREN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
# As the machines' notes say: without the networking flags Chromium calls home at start.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert os.access(CHROMIUM, os.X_OK), (
        f"no Chromium at {CHROMIUM}: run `make install` (it installs Debian's chromium), "
        "or set AUREN_CHROMIUM to a Chromium binary"
    )
    async with async_playwright() as playwright:
        # Playwright starts it headless with a fresh, temporary --user-data-dir.
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        yield browser
        await browser.close()


@dataclass
class Opened:
    charts: list[dict[str, object]]
    text: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


async def open_report(browser: Browser, name: str, html: str) -> Opened:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"report-{name}.html"
    path.write_text(html, encoding="utf-8")
    url = path.as_uri()
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    requests: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(f"{message.type}: {message.text}")

    def on_request(request: Request) -> None:
        if request.url != url:
            requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("request", on_request)
    await page.goto(url, wait_until="load")
    charts = await page.eval_on_selector_all(
        "figure.chart",
        """figures => figures.map(f => {
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
            return {
                id: f.dataset.chart,
                width: box.width,
                height: box.height,
                shapes: svg ? svg.querySelectorAll('path, use, rect').length : 0,
                drawn: svg ? svg.getBBox().width : 0,
            };
        })""",
    )
    text = await page.inner_text("body")
    await page.screenshot(path=str(ARTIFACTS / f"report-{name}.png"), full_page=True)
    await context.close()
    return Opened(charts=charts, text=text, errors=errors, requests=requests)


def assert_drawn(opened: Opened, expected: list[str]) -> None:
    assert [c["id"] for c in opened.charts] == expected
    for chart in opened.charts:
        assert chart["width"] > 500 and chart["height"] > 150, chart  # type: ignore[operator]
        assert chart["shapes"] > 50 and chart["drawn"] > 300, chart  # type: ignore[operator]
    assert opened.errors == []
    assert opened.requests == []


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
