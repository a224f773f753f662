"""Staged rollouts on the real server and Postgres, through the ops routes: approval,
10/50/100, waiting for runs, rollback, default runs getting traffic, SIGKILL.

Each test makes its own analysis assistant (a fresh name): v1 is the control (the
published method, SWC 0.5 SD), the candidate widens the normal band (SWC 0.75 SD). Every
user gets the same 90 days of Oura data, so a result's band width shows which version
really ran, beside the `cohort` and `assistant_version` the result reports. Monitoring
windows end by AUREN's ticker (no platform cron exists on any rollout thread).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import PermissionDeniedError
from typer.testing import CliRunner

from auren_cli import app
from auren_client import AurenClient, AuthenticationError
from auren_contract import assistant_id
from auren_graphs.assignment import bucket
from auren_ops import OpsClient, RolloutConflictError, RolloutStatus
from tests.support import payloads
from tests.support.config import AUTH_ENV, JWT_SECRET
from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import REPO, DevServer, running_server, server_env

pytestmark = pytest.mark.integration

END = date(2026, 11, 20)
CONTROL: dict[str, Any] = {
    "swc_multiplier": 0.5,
    "alert_after_days": 1,
    "style": "concise",
    "model_timeout_seconds": 5.0,
    "model_max_retries": 0,
}
CANDIDATE = {**CONTROL, "swc_multiplier": 0.75}
# Six analyses at once on a test server take 0.5 to 1.5 s each: p95 latencies of a few
# runs are noise here, so latency counts only above 5 s.
NOISY_LATENCY = {"latency_floor_seconds": 5.0}


# -- helpers -------------------------------------------------------------------------------


async def make_assistant(server: DevServer, *, candidate_latest: bool) -> str:
    """A fresh analysis assistant: v1 control, v2 candidate; with `candidate_latest` False,
    v3 (a switch back to v1) is the latest, as after `auren ops assistants switch NAME 1`."""
    name = f"rollout-test-{uuid.uuid4().hex[:10]}"
    ident = assistant_id(name)
    sdk = get_client(url=server.url)
    await sdk.assistants.create("analysis", context=CONTROL, assistant_id=ident, name=name)
    await sdk.assistants.update(ident, context=CANDIDATE)
    if not candidate_latest:
        async with OpsClient(url=server.url) as ops:
            assert (await ops.switch_assistant(name, 1)).new_version == 3
    return name


def pick_users(rollout_id: str, prefix: str) -> dict[str, list[str]]:
    """Two users below bucket 10, two from 10 to 49, two from 50 up."""
    groups: dict[str, list[str]] = {"10": [], "50": [], "100": []}
    n = 0
    while any(len(g) < 2 for g in groups.values()):
        user = f"{prefix}-{n}"
        n += 1
        b = bucket(user, rollout_id)
        key = "10" if b < 10 else "50" if b < 50 else "100"
        if len(groups[key]) < 2:
            groups[key].append(user)
    return groups


async def seed(auren: AurenClient, users: list[str]) -> None:
    page = payloads.oura_sleep_page(90, END, drop_last=7)
    reports = await asyncio.gather(*(auren.ingest(u, "oura", page) for u in users))
    assert all(r.accepted > 0 for r in reports)


async def analyse(auren: AurenClient, user: str, assistant: str) -> dict[str, Any]:
    """One analysis on the assistant; its final state (cohort, version, band, run id)."""
    events = [e async for e in auren.stream_analysis(user, as_of=END, assistant=assistant)]
    done = events[-1]
    assert done.type == "done" and done.result is not None
    state = dict(done.data)
    state["run_id"] = done.result.run_id
    state["band"] = state["assessment"]["hrv_band_high"] - state["assessment"]["hrv_band_low"]
    return state


async def analyse_all(auren: AurenClient, users: list[str], assistant: str) -> dict[str, Any]:
    results = await asyncio.gather(*(analyse(auren, u, assistant) for u in users))
    return dict(zip(users, results, strict=True))


async def eventually(
    check: Callable[[], Awaitable[RolloutStatus]],
    until: Callable[[RolloutStatus], bool],
    within: float,
    what: str,
) -> RolloutStatus:
    deadline = time.monotonic() + within
    while True:
        status = await check()
        if until(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {within} s:\n{status}")
        await asyncio.sleep(0.3)


def assert_cohorts(
    results: dict[str, Any], rollout_id: str, percent: int, versions: dict[str, int]
) -> None:
    """Each user ran the version their bucket assigns, by label and by behaviour."""
    for user, result in results.items():
        expected = "candidate" if bucket(user, rollout_id) < percent else "control"
        assert result["cohort"] == expected, (user, percent)
        assert result["assistant_version"] == versions[expected]
        assert result["rollout_id"] == rollout_id
    bands = {
        c: {round(r["band"], 6) for r in results.values() if r["cohort"] == c} for c in versions
    }
    assert all(len(b) <= 1 for b in bands.values()), bands
    if bands["candidate"] and bands["control"]:
        (wide,), (narrow,) = bands["candidate"], bands["control"]
        assert math.isclose(wide, narrow * 1.5, rel_tol=1e-3)


def events(status: RolloutStatus) -> list[tuple[str, int | None]]:
    return [(d.event, d.percent) for d in status.history]


async def no_crons(server: DevServer, status: RolloutStatus) -> None:
    assert await get_client(url=server.url).crons.search(thread_id=status.thread_id) == []


# -- a healthy candidate ---------------------------------------------------------------------


async def test_healthy_candidate_goes_10_50_100_and_becomes_latest(
    server: DevServer, model: OpenAIStandIn
) -> None:
    name = await make_assistant(server, candidate_latest=False)
    ident = assistant_id(name)
    rollout_id = uuid.uuid4().hex
    groups = pick_users(rollout_id, f"healthy-{rollout_id[:6]}")
    users = [u for g in groups.values() for u in g]
    versions = {"candidate": 2, "control": 3}
    options = {"window_seconds": 10, "min_sample": 2, "tick_seconds": 1, **NOISY_LATENCY}
    async with AurenClient(url=server.url) as auren, OpsClient(url=server.url) as ops:
        await seed(auren, users)
        status = await ops.start_rollout(
            name, 2, 3, rollout_id=rollout_id, options=options, by="test"
        )
        assert (status.status, status.percent, status.stage_index) == ("awaiting_approval", 0, -1)
        assert status.plan is not None and [s["percent"] for s in status.plan["stages"]] == [
            10,
            50,
            100,
        ]
        assert "swc_multiplier 0.5 -> 0.75" in status.plan["analysis"]["summary"]
        before = await analyse(auren, users[0], name)
        assert before["cohort"] is None and before["assistant_version"] is None

        status = await ops.approve_rollout(name, by="alice")
        assert (status.status, status.percent) == ("rolling_out", 10)
        for index, percent in enumerate((10, 50, 100)):
            status = await eventually(
                lambda: ops.rollout_status(name),
                lambda s, i=index: s.stage_index == i and s.status == "rolling_out",
                30,
                f"stage {index + 1}",
            )
            assert status.percent == percent
            assert_cohorts(await analyse_all(auren, users, name), rollout_id, percent, versions)
            # The window ends at the ticker's first look after it: no call from here.
            status = await eventually(
                lambda: ops.rollout_status(name),
                lambda s, i=index: s.stage_index > i or not s.active,
                40,
                f"the end of stage {index + 1}",
            )
        assert status.status == "completed", status
        after = await analyse_all(auren, users, name)
    assert events(status) == [
        ("proposed", 0),
        ("approved", 0),
        ("stage_started", 10),
        ("stage_passed", 10),
        ("stage_started", 50),
        ("stage_passed", 50),
        ("stage_started", 100),
        ("stage_passed", 100),
        ("completed", 100),
    ]
    approved = status.history[1]
    assert approved.by == "alice"
    passed = [d for d in status.history if d.event == "stage_passed"]
    assert all(d.metrics["candidate"]["runs"] >= 2 and d.metrics["passed"] for d in passed)
    latest = await get_client(url=server.url).assistants.get(ident)
    assert latest["version"] == 4 and latest["context"] == CANDIDATE
    assert latest["metadata"]["auren_restored_version"] == 2
    assert latest["metadata"]["auren_origin"] == "switch"
    assert latest["metadata"]["auren_rollout_id"] == rollout_id
    await no_crons(server, status)
    # After the rollout everyone runs the assistant itself, which is now the candidate.
    assert {r["cohort"] for r in after.values()} == {None}
    wide = next(r["band"] for u, r in after.items() if u in groups["10"])
    assert all(math.isclose(r["band"], wide) for r in after.values())


# -- a degraded candidate -------------------------------------------------------------------


async def test_bad_feedback_rolls_back_at_10_percent(
    server: DevServer, model: OpenAIStandIn
) -> None:
    name = await make_assistant(server, candidate_latest=True)  # operator synced v2
    ident = assistant_id(name)
    rollout_id = uuid.uuid4().hex
    groups = pick_users(rollout_id, f"degraded-{rollout_id[:6]}")
    users = [u for g in groups.values() for u in g]
    options = {"approval_required": False, "window_seconds": 600, "min_sample": 2}
    async with AurenClient(url=server.url) as auren, OpsClient(url=server.url) as ops:
        await seed(auren, users)
        status = await ops.start_rollout(
            name, 2, 1, rollout_id=rollout_id, options={**options, **NOISY_LATENCY}
        )
        assert (status.status, status.percent) == ("rolling_out", 10)
        results = await analyse_all(auren, users, name)
        assert_cohorts(results, rollout_id, 10, {"candidate": 2, "control": 1})
        for user, result in results.items():
            score = 0.0 if result["cohort"] == "candidate" else 1.0
            await auren.feedback(user, result["run_id"], score, comment="test")
        status = await ops.advance_rollout(name, by="test")  # an explicit resume call
        assert status.status == "rolled_back", status
        after = await analyse_all(auren, groups["10"], name)
    assert status.percent == 0
    assert status.reason is not None and "stage 1 (10%) failed" in status.reason
    assert "mean user feedback ratio 0.05 is below 0.90" in status.reason
    failed = status.history[-2]
    assert (failed.event, failed.verdict, failed.percent) == ("stage_failed", "fail", 10)
    assert failed.metrics["failing"] == ["feedback"]
    assert failed.metrics["candidate"]["feedback_mean"] == 0.0
    assert status.history[-1].event == "rolled_back"
    assert [e for e, _ in events(status)].count("stage_started") == 1
    # The assistant's latest version behaves as control again...
    latest = await get_client(url=server.url).assistants.get(ident)
    assert latest["version"] == 3 and latest["context"] == CONTROL
    assert latest["metadata"]["auren_restored_version"] == 1
    # ...and the users who had the candidate are back on it.
    narrow = next(r["band"] for r in results.values() if r["cohort"] == "control")
    assert all(r["cohort"] is None and math.isclose(r["band"], narrow) for r in after.values())


# -- too few runs: the stage waits ----------------------------------------------------------


def test_a_window_with_too_few_runs_waits_and_force_decides(server: DevServer) -> None:
    name = asyncio.run(make_assistant(server, candidate_latest=False))
    runner = CliRunner()

    def auren(*args: str) -> str:
        result = runner.invoke(app, ["--url", server.url, "ops", "rollout", *args])
        assert result.exit_code == 0, result.output
        return result.output

    auren(
        "start", name, "--candidate", "2", "--no-approval", "--window", "1", "--tick", "1",
        "--min-sample", "50",
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while "stage_waiting" not in (status := auren("status", name)):
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    time.sleep(3)  # more ticks: the stage keeps waiting, and says so once
    status = json.loads(auren("status", name, "--json"))
    assert (status["status"], status["stage_index"], status["percent"]) == ("rolling_out", 0, 10)
    assert "candidate has 0 finished runs, fewer than the minimum 50" in status["waiting"]
    assert [d["event"] for d in status["history"]].count("stage_waiting") == 1
    assert "stage_failed" not in [d["event"] for d in status["history"]]
    assert "advance --force` decides now" in auren("status", name)
    forced = auren("advance", name, "--force", "--by", "ops")
    assert "status     rolling_out, stage 2 of 3, 50% of users" in forced
    assert "stage_passed stage 1 (10%) by" not in forced  # the ticker, not a person, passed it
    assert "decided early" in forced
    auren("abort", name, "--reason", "done testing")


# -- rejected at the gate ----------------------------------------------------------------


def test_rejected_at_the_gate_changes_nothing(server: DevServer) -> None:
    name = asyncio.run(make_assistant(server, candidate_latest=False))
    ident = assistant_id(name)
    runner = CliRunner()

    def auren(*args: str) -> str:
        result = runner.invoke(app, ["--url", server.url, "ops", "rollout", *args])
        assert result.exit_code == 0, result.output
        return result.output

    started = auren("start", name, "--candidate", "2", "--window", "60", "--min-sample", "2")
    assert "awaiting_approval" in started and "waiting    for approval" in started
    assert "stage 1: 10% of users, at least 60 s and 2 runs per side" in started
    rejected = auren("reject", name, "--by", "bob", "--reason", "not this week")
    assert "status     rejected" in rejected
    assert "reason     rejected by bob: not this week" in rejected
    status = json.loads(auren("status", name, "--json"))
    assert status["status"] == "rejected" and status["percent"] == 0
    assert [d["event"] for d in status["history"]] == ["proposed", "rejected"]
    assert status["control_version"] == 3  # the current version by default

    async def nothing_changed() -> None:
        sdk = get_client(url=server.url)
        assert len(await sdk.assistants.get_versions(ident, limit=100)) == 3
        assert (await sdk.assistants.get(ident))["context"] == CONTROL
        runs = await sdk.store.search_items(["rollouts", ident, "runs"], limit=10)
        assert runs["items"] == []
        async with AurenClient(url=server.url) as client:
            user = f"rejected-{uuid.uuid4().hex[:8]}"
            await seed(client, [user])
            result = await analyse(client, user, name)
        assert result["cohort"] is None and result["assistant_version"] is None

    asyncio.run(nothing_changed())
    again = runner.invoke(app, ["--url", server.url, "ops", "rollout", "approve", name])
    assert again.exit_code == 1 and "cannot approve" in again.output and "rejected" in again.output


# -- one active rollout per assistant -------------------------------------------------------


async def test_a_second_rollout_on_the_same_assistant_is_refused(server: DevServer) -> None:
    name = await make_assistant(server, candidate_latest=False)
    ident = assistant_id(name)
    async with OpsClient(url=server.url) as ops:
        first = await ops.start_rollout(name, 2, 3, options={"window_seconds": 600})
        with pytest.raises(
            RolloutConflictError, match=f"already has an active rollout {first.rollout_id}"
        ):
            await ops.start_rollout(name, 2, 1)
        # Past the route's check, straight at the rollout's thread: the graph refuses too,
        # and the first rollout still waits for its approval.
        sdk = get_client(url=server.url)
        refused = await sdk.runs.wait(
            first.thread_id,
            "rollout",
            input={"assistant": ident, "candidate_version": 1, "control_version": 2},
        )
        assert isinstance(refused, dict) and refused["error"]["kind"] == "conflict"
        assert (await sdk.threads.get_state(first.thread_id))["next"] == ["approval_gate"]
        status = await ops.rollout_status(name)
        assert status.rollout_id == first.rollout_id and status.status == "awaiting_approval"
        status = await ops.approve_rollout(name)
        assert status.status == "rolling_out"
        status = await ops.abort_rollout(name, by="test", reason="done testing")
        assert status.status == "rolled_back" and status.reason == "aborted by test: done testing"
        # Once it has ended, the assistant takes a new rollout, on the same thread.
        third = await ops.start_rollout(name, 2, 3, options={"window_seconds": 600})
        assert third.rollout_id != first.rollout_id and third.status == "awaiting_approval"
        assert third.thread_id == first.thread_id
        await ops.reject_rollout(name)
    # The thread's id is keyed by the server (a version 8 UUID): no user can claim it.
    assert uuid.UUID(first.thread_id).version == 8
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600}, JWT_SECRET, algorithm="HS256")
    as_user = get_client(url=server.url, api_key=None, headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(PermissionDeniedError, match="created by the server"):
        await as_user.threads.create(thread_id=first.thread_id)


async def test_rollouts_need_a_service_key(server: DevServer) -> None:
    name = await make_assistant(server, candidate_latest=True)
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600}, JWT_SECRET, algorithm="HS256")
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            f"/ops/rollouts/{name}",
            json={"candidate_version": 2},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 403 and "service API key" in answer.text
    async with OpsClient(url=server.url, api_key="not-a-key") as ops:
        with pytest.raises(AuthenticationError):
            await ops.rollout_status(name)
    # The server agrees below the routes: a user can neither run the graph nor read its store.
    as_user = get_client(url=server.url, api_key=None, headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(PermissionDeniedError, match="stage uploads"):
        await as_user.store.search_items(["rollouts"], limit=1)
    with pytest.raises(httpx.HTTPStatusError, match="this graph needs a service key") as refused:
        await as_user.runs.wait(None, "rollout", input={"assistant": name, "candidate_version": 2})
    assert refused.value.response.status_code == 403


# -- the default analysis assistant gets the traffic --------------------------------------


async def test_a_rollout_of_the_default_assistant_reaches_default_runs(
    server: DevServer, model: OpenAIStandIn, tmp_path: Path
) -> None:
    """The README's path: sync, edit and sync again, roll the new version out: runs that
    name no assistant are in the rollout."""
    name = "analysis-standard"
    directory = tmp_path / "assistants"
    directory.mkdir()
    path = directory / f"{name}.json"
    path.write_text((REPO / "assistants" / f"{name}.json").read_text())
    users = [f"default-{uuid.uuid4().hex[:8]}-{n}" for n in range(6)]
    async with AurenClient(url=server.url) as auren, OpsClient(url=server.url) as ops:
        await seed(auren, users)
        (control,) = await ops.sync_assistants(directory)
        content = json.loads(path.read_text())
        content["context"]["swc_multiplier"] = 0.75
        content["metadata"]["version"] += 1
        path.write_text(json.dumps(content))
        (candidate,) = await ops.sync_assistants(directory)
        assert control.version is not None and candidate.version == control.version + 1
        options = {"approval_required": False, "window_seconds": 600, "stages": [50, 100]}
        status = await ops.start_rollout(name, candidate.version, control.version, options=options)
        try:
            results = await analyse_all(auren, users, "analysis")
            versions = {"candidate": candidate.version, "control": control.version}
            assert_cohorts(results, status.rollout_id, 50, versions)
            assert {r["assistant_id"] for r in results.values()} == {assistant_id(name)}
            # Feedback on a default run reaches its record, under the default assistant.
            first = results[users[0]]["run_id"]
            await auren.feedback(users[0], first, 0.5)
            runs = ["rollouts", assistant_id(name), "runs"]
            item = await get_client(url=server.url).store.get_item(runs, first)
            assert item["value"]["feedback_score"] == 0.5 and item["value"]["ok"] is True
        finally:
            status = await ops.abort_rollout(name, reason="test over")
        assert status.status == "rolled_back"
        # Rolled back: the default is control again, and default runs are out of it.
        after = await analyse(auren, users[0], "analysis")
        assert after["cohort"] is None


# -- SIGKILL in the middle of a stage ---------------------------------------------------------


@pytest.fixture(scope="module")
def killable(postgres_uri: str) -> Iterator[DevServer]:
    env = server_env(postgres_uri, **AUTH_ENV)
    with running_server(env) as server:
        yield server


async def test_sigkill_while_monitoring_resumes_the_same_stage(killable: DevServer) -> None:
    """A rollout's records are in Postgres: after a SIGKILL the restarted ticker finds it in
    the store and ends its window; no stage is repeated. (The dev runtime writes its
    assistants and threads to disk every 10 s: the kill waits for that, or the assistant
    itself would be gone.)"""
    created = time.monotonic()
    name = await make_assistant(killable, candidate_latest=True)
    rollout_id = uuid.uuid4().hex
    users = [u for g in pick_users(rollout_id, f"killed-{rollout_id[:6]}").values() for u in g]
    options = {
        "approval_required": False,
        "window_seconds": 30,
        "min_sample": 2,
        "tick_seconds": 1,
        **NOISY_LATENCY,
    }
    async with AurenClient(url=killable.url) as auren, OpsClient(url=killable.url) as ops:
        await seed(auren, users)
        status = await ops.start_rollout(name, 2, 1, rollout_id=rollout_id, options=options)
        assert (status.status, status.percent) == ("rolling_out", 10)
        before = await analyse_all(auren, users, name)
        assert_cohorts(before, rollout_id, 10, {"candidate": 2, "control": 1})
        await asyncio.sleep(max(0.0, created + 12 - time.monotonic()))
        assert (await ops.rollout_status(name)).stage_index == 0  # still mid-stage
    killable.restart(kill=True)
    async with AurenClient(url=killable.url) as auren, OpsClient(url=killable.url) as ops:
        status = await ops.rollout_status(name)
        assert (status.status, status.stage_index, status.percent) == ("rolling_out", 0, 10)
        again = await analyse_all(auren, users, name)
        assert {u: r["cohort"] for u, r in again.items()} == {
            u: r["cohort"] for u, r in before.items()
        }
        # The restarted ticker ends the window after its 30 s: no call from here.
        status = await eventually(
            lambda: ops.rollout_status(name), lambda s: s.stage_index >= 1, 60, "stage 2"
        )
        for index, percent in ((1, 50), (2, 100)):
            assert (status.stage_index, status.percent) == (index, percent), status
            assert_cohorts(
                await analyse_all(auren, users, name),
                rollout_id,
                percent,
                {"candidate": 2, "control": 1},
            )
            status = await ops.advance_rollout(name)
    assert status.status == "completed", status
    started = [p for e, p in events(status) if e == "stage_started"]
    assert started == [10, 50, 100]  # no stage repeated
    assert [p for e, p in events(status) if e == "stage_passed"] == [10, 50, 100]
    latest = await get_client(url=killable.url).assistants.get(assistant_id(name))
    assert latest["context"] == CANDIDATE
