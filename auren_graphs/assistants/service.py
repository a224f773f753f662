"""What the ops routes (and the rollout graph) do with assistants: check, sync, history,
diff, and the switch.

**Sync** pushes *file changes*: it writes a version only when the server's assistant no
longer matches the file and the file changed since it was last synced. An assistant an
operator switched (or a rollout completed or rolled back) therefore stays switched
until its file is edited again.

**Switch** rolls forward. `assistants.set_latest()` restores a version's config and
metadata but not its `context` (langgraph-api 0.16, pinned by the integration tests),
and runs read the `context`: after a bare `set_latest` the assistant would behave like
the version it left. `switch` instead writes one new version that copies version N
whole (graph, context, config, name, description, metadata) and records
`auren_origin="switch"`, `auren_restored_version=N` and `auren_switched_from`. One
write: no run sees half a switch, the history says what happened, and it works the
same on a server whose `set_latest` does restore the context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph_sdk.client import LangGraphClient

from auren_graphs.assistants import api
from auren_graphs.assistants.models import (
    AssistantDiff,
    AssistantFile,
    AssistantHistory,
    AssistantVersion,
    KeyChange,
    SwitchOutcome,
    SyncAction,
    SyncOutcome,
)
from auren_graphs.assistants.schema import file_problems


class InvalidAssistantFileError(ValueError):
    """The file does not fit the file format or its graph's context schema."""

    def __init__(self, name: str, problems: list[str]) -> None:
        super().__init__(f"invalid assistant file {name!r}: " + "; ".join(problems))
        self.problems = problems


class AssistantNotFoundError(LookupError):
    """No such assistant, or no such version of it."""


class SwitchFailedError(RuntimeError):
    """The server did not store the copy a switch wrote (never expected)."""


async def check(sdk: LangGraphClient, raw: Mapping[str, Any]) -> AssistantFile:
    """The file as a model once it fits its graph; `InvalidAssistantFileError` otherwise."""
    graph = str(raw.get("graph_id") or "")
    name = str(raw.get("name") or "?")
    try:
        schema = await api.context_schema(sdk, graph)
    except api.UnknownGraphError as exc:
        raise InvalidAssistantFileError(name, [str(exc)]) from None
    problems = file_problems(dict(raw), schema)
    if problems:
        raise InvalidAssistantFileError(name, problems)
    return AssistantFile.model_validate(raw)


async def require(sdk: LangGraphClient, ref: str) -> AssistantVersion:
    """The assistant named (or identified by) `ref`, or `AssistantNotFoundError`."""
    found = await api.find(sdk, ref)
    if found is None:
        raise AssistantNotFoundError(
            f"no assistant {ref!r} on this server; `auren ops assistants sync` creates it "
            "from its file"
        )
    return found


async def sync(sdk: LangGraphClient, file: AssistantFile, *, dry_run: bool = False) -> SyncOutcome:
    """Make the server's assistant match the file (idempotent: run it again after a failure)."""
    current = await api.get(sdk, file.assistant_id)
    if current is None:
        if dry_run:
            return _outcome(file, "created", None, dry_run=True)
        created = await api.create(sdk, file)
        if created.matches(file):
            return _outcome(file, "created", created)
        current = created  # someone else created it first, differently: update below
    if current.matches(file):
        return _outcome(file, "unchanged", current, dry_run=dry_run)
    history = await api.versions(sdk, file.assistant_id)
    last_sync = next((v for v in history if v.origin == "sync"), None)
    if current.origin == "switch" and last_sync and last_sync.file_hash == file.content_hash:
        note = (
            f"{current.describe_origin()}; the file is unchanged since v{last_sync.version}, "
            "so the switch stays (edit the file or switch back to undo it)"
        )
        return _outcome(file, "kept", current, note=note, dry_run=dry_run)
    warnings = _bump_warnings(file, last_sync)
    if dry_run:
        return _outcome(file, "updated", None, warnings=warnings, dry_run=True)
    written = await api.write(
        sdk,
        current,
        graph_id=file.graph_id,
        context=file.context,
        config={},
        name=file.name,
        description=file.description,
        metadata=file.server_metadata(),
    )
    return _outcome(file, "updated", written, warnings=warnings)


