"""Assistants as files on the real server: sync, versions, switching with real runs,
names and the default assistant in runs, the ops routes' auth, Studio.

Every test syncs copies of assistants/ renamed with its own prefix, so tests share the
session's server without seeing each other's assistants (except the one test of the
default assistant, which syncs the real `analysis-standard` and leaves it as the file).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from typer.testing import CliRunner

from auren_cli import app
from auren_client import AurenClient, NotFoundError
from auren_contract import assistant_id
from auren_graphs.assistants.models import AssistantFile
from auren_ops import InvalidAssistantFileError, OpsClient
from tests.support import payloads
from tests.support.config import user_token
from tests.support.openai_standin import OpenAIStandIn
from tests.support.server import REPO, DevServer

pytestmark = pytest.mark.integration

ASSISTANTS = REPO / "assistants"
END = date(2026, 11, 20)


def copy_assistants(tmp_path: Path, only: str | None = None) -> tuple[Path, str]:
    """The repository's assistant files under a fresh name prefix; (directory, prefix)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    directory = tmp_path / "assistants"
    directory.mkdir()
    for path in ASSISTANTS.glob("*.json"):
        if only is not None and path.stem != only:
            continue
        content = json.loads(path.read_text())
        content["name"] = f"{prefix}-{content['name']}"
        (directory / f"{content['name']}.json").write_text(json.dumps(content, indent=2))
    return directory, prefix


def edit(directory: Path, name: str, **context: Any) -> None:
    """Change context options of a file and bump its version, as a person would."""
    path = directory / f"{name}.json"
    content = json.loads(path.read_text())
    content["context"].update(context)
    content["metadata"]["version"] += 1
    path.write_text(json.dumps(content, indent=2))


