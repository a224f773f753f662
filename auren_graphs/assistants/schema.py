"""An assistant file checked with `jsonschema`: the file model's JSON schema, with the
graph's own context schema (as the server serves it) in place of `context`.

Unknown context keys matter most: the server drops them from a run's context with only
a log line, so a misspelt option would silently do nothing. The graph's schema is
therefore closed (`additionalProperties: false`) here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from auren_graphs.assistants.models import AssistantFile

_CONTEXT_ID = "urn:auren:assistant-context"
_PATTERNS = {
    "name": "must be lowercase letters, digits and '-' (at most 80)",
    "description": "must say what the assistant is for",
}


def file_schema(context_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON schema of a file of a graph whose context schema is `context_schema`
    (None: a graph without options, whose files may set none)."""
    schema = AssistantFile.model_json_schema()
    context = dict(context_schema or {"type": "object", "properties": {}})
    # An embedded resource: the context schema's own `$ref`s resolve inside it.
    context.update({"$id": _CONTEXT_ID, "type": "object", "additionalProperties": False})
    schema["properties"]["context"] = context
    return schema


def _problem(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "the file"
    if "propertyNames" in error.absolute_schema_path:
        return f"{where}: key {error.instance!r} is reserved for sync (auren_...)"
    if error.validator == "pattern" and where in _PATTERNS:
        return f"{where}: {error.instance!r} {_PATTERNS[where]}"
    if error.validator == "additionalProperties" and where == "context":
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = ", ".join(schema.get("properties") or {}) or "none"
        return f"context: {error.message}; the graph's options are: {known}"
    return f"{where}: {error.message}"


def file_problems(raw: object, context_schema: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with `raw` (a file's parsed JSON) for its graph; [] when nothing."""
    validator = Draft202012Validator(file_schema(context_schema))
    return sorted(_problem(e) for e in validator.iter_errors(raw))
