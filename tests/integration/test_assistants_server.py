"""Assistants as files on the real server: sync, versions, switching with real runs, Studio.

Every test syncs copies of assistants/ renamed with its own prefix, so tests share the
session's server without seeing each other's assistants.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client
from typer.testing import CliRunner

from auren_client import AurenClient, NotFoundError
from auren_client._assistants import AssistantsManager, assistant_id, load_assistant_file
from auren_client._cli import app
from tests.integration import payloads
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


async def version_numbers(server: DevServer, name: str) -> list[int]:
    versions = await get_client(url=server.url).assistants.get_versions(
        assistant_id(name), limit=100
    )
    return sorted(v["version"] for v in versions)


# -- sync ------------------------------------------------------------------------------


def test_cli_sync_twice_changes_nothing_the_second_time(server: DevServer, tmp_path: Path) -> None:
    directory, prefix = copy_assistants(tmp_path)
    runner = CliRunner()

    def auren(*args: str) -> str:
        result = runner.invoke(app, ["--url", server.url, "assistants", *args])
        assert result.exit_code == 0, result.output
        return result.output

    files = len(list(directory.glob("*.json")))
    assert files >= 3
    first = auren("sync", "--dir", str(directory))
    assert first.count("created") == files, first
    second = auren("sync", "--dir", str(directory))
    assert second.count("unchanged") == files and "created" not in second, second
    listed = auren("list", "--dir", str(directory))
    mine = [line for line in listed.splitlines() if line.startswith(prefix)]
    assert len(mine) == files and all("in sync" in line for line in mine), listed
    name = f"{prefix}-analysis-conservative"
    assert "in sync" in auren("diff", name, "--dir", str(directory))
    assert auren("versions", name).count(" v1 ") == 1


async def test_sync_writes_versions_only_for_changed_files(
    server: DevServer, tmp_path: Path
) -> None:
    directory, prefix = copy_assistants(tmp_path)
    conservative, standard = f"{prefix}-analysis-conservative", f"{prefix}-analysis-standard"
    async with AurenClient(url=server.url) as auren:
        assert {o.action for o in await auren.assistants.sync(directory)} == {"created"}
        edit(directory, conservative, swc_multiplier=0.8)
        diff = await auren.assistants.diff(conservative, directory)
        assert [(c.key, c.file_value, c.server_value) for c in diff.context_changes] == [
            ("swc_multiplier", 0.8, 1.0)
        ]
        outcomes = {o.name: o for o in await auren.assistants.sync(directory)}
        again = {o.name: o.action for o in await auren.assistants.sync(directory)}
    assert outcomes[conservative].action == "updated"
    assert outcomes[conservative].version == 2
    assert outcomes[standard].action == "unchanged"
    assert set(again.values()) == {"unchanged"}
    assert await version_numbers(server, conservative) == [1, 2]
    assert await version_numbers(server, standard) == [1]
    latest = await get_client(url=server.url).assistants.get(assistant_id(conservative))
    file = load_assistant_file(directory / f"{conservative}.json")
    assert latest["context"]["swc_multiplier"] == 0.8
    assert latest["metadata"]["auren_file_version"] == 2
    assert latest["metadata"]["auren_file_hash"] == file.content_hash


async def test_an_edit_without_a_version_bump_is_synced_with_a_warning(
    server: DevServer, tmp_path: Path
) -> None:
    directory, prefix = copy_assistants(tmp_path, only="ingestion-default")
    name = f"{prefix}-ingestion-default"
    async with AurenClient(url=server.url) as auren:
        await auren.assistants.sync(directory)
        path = directory / f"{name}.json"
        path.write_text(path.read_text().replace('"report_limit": 100', '"report_limit": 50'))
        (outcome,) = await auren.assistants.sync(directory)
    assert (outcome.action, outcome.version) == ("updated", 2)
    assert "metadata.version is still 1" in outcome.warnings[0]


async def test_an_invalid_file_stops_the_whole_sync(server: DevServer, tmp_path: Path) -> None:
    directory, prefix = copy_assistants(tmp_path)
    edit(directory, f"{prefix}-analysis-standard", swc_multipler=1.0, style="long")
    async with AurenClient(url=server.url) as auren:
        with pytest.raises(ValueError, match="nothing was synced") as caught:
            await auren.assistants.sync(directory)
    assert "'swc_multipler' is not an option" in str(caught.value)
    assert "context.style='long' must be one of" in str(caught.value)
    found = await get_client(url=server.url).assistants.search(metadata={"auren_managed": True})
    assert not [a for a in found if a["name"].startswith(prefix)]


# -- switching, proved by runs ------------------------------------------------------------


@pytest.fixture(scope="module")
async def seeded_user(server: DevServer) -> str:
    """One user with 90 nights of HRV, shared: analyses read it and never change it."""
    user = f"user-{uuid.uuid4().hex[:12]}"
    async with AurenClient(url=server.url) as auren:
        report = await auren.ingest(user, "oura", payloads.oura_sleep_page(90, END, drop_last=7))
        assert report.accepted > 0
    return user


async def band_width(auren: AurenClient, user: str, assistant: str) -> float:
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
    async with AurenClient(url=server.url) as auren:
        await auren.assistants.sync(directory)
        edit(directory, name, swc_multiplier=1.0)
        await auren.assistants.sync(directory)
    assert await version_numbers(server, name) == [1, 2]
    return directory, name


async def test_switch_back_and_forth_changes_what_runs_do(
    server: DevServer, model: OpenAIStandIn, seeded_user: str, probe: tuple[Path, str]
) -> None:
    directory, name = probe
    aid = assistant_id(name)
    async with AurenClient(url=server.url) as auren:
        manager = auren.assistants
        wide = await band_width(auren, seeded_user, aid)  # v2, swc 1.0

        to_v1 = await manager.switch(name, 1)
        narrow = await band_width(auren, seeded_user, aid)
        assert (to_v1.previous, to_v1.new_version) == (2, 3)
        assert narrow == pytest.approx(wide / 2, rel=1e-4)

        # The file still says v2 and has not changed: sync keeps the switch.
        kept = await manager.sync(directory)
        assert [o.action for o in kept] == ["kept"]
        assert await band_width(auren, seeded_user, aid) == narrow

        to_v2 = await manager.switch(name, 2)
        assert to_v2.new_version == 4
        assert await band_width(auren, seeded_user, aid) == wide

        back = await manager.switch(name, 1)
        assert back.new_version == 5
        assert await band_width(auren, seeded_user, aid) == narrow
        assert (await manager.switch(name, 3)).new_version is None  # v5 already is v3's copy
        history = await manager.versions(name)
    assert [v.version for v in history.versions] == [5, 4, 3, 2, 1]
    assert history.current == 5
    assert [(v.restored_version, v.switched_from) for v in history.versions[:3]] == [
        (1, 4),
        (2, 3),
        (1, 2),
    ]
    v1, v5 = history.versions[-1], history.versions[0]
    assert v5.context == v1.context and v5.config == v1.config
    assert v5.user_metadata() == v1.user_metadata() and v5.file_hash == v1.file_hash


async def test_editing_the_file_after_a_switch_moves_on(
    server: DevServer, probe: tuple[Path, str]
) -> None:
    directory, name = probe
    async with AurenClient(url=server.url) as auren:
        await auren.assistants.switch(name, 1)
        edit(directory, name, swc_multiplier=0.75)
        (outcome,) = await auren.assistants.sync(directory)
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
    its design note (client/_assistants.py, assistants/README.md) should say so.
    """
    _, name = probe
    aid = assistant_id(name)
    sdk = get_client(url=server.url)
    async with AurenClient(url=server.url) as auren:
        wide = await band_width(auren, seeded_user, aid)
        restored = await sdk.assistants.set_latest(aid, 1)
        assert restored["version"] == 1
        assert restored["config"]["configurable"]["swc_multiplier"] == 0.5  # config: restored
        assert restored["context"]["swc_multiplier"] == 1.0  # context: not
        assert await band_width(auren, seeded_user, aid) == wide  # runs behave like v2
        # The diff sees it, and switch repairs it.
        diff = await auren.assistants.diff(name, probe[0])
        assert "config" in diff.field_changes
        switched = await auren.assistants.switch(name, 1)
        assert switched.new_version == 3
        assert await band_width(auren, seeded_user, aid) == pytest.approx(wide / 2, rel=1e-4)


async def test_switch_to_an_unknown_version_or_assistant(
    server: DevServer, probe: tuple[Path, str]
) -> None:
    _, name = probe
    async with AurenClient(url=server.url) as auren:
        with pytest.raises(NotFoundError, match="has no version 9"):
            await auren.assistants.switch(name, 9)
        with pytest.raises(NotFoundError, match="auren assistants sync"):
            await auren.assistants.switch(f"{name}-missing", 1)


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


async def test_manager_is_reachable_from_both_clients(server: DevServer) -> None:
    async with AurenClient(url=server.url) as auren:
        assert isinstance(auren.assistants, AssistantsManager)
        listed = {s.name for s in await auren.assistants.list_all()}
    with AurenClient.sync(url=server.url) as twin:
        assert {s.name for s in twin.assistants.list_all()} >= listed
