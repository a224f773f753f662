"""Issue 15's outside check, as a person at a terminal would run it: the `auren` script
(a subprocess, not the library) against a real server ingests several months of vendor
files, writes the report, which headless Chromium opens with every chart drawn and no
console error; a wrong metric name fails with a suggestion; `auren analyze` streams
findings and the narrative and exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from auren_graphs.analysis.method import METHOD_VERSION
from tests.support import payloads
from tests.support.browser import assert_drawn, open_report
from tests.support.server import DevServer

pytestmark = [pytest.mark.browser]

AUREN = Path(sys.executable).with_name("auren")
END = date.today() - timedelta(days=1)  # last night's data, as a wearable syncs it
DAYS = 120


def auren(server: DevServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUREN_URL": server.url, "NO_COLOR": "1", "COLUMNS": "160"}
    return subprocess.run(
        [str(AUREN), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def training_entries(days: int, end: date) -> dict[str, Any]:
    """Manual sRPE training load on four days of every week."""
    entries = []
    for n in range(days):
        day = end - timedelta(days=days - 1 - n)
        if day.weekday() in (0, 2, 4, 5):
            load = 300 + 40 * (n % 7) + (200 if day.weekday() == 5 else 0)
            entries.append(
                {"entry_id": f"load-{day}", "metric": "training_load", "value": load,
                 "unit": "au", "date": day.isoformat()}
            )  # fmt: skip
    return {"entries": entries}


@pytest.fixture
def months_of_data(server: DevServer, user_id: str, tmp_path: Path) -> str:
    nights = tmp_path / "oura-sleep.json"
    nights.write_text(json.dumps(payloads.oura_sleep_page(DAYS, END, drop_last=5)))
    training = tmp_path / "training.json"
    training.write_text(json.dumps(training_entries(DAYS, END)))
    for device, file in (("oura", nights), ("manual", training)):
        assert auren(server, "connect", user_id, device).returncode == 0
        ingested = auren(server, "ingest", user_id, device, str(file), "--no-progress", "--json")
        assert ingested.returncode == 0, ingested.stderr
        assert json.loads(ingested.stdout)["rejected_count"] == 0
    return user_id


async def test_analyze_then_the_report_in_chromium(
    server: DevServer, months_of_data: str, browser: Browser, tmp_path: Path
) -> None:
    done = auren(server, "analyze", months_of_data, "How is my recovery?")
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stderr and "findings; narrative by" in done.stderr
    assert f"method {METHOD_VERSION};" in done.stderr  # the result says which method made it
    assert "evidence:" in done.stdout  # a finding with its rule's source and grade
    assert f"({END.isoformat()}," in done.stdout  # ... and the day it describes

    page = tmp_path / "report.html"
    written = auren(server, "report", months_of_data, "--out", str(page))
    assert written.returncode == 0, written.stderr
    assert f"wrote {page}" in written.stdout
    opened = await open_report(browser, "outside-check", page.read_text(encoding="utf-8"))
    assert_drawn(opened, ["hrv", "rhr", "sleep", "training"])
    assert f"Describes {END.isoformat()}" in opened.text  # the findings of that analysis


def test_a_wrong_metric_name_fails_with_a_suggestion(server: DevServer, user_id: str) -> None:
    wrong = auren(server, "metrics", user_id, "hrv")
    assert wrong.returncode == 1
    assert "unknown metric 'hrv'; did you mean hrv_rmssd" in wrong.stderr
    assert "auren metrics --list" in wrong.stderr
    listed = auren(server, "metrics", "--list")
    assert listed.returncode == 0 and "hrv_rmssd" in listed.stdout and "ms" in listed.stdout


def test_metrics_default_to_the_last_30_days(server: DevServer, months_of_data: str) -> None:
    rows = auren(server, "metrics", months_of_data, "hrv_rmssd", "--json")
    assert rows.returncode == 0, rows.stderr
    days = [json.loads(line)["day"] for line in rows.stdout.splitlines()]
    assert days[-1] == END.isoformat() and len(days) == 29  # today has no night yet


def test_analyze_of_an_unknown_assistant_exits_1(server: DevServer, user_id: str) -> None:
    failed = auren(server, "analyze", user_id, "--assistant", "analysis-nonexistent")
    assert failed.returncode == 1
    assert "error:" in failed.stderr and "Traceback" not in failed.stderr
