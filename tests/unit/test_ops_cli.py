"""`auren ops ...`: found by the client's CLI as a plugin, and speaking to the `/ops/...`
routes (a stand-in transport answers with the server's own models)."""

from __future__ import annotations

import ast
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from auren_cli import CliState, app
from auren_graphs.assistants.models import SyncOutcome
from auren_graphs.rollout.models import RolloutDecision, RolloutStatus

REPO = Path(__file__).resolve().parents[2]
Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """Records every request and answers from `routes[(method, path)]`."""

    def __init__(self, routes: dict[tuple[str, str], Handler]) -> None:
        self.routes = routes
        self.seen: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path + _query(request), body))
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"detail": f"no route {request.url.path}"})
        return handler(request)


def _query(request: httpx.Request) -> str:
    return f"?{request.url.query.decode()}" if request.url.query else ""


def invoke(server: Server, *args: str) -> Any:
    state = CliState(url="http://auren.test", api_key="key")
    state.ops_options = {  # type: ignore[attr-defined]
        "http_client": httpx.AsyncClient(
            base_url="http://auren.test", transport=httpx.MockTransport(server)
        )
    }
    return CliRunner().invoke(app, ["ops", *args], obj=state)


def outcome(name: str, action: str, version: int | None, dry_run: bool) -> dict[str, Any]:
    return SyncOutcome(
        name=name,
        assistant_id=f"id-{name}",
        action=action,  # type: ignore[arg-type]
        version=version,
        file_version=1,
        dry_run=dry_run,
    ).model_dump(mode="json")


def sync_route(invalid: frozenset[str] = frozenset()) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if name in invalid:
            detail = f"invalid assistant file {name!r}:\n  context.style: 'long' is not one of"
            return httpx.Response(422, json={"detail": detail})
        dry = request.url.params.get("dry_run") == "true"
        return httpx.Response(200, json=outcome(name, "created", None if dry else 1, dry))

    return handle


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("analysis-standard", "ingestion-default"):
        shutil.copy(REPO / "assistants" / f"{name}.json", tmp_path)
    return tmp_path


def test_the_client_cli_finds_ops_as_a_plugin() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "ops" in result.output
    result = CliRunner().invoke(app, ["ops", "rollout", "--help"])
    for command in ("start", "status", "approve", "reject", "abort", "advance"):
        assert command in result.output


def test_the_client_and_its_cli_never_import_the_server_or_ops() -> None:
    for path in [*(REPO / "contract").rglob("*.py"), *(REPO / "client").rglob("*.py"),
                 *(REPO / "cli").rglob("*.py")]:  # fmt: skip
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.startswith(("auren_ops", "auren_graphs"))], path


def test_sync_checks_every_file_before_writing_any(files: Path) -> None:
    server = Server({("PUT", f"/ops/assistants/{n}"): sync_route() for n in _names(files)})
    result = invoke(server, "assistants", "sync", "--dir", str(files))
    assert result.exit_code == 0, result.output
    assert [path for _, path, _ in server.seen] == [
        "/ops/assistants/analysis-standard?dry_run=true",
        "/ops/assistants/ingestion-default?dry_run=true",
        "/ops/assistants/analysis-standard",
        "/ops/assistants/ingestion-default",
    ]
    assert server.seen[2][2] == json.loads((files / "analysis-standard.json").read_text())
    assert "created   analysis-standard v1 (file version 1)" in result.output


def test_one_invalid_file_and_nothing_is_synced(files: Path) -> None:
    routes = {
        ("PUT", f"/ops/assistants/{n}"): sync_route(frozenset({"analysis-standard"}))
        for n in _names(files)
    }
    server = Server(routes)
    result = invoke(server, "assistants", "sync", "--dir", str(files))
    assert result.exit_code == 1
    assert "nothing was synced" in result.output
    assert "analysis-standard.json: context.style: 'long' is not one of" in result.output
    assert all("dry_run=true" in path for _, path, _ in server.seen)


