"""Every file in assistants/ against its graph's context model, and the file rules of sync."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from auren_client._assistants import (
    AssistantFile,
    InvalidAssistantFileError,
    assistant_id,
    context_problems,
    load_assistant_file,
    load_assistant_files,
)
from auren_graphs.analysis.context import AnalysisContext

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


def _load(name: str) -> AssistantFile:
    return load_assistant_file(ASSISTANTS / f"{name}.json")


# -- the files in the repository --------------------------------------------------------


def test_the_directory_loads_and_holds_the_required_assistants() -> None:
    names = {f.name for f in load_assistant_files(ASSISTANTS)}
    assert {"ingestion-default", "analysis-standard", "analysis-conservative"} <= names


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_fits_its_graphs_context_model(path: Path) -> None:
    file = load_assistant_file(path)
    assert file.graph_id in _graphs(), f"{path.name}: no graph {file.graph_id!r}"
    model = _context_model(file.graph_id)
    model.model_validate(file.context)
    # The models ignore unknown keys, and so does the server: a typo would do nothing.
    assert set(file.context) <= set(model.model_fields), set(file.context) - set(model.model_fields)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_client_check_agrees_with_the_model_schema(path: Path) -> None:
    file = load_assistant_file(path)
    schema = _context_model(file.graph_id).model_json_schema()
    assert context_problems(file.context, schema) == []


def test_every_graph_has_an_assistant_file() -> None:
    covered = {load_assistant_file(p).graph_id for p in FILES}
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


# -- the client's schema check, against pydantic's verdict -------------------------------

BAD_CONTEXTS: list[tuple[dict[str, Any], str]] = [
    ({"swc_multipler": 1.0}, "not an option"),
    ({"swc_multiplier": 0}, "must be > 0"),
    ({"swc_multiplier": 3.5}, "must be <= 3"),
    ({"alert_after_days": 0}, "must be >= 1"),
    ({"alert_after_days": 1.5}, "must be of type integer"),
    ({"alert_after_days": True}, "must be of type integer"),
    ({"style": "long"}, "must be one of"),
    ({"model": 4}, "must be of type string"),
]


@pytest.mark.parametrize(("context", "message"), BAD_CONTEXTS)
def test_bad_context_is_refused_by_both(context: dict[str, Any], message: str) -> None:
    problems = context_problems(context, AnalysisContext.model_json_schema())
    assert any(message in p for p in problems), problems
    if set(context) <= set(AnalysisContext.model_fields):
        with pytest.raises(ValidationError):
            AnalysisContext.model_validate(context, strict=True)


def test_no_context_schema_allows_no_keys() -> None:
    assert context_problems({}, None) == []
    assert context_problems({"x": 1}, None)


# -- file rules --------------------------------------------------------------------------


def _write(directory: Path, stem: str, **changes: Any) -> Path:
    content = json.loads((ASSISTANTS / "analysis-standard.json").read_text())
    content["name"] = stem
    content.update(changes)
    path = directory / f"{stem}.json"
    path.write_text(json.dumps(content))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Other"}, "name must be lowercase"),
        ({"name": "a-three"}, "must equal the file name"),
        ({"description": " "}, "description must be a non-empty string"),
        ({"context": []}, "context must be an object"),
        ({"metadata": {}}, "metadata.version must be an integer"),
        ({"metadata": {"version": "2"}}, "metadata.version must be an integer"),
        ({"metadata": {"version": 1, "auren_file_hash": "x"}}, "reserved"),
        ({"config": {}}, "unknown field 'config'"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    _write(tmp_path, "a-one", **changes)
    _write(tmp_path, "a-two")
    with pytest.raises(InvalidAssistantFileError) as caught:
        load_assistant_files(tmp_path)
    assert message in str(caught.value)
    assert "a-two" not in str(caught.value)


def test_not_json_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no assistant files"):
        load_assistant_files(tmp_path)
    (tmp_path / "a-one.json").write_text("{")
    with pytest.raises(InvalidAssistantFileError, match="not valid JSON"):
        load_assistant_files(tmp_path)


def test_content_hash_ignores_layout_but_not_values(tmp_path: Path) -> None:
    original = _load("analysis-standard")
    path = tmp_path / "analysis-standard.json"
    path.write_text(json.dumps(original.content(), indent=None, sort_keys=True))
    assert load_assistant_file(path).content_hash == original.content_hash
    changed = {**original.content(), "context": {**original.context, "swc_multiplier": 0.6}}
    path.write_text(json.dumps(changed))
    assert load_assistant_file(path).content_hash != original.content_hash


def test_server_metadata_records_the_file() -> None:
    file = _load("analysis-conservative")
    metadata = file.server_metadata()
    assert metadata["version"] == metadata["auren_file_version"] == file.version
    assert metadata["auren_file_hash"] == file.content_hash
    assert metadata["auren_origin"] == "sync"
    assert metadata["auren_restored_version"] is None