def read(directory: Path, name: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((directory / f"{name}.json").read_text())
    return content


async def version_numbers(server: DevServer, name: str) -> list[int]:
    versions = await get_client(url=server.url).assistants.get_versions(
        assistant_id(name), limit=100
    )
    return sorted(v["version"] for v in versions)


def cli(server: DevServer, *args: str) -> str:
    result = CliRunner().invoke(app, ["--url", server.url, "ops", "assistants", *args])
    assert result.exit_code == 0, result.output
    return result.output


# -- sync ------------------------------------------------------------------------------


def test_cli_sync_twice_changes_nothing_the_second_time(server: DevServer, tmp_path: Path) -> None:
    directory, prefix = copy_assistants(tmp_path)
    files = len(list(directory.glob("*.json")))
    assert files >= 4
    first = cli(server, "sync", "--dir", str(directory))
    assert first.count("created") == files, first
    second = cli(server, "sync", "--dir", str(directory))
    assert second.count("unchanged") == files and "created" not in second, second
    listed = cli(server, "list", "--dir", str(directory))
    mine = [line for line in listed.splitlines() if prefix in line]
    assert len(mine) == files and all("in sync" in line for line in mine), listed
    name = f"{prefix}-analysis-conservative"
    assert "in sync" in cli(server, "diff", name, "--dir", str(directory))
    assert cli(server, "versions", name).count(" v1 ") == 1


async def test_sync_writes_versions_only_for_changed_files(
    server: DevServer, tmp_path: Path
) -> None:
    directory, prefix = copy_assistants(tmp_path)
    conservative, standard = f"{prefix}-analysis-conservative", f"{prefix}-analysis-standard"
    async with OpsClient(url=server.url) as ops:
        assert {o.action for o in await ops.sync_assistants(directory)} == {"created"}
        edit(directory, conservative, swc_multiplier=0.8)
        diff = await ops.diff_assistant(read(directory, conservative))
        assert [(c.key, c.file_value, c.server_value) for c in diff.context_changes] == [
            ("swc_multiplier", 0.8, 1.0)
        ]
        outcomes = {o.name: o for o in await ops.sync_assistants(directory)}
        again = {o.name: o.action for o in await ops.sync_assistants(directory)}
    assert outcomes[conservative].action == "updated"
    assert outcomes[conservative].version == 2
    assert outcomes[standard].action == "unchanged"
    assert set(again.values()) == {"unchanged"}
    assert await version_numbers(server, conservative) == [1, 2]
    assert await version_numbers(server, standard) == [1]
    latest = await get_client(url=server.url).assistants.get(assistant_id(conservative))
    file = AssistantFile.model_validate(read(directory, conservative))
    assert latest["context"]["swc_multiplier"] == 0.8
    assert latest["metadata"]["auren_file_version"] == 2
    assert latest["metadata"]["auren_file_hash"] == file.content_hash


async def test_an_edit_without_a_version_bump_is_synced_with_a_warning(
    server: DevServer, tmp_path: Path
) -> None:
    directory, prefix = copy_assistants(tmp_path, only="ingestion-default")
    name = f"{prefix}-ingestion-default"
    async with OpsClient(url=server.url) as ops:
        await ops.sync_assistants(directory)
        path = directory / f"{name}.json"
        path.write_text(path.read_text().replace('"report_limit": 100', '"report_limit": 50'))
        (outcome,) = await ops.sync_assistants(directory)
    assert (outcome.action, outcome.version) == ("updated", 2)
    assert "metadata.version is still 1" in outcome.warnings[0]


async def test_an_invalid_file_stops_the_whole_sync(server: DevServer, tmp_path: Path) -> None:
    directory, prefix = copy_assistants(tmp_path)
    name = f"{prefix}-analysis-standard"
    edit(directory, name, swc_multipler=1.0, style="long")
    async with OpsClient(url=server.url) as ops:
        with pytest.raises(InvalidAssistantFileError, match="nothing was synced") as caught:
            await ops.sync_assistants(directory)
    assert "('swc_multipler' was unexpected)" in str(caught.value)
    assert "context.style: 'long' is not one of ['concise', 'detailed']" in str(caught.value)
    found = await get_client(url=server.url).assistants.search(metadata={"auren_managed": True})
    assert not [a for a in found if a["name"].startswith(prefix)]
    # The route itself answers 422 with every problem, and an unknown graph too.
    async with httpx.AsyncClient(base_url=server.url) as http:
        headers = {"x-api-key": _service_key()}
        answer = await http.put(
            f"/ops/assistants/{name}", json=read(directory, name), headers=headers
        )
        assert answer.status_code == 422 and "swc_multipler" in answer.json()["detail"]
        other = {**read(directory, name), "graph_id": "nope", "context": {}}
        answer = await http.put(f"/ops/assistants/{name}", json=other, headers=headers)
        assert answer.status_code == 422 and "'nope' is not a graph" in answer.json()["detail"]


def _service_key() -> str:
    return os.environ["AUREN_API_KEY"]


async def test_ops_routes_are_for_services_only(server: DevServer) -> None:
    token = user_token("u1")
    async with httpx.AsyncClient(base_url=server.url) as http:
        for method, path in (
            ("GET", "/ops/assistants"),
            ("POST", "/ops/assistants/x/switch"),
            ("GET", "/ops/rollouts/x"),
            ("POST", "/ops/rollouts/x/abort"),
        ):
            body = {"version": 1} if path.endswith("switch") else {}
            anonymous = await http.request(method, path, json=body)
            assert anonymous.status_code == 401, (path, anonymous.text)
            as_user = await http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert as_user.status_code == 403, (path, as_user.text)
            acting = await http.request(
                method, path, json=body, headers={"x-api-key": _service_key(), "X-Auren-User": "u1"}
            )
            assert acting.status_code == 403, (path, acting.text)


# -- switching, proved by runs ------------------------------------------------------------


@pytest.fixture(scope="module")
async def seeded_user(server: DevServer) -> str:
    """One user with 90 nights of HRV, shared: analyses read it and never change it."""
    user = f"user-{uuid.uuid4().hex[:12]}"
    async with AurenClient(url=server.url) as auren:
        report = await auren.ingest(user, "oura", payloads.oura_sleep_page(90, END, drop_last=7))
        assert report.accepted > 0
    return user


async def band_width(auren: AurenClient, user: str, assistant: str = "analysis") -> float:
    """Width of the HRV normal band in a real run of ``assistant``: 2 x swc x SD."""
    result = await auren.analyze(user, as_of=END, assistant=assistant)
    low, high = result.assessment["hrv_band_low"], result.assessment["hrv_band_high"]
    assert low is not None and high is not None, result.assessment
    return float(high - low)


@pytest.fixture
async def probe(server: DevServer, tmp_path: Path) -> tuple[Path, str]:
    """An analysis assistant with v1 = swc 0.5 and v2 = swc 1.0 on the server."""
    directory, prefix = copy_assistants(tmp_path, only="analysis-standard")
    name = f"{prefix}-analysis-standard"
    async with OpsClient(url=server.url) as ops:
        await ops.sync_assistants(directory)
        edit(directory, name, swc_multiplier=1.0)
        await ops.sync_assistants(directory)
    assert await version_numbers(server, name) == [1, 2]
    return directory, name


async def test_switch_back_and_forth_changes_what_runs_do(
    server: DevServer, model: OpenAIStandIn, seeded_user: str, probe: tuple[Path, str]
) -> None:
    directory, name = probe
    async with AurenClient(url=server.url) as auren, OpsClient(url=server.url) as ops:
        # A run names the assistant by its name (or its id): both reach it.
        wide = await band_width(auren, seeded_user, name)  # v2, swc 1.0
        assert await band_width(auren, seeded_user, assistant_id(name)) == wide

        to_v1 = await ops.switch_assistant(name, 1)
        narrow = await band_width(auren, seeded_user, name)
        assert (to_v1.previous, to_v1.new_version) == (2, 3)
        assert narrow == pytest.approx(wide / 2, rel=1e-4)

        # The file still says v2 and has not changed: sync keeps the switch.
        kept = await ops.sync_assistants(directory)
        assert [o.action for o in kept] == ["kept"]
        assert await band_width(auren, seeded_user, name) == narrow

        to_v2 = await ops.switch_assistant(name, 2)
        assert to_v2.new_version == 4
        assert await band_width(auren, seeded_user, name) == wide

        back = await ops.switch_assistant(name, 1)
        assert back.new_version == 5
        assert await band_width(auren, seeded_user, name) == narrow
        assert (await ops.switch_assistant(name, 3)).new_version is None  # v5 is v3's copy
        history = await ops.assistant_versions(name)
    assert [v.version for v in history.versions] == [5, 4, 3, 2, 1]
    assert history.current == 5
    assert [
        (v.restored_version, v.metadata["auren_switched_from"]) for v in history.versions[:3]
    ] == [(1, 4), (2, 3), (1, 2)]
    v1, v5 = history.versions[-1], history.versions[0]
    assert v5.context == v1.context and v5.config == v1.config
    assert v5.user_metadata() == v1.user_metadata() and v5.file_hash == v1.file_hash


async def test_editing_the_file_after_a_switch_moves_on(
    server: DevServer, probe: tuple[Path, str]
) -> None:
    directory, name = probe
    async with OpsClient(url=server.url) as ops:
        await ops.switch_assistant(name, 1)
        edit(directory, name, swc_multiplier=0.75)
        (outcome,) = await ops.sync_assistants(directory)
        current = await get_client(url=server.url).assistants.get(assistant_id(name))
    assert (outcome.action, outcome.version) == ("updated", 4)
    assert current["context"]["swc_multiplier"] == 0.75
    assert current["metadata"]["auren_origin"] == "sync"
    assert current["metadata"]["auren_restored_version"] is None


async def test_platform_fact_set_latest_keeps_the_newer_context(
    server: DevServer, model: OpenAIStandIn, seeded_user: str, probe: tuple[Path, str]
) -> None:
    """Why switch rolls forward: a bare set_latest(1) still runs with v2's context.

    If this fails, the server now restores the context too; switch still works, but
    its design note (auren_graphs/assistants/service.py, assistants/README.md) should
    say so.
    """
    directory, name = probe
    aid = assistant_id(name)
    sdk = get_client(url=server.url)
    async with AurenClient(url=server.url) as auren, OpsClient(url=server.url) as ops:
        wide = await band_width(auren, seeded_user, name)
        restored = await sdk.assistants.set_latest(aid, 1)
        assert restored["version"] == 1
        assert restored["config"]["configurable"]["swc_multiplier"] == 0.5  # config: restored
        assert restored["context"]["swc_multiplier"] == 1.0  # context: not
        assert await band_width(auren, seeded_user, name) == wide  # runs behave like v2
        # The diff sees it, and switch repairs it.
        diff = await ops.diff_assistant(read(directory, name))
        assert "config" in diff.field_changes
        switched = await ops.switch_assistant(name, 1)
        assert switched.new_version == 3
        assert await band_width(auren, seeded_user, name) == pytest.approx(wide / 2, rel=1e-4)


async def test_switch_to_an_unknown_version_or_assistant(
    server: DevServer, probe: tuple[Path, str]
) -> None:
    _, name = probe
    async with OpsClient(url=server.url) as ops:
        with pytest.raises(NotFoundError, match="has no version 9"):
            await ops.switch_assistant(name, 9)
        with pytest.raises(NotFoundError, match="auren ops assistants sync"):
            await ops.switch_assistant(f"{name}-missing", 1)
    async with AurenClient(url=server.url) as auren:
        with pytest.raises(NotFoundError):
            await auren.analyze("user-nobody", assistant=f"{name}-missing")


# -- the default analysis assistant --------------------------------------------------------


async def test_a_default_run_is_served_by_the_synced_analysis_standard(
    server: DevServer, model: OpenAIStandIn, seeded_user: str, tmp_path: Path
) -> None:
    """`stream_analysis(user)` names no assistant: once `analysis-standard` is synced,
    its current version serves the run (and a switch of it changes what everyone gets)."""
    directory = tmp_path / "assistants"
    directory.mkdir()
    (directory / "analysis-standard.json").write_text(
        (ASSISTANTS / "analysis-standard.json").read_text()
    )
    name, default = "analysis-standard", assistant_id("analysis-standard")
    async with AurenClient(url=server.url) as auren, OpsClient(url=server.url) as ops:
        await ops.sync_assistants(directory)
        events = [e async for e in auren.stream_analysis(seeded_user, as_of=END)]
        assert events[-1].data["assistant_id"] == default
        narrow = await band_width(auren, seeded_user)
        edit(directory, name, swc_multiplier=1.0)
        (wider,) = await ops.sync_assistants(directory)
        assert wider.version is not None
        try:
            assert await band_width(auren, seeded_user) == pytest.approx(narrow * 2, rel=1e-4)
        finally:
            # Leave the default behaving as its file in the repository says.
            restored = await ops.switch_assistant(name, wider.version - 1)
        assert restored.new_version is not None
        assert await band_width(auren, seeded_user) == narrow


# -- Studio ------------------------------------------------------------------------------


def _undescribed(schema: dict[str, Any] | None, where: str) -> list[str]:
    """Properties without a description, top level and in referenced models."""
    if not schema:
        return []
    missing = [
        f"{where}.{key}"
        for key, prop in (schema.get("properties") or {}).items()
        if not str(prop.get("description") or "").strip()
    ]
    for model, definition in (schema.get("$defs") or schema.get("definitions") or {}).items():
        missing += _undescribed(definition, f"{where}.{model}")
    return missing


async def test_studio_forms_have_a_description_for_every_field(server: DevServer) -> None:
    sdk = get_client(url=server.url)
    defaults = await sdk.assistants.search(metadata={"created_by": "system"}, limit=100)
    graphs = json.loads((REPO / "langgraph.json").read_text())["graphs"]
    assert {a["graph_id"] for a in defaults} >= set(graphs)
    missing: list[str] = []
    for default in defaults:
        schemas = await sdk.assistants.get_schemas(default["assistant_id"])
        for kind in ("input_schema", "context_schema"):
            assert schemas.get(kind), f"{default['graph_id']} has no {kind}"
            missing += _undescribed(schemas[kind], f"{default['graph_id']}.{kind}")
    assert missing == [], f"fields Studio shows without a description: {missing}"
