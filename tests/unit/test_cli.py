"""The ``auren`` CLI, run with typer's CliRunner against the fake server of test_client."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from auren_cli import CliState, app


def _sibling(name: str) -> ModuleType:
    # Loaded by path: how pytest names test modules depends on its import mode.
    spec = importlib.util.spec_from_file_location(
        f"_auren_{name}", Path(__file__).with_name(f"{name}.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fake = _sibling("test_client")
USER: str = _fake.USER
_export = _fake._export
_seed_heart_rate = _fake._seed_heart_rate
FakeServer = Any  # test_client.FakeServer, loaded by path above


@pytest.fixture
def fake() -> FakeServer:
    return _fake.FakeServer()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _state(fake: FakeServer) -> CliState:
    return CliState(client_options={"http_client": fake.http_client(), "retry_backoff": 0})


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("connect", "ingest", "metrics"):
        assert command in result.output


def test_connect(runner: CliRunner, fake: FakeServer) -> None:
    result = runner.invoke(
        app, ["connect", USER, "oura", "--vendor-user-id", "7XKQ2MZP4R"], obj=_state(fake)
    )
    assert result.exit_code == 0, result.output
    assert "connected oura to user-alice" in result.stdout
    assert fake.connections[(USER, "oura")]["vendor_user_id"] == "7XKQ2MZP4R"


def test_connect_conflict_exits_1_without_traceback(runner: CliRunner, fake: FakeServer) -> None:
    runner.invoke(
        app, ["connect", "user-bob", "oura", "--vendor-user-id", "7XKQ2MZP4R"], obj=_state(fake)
    )
    result = runner.invoke(
        app, ["connect", USER, "oura", "--vendor-user-id", "7XKQ2MZP4R"], obj=_state(fake)
    )
    assert result.exit_code == 1
    assert "connected to another user" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_ingest_file_prints_the_report(runner: CliRunner, fake: FakeServer, tmp_path: Path) -> None:
    fake.respond = lambda _: {
        "report": {
            "accepted": 3,
            "duplicates": 1,
            "updated": 0,
            "rejected": [{"ref": "data[2]", "reason": "heart rate 0 is not plausible"}],
            "rejected_count": 1,
            "records": 5,
        },
        "error": None,
    }
    path = tmp_path / "oura.json"
    path.write_text(json.dumps({"data": [], "next_token": None}))
    result = runner.invoke(app, ["ingest", USER, "oura", str(path)], obj=_state(fake))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "accepted    3" in lines
    assert "duplicates  1" in lines
    assert "rejected    1" in lines
    assert "  data[2]: heart rate 0 is not plausible" in lines


def test_ingest_json_output(runner: CliRunner, fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(4))
    result = runner.invoke(
        app, ["ingest", USER, "apple_health", str(path), "--json"], obj=_state(fake)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] == 5


@pytest.mark.parametrize("args", [["-"], []], ids=["dash", "no-file"])
def test_ingest_reads_stdin(runner: CliRunner, fake: FakeServer, args: list[str]) -> None:
    document = json.dumps({"entries": [{"entry_id": "e1", "metric": "steps", "value": 1}]})
    result = runner.invoke(app, ["ingest", USER, "manual", *args], input=document, obj=_state(fake))
    assert result.exit_code == 0, result.output
    assert fake.runs[0]["input"]["payload"] == document


def test_ingest_invalid_payload(runner: CliRunner, fake: FakeServer) -> None:
    fake.respond = lambda _: {
        "error": {"kind": "invalid_payload", "message": "not a WHOOP document"}
    }
    result = runner.invoke(app, ["ingest", USER, "whoop", "-"], input="{}", obj=_state(fake))
    assert result.exit_code == 1
    assert "error: not a WHOOP document" in result.stderr


def test_ingest_missing_file(runner: CliRunner, fake: FakeServer, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", USER, "oura", str(tmp_path / "nope.json")], obj=_state(fake)
    )
    assert result.exit_code == 1
    assert "nope.json" in result.stderr


def test_metrics_table(runner: CliRunner, fake: FakeServer) -> None:
    _seed_heart_rate(fake)
    args = ["metrics", USER, "heart_rate", "--start", "2026-11-01", "--end", "2026-11-03"]
    result = runner.invoke(app, args, obj=_state(fake))
    assert result.exit_code == 0, result.output
    assert "2026-11-03T06:00:00+00:00" in result.stdout
    assert "apple_health" in result.stdout
    assert "3 rows" in result.stdout


def test_metrics_json_lines(runner: CliRunner, fake: FakeServer) -> None:
    _seed_heart_rate(fake)
    args = ["metrics", USER, "heart_rate", "--start", "2026-11-01T07:00:00+00:00"]
    args += ["--end", "2026-11-03T07:00:00Z", "--json"]
    result = runner.invoke(app, args, obj=_state(fake))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["value"] for row in rows] == [55.0, 52.0, 58.0]
    assert rows[0] == {
        "metric": "heart_rate",
        "value": 55.0,
        "unit": "bpm",
        "day": "2026-11-01",
        "timestamp": "2026-11-01T23:30:00-08:00",
        "device": "oura",
    }


def test_metrics_bad_date_is_a_usage_error(runner: CliRunner, fake: FakeServer) -> None:
    args = ["metrics", USER, "steps", "--start", "yesterday", "--end", "2026-11-03"]
    result = runner.invoke(app, args, obj=_state(fake))
    assert result.exit_code == 2
    assert "not an ISO date" in result.output


def test_unreachable_server_from_the_environment(runner: CliRunner) -> None:
    state = CliState(client_options={"retries": 0, "timeout": 2})
    result = runner.invoke(
        app, ["connect", USER, "manual"], env={"AUREN_URL": "http://127.0.0.1:9"}, obj=state
    )
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.stderr
    assert "make dev" in result.stderr
    assert "Traceback" not in result.output


def test_url_option_wins_over_environment(runner: CliRunner) -> None:
    state = CliState(client_options={"retries": 0, "timeout": 2})
    result = runner.invoke(
        app,
        ["--url", "http://127.0.0.1:9", "--api-key", "k", "connect", USER, "manual"],
        env={"AUREN_URL": "http://127.0.0.1:7"},
        obj=state,
    )
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.stderr
    assert state.api_key == "k"


# -- metrics: names checked before any request, the catalog, default days ----------------


def test_a_wrong_metric_fails_with_a_suggestion_before_any_request(
    runner: CliRunner, fake: FakeServer
) -> None:
    result = runner.invoke(app, ["metrics", USER, "hrv"], obj=_state(fake))
    assert result.exit_code == 1
    assert "unknown metric 'hrv'; did you mean hrv_rmssd or hrv_sdnn?" in result.stderr
    assert "auren metrics --list" in result.stderr
    assert fake.requests == []


def test_metrics_list_is_the_contracts_catalog(runner: CliRunner) -> None:
    result = runner.invoke(app, ["metrics", "--list", "--json"])
    assert result.exit_code == 0, result.output
    listed = {row["name"]: row["unit"] for row in map(json.loads, result.stdout.splitlines())}
    assert listed["hrv_rmssd"] == "ms" and listed["sleep_duration"] == "s"
    assert len(listed) > 30


def test_metrics_without_a_user_says_what_to_give(runner: CliRunner) -> None:
    result = runner.invoke(app, ["metrics"])
    assert result.exit_code == 2
    assert "give USER and METRIC" in result.output


def test_metrics_default_to_the_last_30_days(runner: CliRunner, fake: FakeServer) -> None:
    runner.invoke(app, ["metrics", USER, "steps", "--end", "2026-11-30"], obj=_state(fake))
    assert fake.requests == [("GET", f"/users/{USER}/metrics/steps")]
    runner.invoke(app, ["metrics", USER, "steps"], obj=_state(fake))
    assert len(fake.requests) == 2


# -- the report, devices, export, erase ---------------------------------------------------


def test_report_writes_the_page(runner: CliRunner, fake: FakeServer, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    result = runner.invoke(
        app, ["report", USER, "--days", "30", "--out", str(page)], obj=_state(fake)
    )
    assert result.exit_code == 0, result.output
    assert page.read_text() == f"<html>report of {USER}, 30 days</html>"
    assert f"wrote {page}" in result.stdout


def test_report_refuses_too_few_days(runner: CliRunner, fake: FakeServer) -> None:
    result = runner.invoke(app, ["report", USER, "--days", "3"], obj=_state(fake))
    assert result.exit_code == 2
    assert fake.requests == []


def test_devices_connect_prints_the_vendors_url(runner: CliRunner, fake: FakeServer) -> None:
    result = runner.invoke(app, ["devices", "connect", USER, "whoop"], obj=_state(fake))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"https://vendor.example/oauth?for={USER}"
    assert "Open this URL" in result.stderr


def test_devices_connect_refuses_a_vendor_without_an_api(
    runner: CliRunner, fake: FakeServer
) -> None:
    result = runner.invoke(app, ["devices", "connect", USER, "apple_health"], obj=_state(fake))
    assert result.exit_code == 1
    assert "use oura or whoop" in result.stderr
    assert fake.requests == []


def test_devices_list_and_disconnect(runner: CliRunner, fake: FakeServer) -> None:
    runner.invoke(app, ["connect", USER, "oura", "--vendor-user-id", "7XK"], obj=_state(fake))
    listed = runner.invoke(app, ["devices", "list", USER], obj=_state(fake))
    assert listed.exit_code == 0, listed.output
    assert "oura" in listed.stdout and "connected" in listed.stdout and "7XK" in listed.stdout
    gone = runner.invoke(app, ["devices", "disconnect", USER, "oura"], obj=_state(fake))
    assert gone.exit_code == 0, gone.output
    assert "oura disconnected from user-alice (revoked at the vendor)" in gone.stdout
    again = runner.invoke(app, ["devices", "disconnect", USER, "whoop"], obj=_state(fake))
    assert again.exit_code == 1
    assert "whoop is not connected" in again.stderr


def test_export_writes_the_archive(runner: CliRunner, fake: FakeServer, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    result = runner.invoke(app, ["export", USER, "--out", str(archive)], obj=_state(fake))
    assert result.exit_code == 0, result.output
    assert archive.read_bytes().startswith(b"PK")


def test_erase_asks_first(runner: CliRunner, fake: FakeServer) -> None:
    runner.invoke(app, ["connect", USER, "manual"], obj=_state(fake))
    kept = runner.invoke(app, ["erase", USER], input="n\n", obj=_state(fake))
    assert kept.exit_code == 1 and "Aborted" in kept.output
    assert (USER, "manual") in fake.connections
    erased = runner.invoke(app, ["erase", USER, "--yes"], obj=_state(fake))
    assert erased.exit_code == 0, erased.output
    assert f"erased {USER}: connections 1" in erased.stdout
    assert (USER, "manual") not in fake.connections
