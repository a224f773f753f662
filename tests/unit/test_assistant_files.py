"""Every file in assistants/ against its graph's context model, and the file rules the
server checks with jsonschema (`auren_graphs.assistants.schema`)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from auren_contract import assistant_id
from auren_graphs.analysis.context import AnalysisContext
from auren_graphs.assistants.models import AssistantFile
from auren_graphs.assistants.schema import file_problems
from auren_ops import InvalidAssistantFileError, load_assistant_files

REPO = Path(__file__).resolve().parents[2]
ASSISTANTS = REPO / "assistants"
FILES = sorted(ASSISTANTS.glob("*.json"))


def _graphs() -> dict[str, str]:
    return dict(json.loads((REPO / "langgraph.json").read_text())["graphs"])


def _context_model(graph_id: str) -> type[BaseModel]:
    """The graph's own context schema, from langgraph.json: a new graph needs no edit here."""
    module, _, attr = _graphs()[graph_id].partition(":")
    schema = getattr(importlib.import_module(module), attr).context_schema
    assert isinstance(schema, type) and issubclass(schema, BaseModel), graph_id
    return schema


def _raw(name: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((ASSISTANTS / f"{name}.json").read_text())
    return content


def _load(name: str) -> AssistantFile:
    return AssistantFile.model_validate(_raw(name))


# -- the files in the repository --------------------------------------------------------


def test_the_directory_holds_the_required_assistants() -> None:
    names = {content["name"] for _, content in load_assistant_files(ASSISTANTS)}
    assert {"ingestion-default", "analysis-standard", "analysis-conservative"} <= names
    assert "rollout-default" in names


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_fits_its_graphs_context_model(path: Path) -> None:
    file = AssistantFile.model_validate(json.loads(path.read_text()))
    assert file.graph_id in _graphs(), f"{path.name}: no graph {file.graph_id!r}"
    model = _context_model(file.graph_id)
    model.model_validate(file.context)
    # The models ignore unknown keys, and so does the server: a typo would do nothing.
    assert set(file.context) <= set(model.model_fields), set(file.context) - set(model.model_fields)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_servers_check_agrees_with_the_model(path: Path) -> None:
    raw = json.loads(path.read_text())
    assert file_problems(raw, _context_model(raw["graph_id"]).model_json_schema()) == []


def test_every_graph_has_an_assistant_file() -> None:
    covered = {json.loads(p.read_text())["graph_id"] for p in FILES}
    assert set(_graphs()) <= covered, f"graphs without a file: {set(_graphs()) - covered}"


def test_standard_is_the_published_method() -> None:
    assert AnalysisContext(**_load("analysis-standard").context) == AnalysisContext()


def test_conservative_differs_in_method_and_narrative() -> None:
    standard = AnalysisContext(**_load("analysis-standard").context)
    conservative = AnalysisContext(**_load("analysis-conservative").context)
    assert conservative.method_options() != standard.method_options()
    assert conservative.swc_multiplier > standard.swc_multiplier
    assert conservative.alert_after_days > standard.alert_after_days
    assert (conservative.style, conservative.temperature) != (standard.style, standard.temperature)


def test_assistant_ids_never_change() -> None:
    # Pinned: a changed namespace would make every server grow a second set of assistants.
    assert assistant_id("analysis-standard") == "5661231f-3a8c-50d9-819d-012b06872426"
    assert _load("analysis-standard").assistant_id == assistant_id("analysis-standard")


# -- the server's check (jsonschema), against pydantic's verdict -------------------------

BAD_CONTEXTS: list[tuple[dict[str, Any], str]] = [
    ({"swc_multipler": 1.0}, "('swc_multipler' was unexpected); the graph's options are"),
    ({"swc_multiplier": 0}, "0 is less than or equal to the minimum of 0"),
    ({"swc_multiplier": 3.5}, "3.5 is greater than the maximum of 3"),
    ({"alert_after_days": 0}, "0 is less than the minimum of 1"),
    ({"alert_after_days": 1.5}, "1.5 is not of type 'integer'"),
    ({"alert_after_days": True}, "True is not of type 'integer'"),
    ({"style": "long"}, "context.style: 'long' is not one of ['concise', 'detailed']"),
    ({"model": 4}, "4 is not of type 'string'"),
]


@pytest.mark.parametrize(("context", "message"), BAD_CONTEXTS)
def test_bad_context_is_refused_by_both(context: dict[str, Any], message: str) -> None:
    raw = _raw("analysis-standard")
    raw["context"].update(context)
    problems = file_problems(raw, AnalysisContext.model_json_schema())
    assert any(message in p for p in problems), problems
    if set(context) <= set(AnalysisContext.model_fields):
        with pytest.raises(ValidationError):
            AnalysisContext.model_validate(context, strict=True)


def test_a_graph_without_options_takes_none() -> None:
    raw = {**_raw("ingestion-default"), "context": {}}
    assert file_problems(raw, None) == []
    assert file_problems({**raw, "context": {"x": 1}}, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Other"}, "name: 'Other' must be lowercase letters"),
        ({"description": " "}, "description: ' ' must say what the assistant is for"),
        ({"context": []}, "context: [] is not of type 'object'"),
        ({"metadata": {}}, "metadata: 'version' is a required property"),
        ({"metadata": {"version": "2"}}, "metadata.version: '2' is not of type 'integer'"),
        ({"metadata": {"version": 0}}, "metadata.version: 0 is less than the minimum of 1"),
        ({"metadata": {"version": 1, "auren_file_hash": "x"}}, "'auren_file_hash' is reserved"),
        ({"config": {}}, "('config' was unexpected)"),
    ],
)
def test_malformed_files_are_refused_by_both(changes: dict[str, Any], message: str) -> None:
    raw = {**_raw("analysis-standard"), **changes}
    problems = file_problems(raw, AnalysisContext.model_json_schema())
    assert any(message in p for p in problems), problems
    with pytest.raises(ValidationError):
        AssistantFile.model_validate(raw)