def test_a_dry_run_says_what_would_happen(files: Path) -> None:
    server = Server({("PUT", f"/ops/assistants/{n}"): sync_route() for n in _names(files)})
    result = invoke(server, "assistants", "sync", "--dir", str(files), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would create analysis-standard (new version)" in result.output
    assert all("dry_run=true" in path for _, path, _ in server.seen)


def _names(directory: Path) -> list[str]:
    return [p.stem for p in sorted(directory.glob("*.json"))]


def status(**fields: Any) -> dict[str, Any]:
    record = {
        "rollout_id": "r1",
        "assistant_id": "a1",
        "assistant_name": "analysis-standard",
        "status": "awaiting_approval",
        "stages": [10, 50, 100],
        "candidate": {"version": 2},
        "control": {"version": 1},
        "plan": {
            "stages": [
                {"stage": i, "percent": p, "window_seconds": 3600.0, "min_sample": 20}
                for i, p in enumerate((10, 50, 100))
            ],
            "thresholds": {"success": 0.9, "feedback": 0.9},
            "analysis": {"summary": "v2 changes the method (swc_multiplier 0.5 -> 0.75)"},
        },
        **fields,
    }
    history = [RolloutDecision.of({"seq": 1, "event": "proposed", "at": "2026-11-20T10:00:00"})]
    return RolloutStatus.of(record, history).model_dump(mode="json")


def test_status_shows_the_plan_being_approved() -> None:
    server = Server(
        {("GET", "/ops/rollouts/analysis-standard"): lambda r: httpx.Response(200, json=status())}
    )
    result = invoke(server, "rollout", "status", "analysis-standard")
    assert result.exit_code == 0, result.output
    assert "waiting    for approval" in result.output
    assert "stage 1: 10% of users, at least 3600 s and 20 runs per side" in result.output
    assert "analysis   v2 changes the method (swc_multiplier 0.5 -> 0.75)" in result.output
    as_json = invoke(server, "rollout", "status", "analysis-standard", "--json")
    assert json.loads(as_json.output)["plan"]["stages"][2]["percent"] == 100


def test_advance_can_force_and_a_waiting_stage_says_why() -> None:
    waiting = status(status="rolling_out", stage_index=0, percent=10, waiting="waiting for runs")
    path = "/ops/rollouts/analysis-standard/advance"
    server = Server({("POST", path): lambda r: httpx.Response(200, json=waiting)})
    result = invoke(server, "rollout", "advance", "analysis-standard", "--force", "--by", "ops")
    assert result.exit_code == 0, result.output
    assert server.seen == [("POST", path, {"by": "ops", "force": True})]
    assert "waiting    waiting for runs; `auren ops rollout advance --force`" in result.output


def test_start_sends_only_the_options_given() -> None:
    path = "/ops/rollouts/analysis-standard"
    server = Server({("POST", path): lambda r: httpx.Response(201, json=status())})
    result = invoke(
        server,
        "rollout",
        "start",
        "analysis-standard",
        "--candidate",
        "2",
        "--stages",
        "20,100",
        "--no-approval",
        "--min-sample",
        "5",
    )
    assert result.exit_code == 0, result.output
    sent = server.seen[0][2]
    assert sent["candidate_version"] == 2 and sent["control_version"] is None
    assert sent["options"] == {"stages": [20, 100], "min_sample": 5, "approval_required": False}


@pytest.mark.parametrize(
    ("code", "detail", "message"),
    [
        (403, "this route is for operators: it needs a service API key", "service API key"),
        (409, "cannot approve rollout r1: it is rejected", "cannot approve rollout r1"),
        (404, "assistant x has never had a rollout", "never had a rollout"),
    ],
)
def test_refusals_exit_1_with_the_servers_reason(code: int, detail: str, message: str) -> None:
    path = "/ops/rollouts/x/approve"
    server = Server({("POST", path): lambda r: httpx.Response(code, json={"detail": detail})})
    result = invoke(server, "rollout", "approve", "x")
    assert result.exit_code == 1
    assert message in result.output


def test_no_server_is_a_clear_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = invoke(
        Server({("GET", "/ops/assistants"): refuse}), "assistants", "list", "--dir", "nowhere"
    )
    assert result.exit_code == 1 and "cannot reach the AUREN server" in result.output


def test_oura_subscriptions_and_subscribe() -> None:
    subscription = {"id": "s1", "data_type": "daily_sleep", "event_type": "create",
                    "expiration_time": "2027-03-01T00:00:00+00:00"}  # fmt: skip
    answer: Handler = lambda r: httpx.Response(200, json=[subscription])  # noqa: E731
    server = Server(
        {("GET", "/ops/oura/subscriptions"): answer, ("POST", "/ops/oura/subscriptions"): answer}
    )
    listed = invoke(server, "oura", "subscriptions")
    assert listed.exit_code == 0, listed.output
    assert "daily_sleep" in listed.output and "2027-03-01" in listed.output
    made = invoke(server, "oura", "subscribe", "--json")
    assert json.loads(made.output) == subscription
    assert [seen[:2] for seen in server.seen][-1] == ("POST", "/ops/oura/subscriptions")


def test_oura_subscriptions_unavailable_says_why() -> None:
    detail = "AUREN_PUBLIC_URL is not set: Oura cannot call this deployment back"
    server = Server(
        {
            ("POST", "/ops/oura/subscriptions"): lambda r: httpx.Response(
                503, json={"detail": detail}
            )
        }
    )
    result = invoke(server, "oura", "subscribe")
    assert result.exit_code == 1 and "AUREN_PUBLIC_URL is not set" in result.output


def test_failed_webhooks_listed_and_requeued() -> None:
    failed = [{"id": 7, "vendor": "whoop", "user_id": "user-a", "attempts": 8,
               "last_error": "gave up after 8 attempts: 500"}]  # fmt: skip
    server = Server(
        {
            ("GET", "/ops/webhooks/failed"): lambda r: httpx.Response(200, json=failed),
            ("POST", "/ops/webhooks/requeue"): lambda r: httpx.Response(
                200, json={"requeued": len(json.loads(r.content)["ids"] or [1, 2])}
            ),
        }
    )
    listed = invoke(server, "webhooks", "failed")
    assert listed.exit_code == 0, listed.output
    assert "gave up after 8 attempts" in listed.output
    some = invoke(server, "webhooks", "requeue", "7")
    assert some.output.strip() == "requeued 1 events"
    every = invoke(server, "webhooks", "requeue")
    assert every.output.strip() == "requeued 2 events"
    assert [seen[2] for seen in server.seen[1:]] == [{"ids": [7]}, {"ids": None}]
