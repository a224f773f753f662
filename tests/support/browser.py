"""Headless Chromium (Debian's, driven by Playwright) opening a report as a person would.

`open_report` writes the page to `.artifacts/` (git-ignored), opens it from disk and
reports what a reader gets: each chart's drawn size and shapes, the text, console
errors and any network request; a full-page screenshot is written beside it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Request, async_playwright

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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless; a missing binary fails (never skips) saying how to
    install it."""
    assert os.access(CHROMIUM, os.X_OK), (
        f"no Chromium at {CHROMIUM}: run `make install` (it installs Debian's chromium), "
        "or set AUREN_CHROMIUM to a Chromium binary"
    )
    async with async_playwright() as playwright:
        # Playwright starts it headless with a fresh, temporary --user-data-dir.
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield browser
        finally:
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
