"""The server's own assistants API, as AUREN uses it (in-process: `platform.loopback()`).

Every call takes the SDK client, so the rollout graph, the ops routes and the unit
tests' stand-in go through the same functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, cast

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Config

from auren_contract import assistant_id
from auren_graphs.assignment import platform_assistant_id
from auren_graphs.assistants.models import AssistantFile, AssistantVersion

_PAGE = 100
_schemas: dict[str, Mapping[str, Any] | None] = {}


class UnknownGraphError(LookupError):
    """The server serves no graph of that name."""


def _status(exc: Exception) -> int | None:
    return exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None


async def get(sdk: LangGraphClient, assistant: str) -> AssistantVersion | None:
    """The assistant's current version, or None when there is no such assistant."""
    try:
        return AssistantVersion.of(await sdk.assistants.get(assistant))
    except httpx.HTTPStatusError as exc:
        if _status(exc) == 404:
            return None
        raise


async def find(sdk: LangGraphClient, ref: str) -> AssistantVersion | None:
    """An assistant by id, or by name: the id a synced file's name gives, else the one
    assistant of that name. None when there is none (or several)."""
    try:
        uuid.UUID(ref)
    except ValueError:
        found = await get(sdk, assistant_id(ref))
        if found is not None:
            return found
        named = [a for a in await sdk.assistants.search(name=ref, limit=_PAGE) if a["name"] == ref]
        return AssistantVersion.of(named[0]) if len(named) == 1 else None
    return await get(sdk, ref)


async def versions(sdk: LangGraphClient, assistant: str) -> list[AssistantVersion]:
    """Every version of the assistant, newest first."""
    found: list[AssistantVersion] = []
    while True:
        page = await sdk.assistants.get_versions(assistant, limit=_PAGE, offset=len(found))
        found += [AssistantVersion.of(v) for v in page]
        if len(page) < _PAGE:
            return sorted(found, key=lambda v: v.version, reverse=True)


async def managed(sdk: LangGraphClient) -> list[AssistantVersion]:
    """The current version of every assistant sync manages."""
    found: list[AssistantVersion] = []
    while True:
        page = await sdk.assistants.search(
            metadata={"auren_managed": True}, limit=_PAGE, offset=len(found)
        )
        found += [AssistantVersion.of(a) for a in page]
        if len(page) < _PAGE:
            return sorted(found, key=lambda v: v.name)


async def create(sdk: LangGraphClient, file: AssistantFile) -> AssistantVersion:
    """Create the file's assistant under its fixed id (a repeat returns the first)."""
    record = await sdk.assistants.create(
        file.graph_id,
        context=file.context,
        metadata=file.server_metadata(),
        assistant_id=file.assistant_id,
        if_exists="do_nothing",
        name=file.name,
        description=file.description,
    )
    return AssistantVersion.of(record)


async def write(
    sdk: LangGraphClient,
    current: AssistantVersion,
    *,
    graph_id: str,
    context: dict[str, Any],
    config: dict[str, Any],
    name: str,
    description: str | None,
    metadata: dict[str, Any],
) -> AssistantVersion:
    """Write a new version holding exactly these fields (it becomes the latest)."""
    # The server merges metadata into the current version's: clear what is not ours.
    cleared = {k: None for k in current.metadata if k not in metadata}
    if not context:
        # An empty context is "keep the current one" unless config says otherwise.
        config = {**config, "configurable": {}}
    record = await sdk.assistants.update(
        current.assistant_id,
        graph_id=graph_id,
        config=cast("Config", config),
        context=context,
        metadata={**cleared, **metadata},
        name=name,
        description=description,
    )
    return AssistantVersion.of(record)


async def context_schema(sdk: LangGraphClient, graph: str) -> Mapping[str, Any] | None:
    """The graph's context schema as the server serves it (None: the graph takes no
    options); `UnknownGraphError` when the server serves no such graph."""
    if graph not in _schemas:
        try:
            schemas = await sdk.assistants.get_schemas(platform_assistant_id(graph))
        except httpx.HTTPStatusError as exc:
            if _status(exc) in (404, 422):
                message = f"graph_id {graph!r} is not a graph of this server"
                raise UnknownGraphError(message) from None
            raise
        schema = schemas.get("context_schema")
        _schemas[graph] = schema if isinstance(schema, Mapping) else None
    return _schemas[graph]