def _outcome(
    file: AssistantFile,
    action: SyncAction,
    version: AssistantVersion | None,
    *,
    note: str = "",
    warnings: list[str] | None = None,
    dry_run: bool = False,
) -> SyncOutcome:
    return SyncOutcome(
        name=file.name,
        assistant_id=file.assistant_id,
        action=action,
        version=version.version if version else None,
        file_version=file.version,
        dry_run=dry_run,
        note=note,
        warnings=warnings or [],
    )


def _bump_warnings(file: AssistantFile, last_sync: AssistantVersion | None) -> list[str]:
    previous = last_sync.file_version if last_sync else None
    if last_sync is None or previous is None or file.version > previous:
        return []
    return [
        f"{file.name} changed since v{last_sync.version} but its metadata.version is still "
        f"{file.version}; bump it so the versions stay readable"
    ]


async def history(sdk: LangGraphClient, ref: str) -> AssistantHistory:
    """The assistant's server versions, newest first."""
    current = await require(sdk, ref)
    return AssistantHistory(
        name=current.name,
        assistant_id=current.assistant_id,
        current=current.version,
        versions=await api.versions(sdk, current.assistant_id),
    )


def _key_changes(file: Mapping[str, Any], server: Mapping[str, Any]) -> list[KeyChange]:
    missing = object()  # tells an absent key from one set to null
    return [
        KeyChange(
            key=k,
            file_value=file.get(k),
            server_value=server.get(k),
            in_file=k in file,
            in_server=k in server,
        )
        for k in sorted(set(file) | set(server))
        if file.get(k, missing) != server.get(k, missing)
    ]


async def diff(sdk: LangGraphClient, file: AssistantFile) -> AssistantDiff:
    """The file against the server's current version: context keys and fields that differ."""
    server = await api.get(sdk, file.assistant_id)
    result = AssistantDiff(
        name=file.name,
        assistant_id=file.assistant_id,
        file_version=file.version,
        file_hash=file.content_hash,
        server=server,
        in_sync=server is not None and server.matches(file),
    )
    if server is None:
        return result
    named = ("graph_id", "name", "description")
    fields = [f for f in named if getattr(file, f) != getattr(server, f)]
    if not server.consistent() or server.config_rest():
        fields.append("config")  # set by hand, or a bare set_latest left it stale
    result.context_changes = _key_changes(file.context, server.context)
    result.metadata_changes = _key_changes(file.content()["metadata"], server.user_metadata())
    result.field_changes = fields
    return result


async def switch(sdk: LangGraphClient, ref: str, version: int, **marks: Any) -> SwitchOutcome:
    """Make runs of the assistant behave exactly as its `version` did: a new version
    copying it whole, or nothing when it already behaves so. `marks` are metadata kept
    with the copy (a rollout's id)."""
    current = await require(sdk, ref)
    versions = await api.versions(sdk, current.assistant_id)
    target = next((v for v in versions if v.version == version), None)
    if target is None:
        known = ", ".join(f"v{v.version}" for v in reversed(versions))
        raise AssistantNotFoundError(f"{current.name} has no version {version} (it has {known})")
    outcome = SwitchOutcome(
        name=current.name,
        assistant_id=current.assistant_id,
        target=version,
        previous=current.version,
        new_version=None,
    )
    if current.behaves_as(target):
        return outcome
    written = await api.write(
        sdk,
        current,
        graph_id=target.graph_id,
        context=target.context,
        config=target.config_rest(),
        name=target.name,
        description=target.description,
        metadata={
            **target.metadata,
            "auren_origin": "switch",
            "auren_restored_version": version,
            "auren_switched_from": current.version,
            **marks,
        },
    )
    if not written.behaves_as(target):
        raise SwitchFailedError(
            f"switching {current.name} wrote v{written.version}, but the server does not hold "
            f"a copy of v{version} (context {written.context} instead of {target.context})"
        )
    outcome.new_version = written.version
    return outcome