def test_every_problem_is_reported_at_once() -> None:
    raw = _raw("analysis-standard")
    raw["context"].update(style="long", swc_multiplier=9)
    raw["metadata"]["version"] = 0
    assert len(file_problems(raw, AnalysisContext.model_json_schema())) == 3


# -- file rules on the operator's side (auren_ops) ------------------------------------------


def _write(directory: Path, stem: str, **changes: Any) -> Path:
    content = {**_raw("analysis-standard"), "name": stem, **changes}
    path = directory / f"{stem}.json"
    path.write_text(json.dumps(content))
    return path


def test_a_file_is_named_as_its_assistant(tmp_path: Path) -> None:
    _write(tmp_path, "a-one", name="a-three")
    _write(tmp_path, "a-two")
    with pytest.raises(InvalidAssistantFileError, match="must equal the file name") as caught:
        load_assistant_files(tmp_path)
    assert "a-two" not in str(caught.value) and "nothing was synced" in str(caught.value)


def test_not_json_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no assistant files"):
        load_assistant_files(tmp_path)
    (tmp_path / "a-one.json").write_text("{")
    with pytest.raises(InvalidAssistantFileError, match="not valid JSON"):
        load_assistant_files(tmp_path)


def test_content_hash_ignores_layout_but_not_values() -> None:
    original = _load("analysis-standard")
    respelled = json.loads(json.dumps(original.content(), indent=None, sort_keys=True))
    assert AssistantFile.model_validate(respelled).content_hash == original.content_hash
    changed = {**original.content(), "context": {**original.context, "swc_multiplier": 0.6}}
    assert AssistantFile.model_validate(changed).content_hash != original.content_hash


def test_server_metadata_records_the_file() -> None:
    file = _load("analysis-conservative")
    metadata = file.server_metadata()
    assert metadata["version"] == metadata["auren_file_version"] == file.version
    assert metadata["auren_file_hash"] == file.content_hash
    assert metadata["auren_origin"] == "sync"
    assert metadata["auren_restored_version"] is None
