"""Assistants kept as files: ``assistants/*.json`` synced to a server, versioned, switched.

Each file describes one assistant: ``name``, ``graph_id``, ``description``, ``context``
and ``metadata`` (with ``version``, the file's own version, bumped by hand). The
assistant's id is derived from its name (:func:`assistant_id`), so it is the same on
every server and a sync never creates a second copy.

Switching rolls forward. ``assistants.set_latest()`` restores a version's config and
metadata but not its ``context`` (langgraph-api 0.16, verified by the integration
tests), and a run reads the assistant's ``context``: after a bare ``set_latest`` the
assistant would behave like the version it left. ``switch NAME N`` instead writes one
new version that copies version N whole (graph, context, config, name, description,
metadata) and records ``auren_origin="switch"``, ``auren_restored_version=N`` and
``auren_switched_from``. One write, so no run ever sees half a switch, the history
says what happened, and it works the same on a server whose ``set_latest`` does
restore the context.

A sync pushes *file changes*: it writes a version only when the server's assistant
differs from the file and the file changed since it was last synced. An assistant
switched by hand therefore stays switched until its file is edited again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, cast

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Assistant, Config

from ._errors import InvalidArgumentError, NotFoundError, UnexpectedResponseError, translate
from ._retry import Retrier

T = TypeVar("T")

#: Where ``auren assistants`` looks for files unless told otherwise.
ASSISTANTS_DIR = Path("assistants")

#: Fixed forever: an assistant's id is ``uuid5(ASSISTANT_NAMESPACE, name)`` on every server.
ASSISTANT_NAMESPACE = uuid.UUID("3b0c6a57-1d7e-4c2f-9a8e-5f4d2b61c0a9")

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_FIELDS = ("name", "graph_id", "description", "context", "metadata")
#: Metadata keys written by this module; a file may not set them.
_OWN = "auren_"
_PAGE = 100
#: Marks a graph the server does not serve (``None`` means "serves it, no context schema").
_NO_GRAPH: Mapping[str, Any] = {"properties": {}}

SyncAction = Literal["created", "updated", "unchanged", "kept"]


def assistant_id(name: str) -> str:
    """The id of the assistant named ``name``: the same on every server."""
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, name))


class InvalidAssistantFileError(InvalidArgumentError):
    """An assistant file is malformed or does not fit its graph's context schema."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    @classmethod
    def of(cls, problems: Mapping[Path, Sequence[str]]) -> InvalidAssistantFileError:
        lines = [f"{path}: {p}" for path, ps in problems.items() for p in ps]
        return cls("invalid assistant file(s), nothing was synced:\n  " + "\n  ".join(lines), lines)


# -- files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssistantFile:
    """One ``assistants/<name>.json``, checked for shape (not yet against a graph)."""

    path: Path
    name: str
    graph_id: str
    description: str
    context: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def version(self) -> int:
        """The file's own version (``metadata.version``)."""
        return int(self.metadata["version"])

    @property
    def assistant_id(self) -> str:
        return assistant_id(self.name)

    def content(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in _FIELDS}

    @property
    def content_hash(self) -> str:
        """SHA-256 of the content as canonical JSON: re-indenting a file changes nothing."""
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def server_metadata(self) -> dict[str, Any]:
        """The file's metadata plus what sync records about it."""
        return {
            **self.metadata,
            "auren_managed": True,
            "auren_file_version": self.version,
            "auren_file_hash": self.content_hash,
            "auren_origin": "sync",
            # Explicit nulls: the server merges metadata into the previous version's,
            # so a switch's keys would otherwise survive the next sync.
            "auren_restored_version": None,
            "auren_switched_from": None,
        }


def load_assistant_file(path: str | Path) -> AssistantFile:
    """Read and shape-check one assistant file; :class:`InvalidAssistantFileError` if bad."""
    path = Path(path)
    loaded = _read(path)
    if isinstance(loaded, AssistantFile):
        return loaded
    raise InvalidAssistantFileError.of({path: loaded})


def load_assistant_files(directory: str | Path = ASSISTANTS_DIR) -> list[AssistantFile]:
    """Every ``*.json`` in ``directory``, sorted by name; all problems reported at once."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidArgumentError(f"{directory} is not a directory of assistant files")
    files: list[AssistantFile] = []
    problems: dict[Path, Sequence[str]] = {}
    for path in sorted(directory.glob("*.json")):
        loaded = _read(path)
        if isinstance(loaded, AssistantFile):
            files.append(loaded)
        else:
            problems[path] = loaded
    if problems:
        raise InvalidAssistantFileError.of(problems)
    if not files:
        raise InvalidArgumentError(f"no assistant files (*.json) in {directory}")
    return files


def _read(path: Path) -> AssistantFile | list[str]:
    """The file, or what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        return [f"not valid JSON ({exc})"]
    problems = _shape_problems(raw, path)
    return problems or AssistantFile(path=path, **{f: raw[f] for f in _FIELDS})


def _shape_problems(raw: object, path: Path) -> list[str]:
    if not isinstance(raw, dict):
        return ["must be a JSON object"]
    problems = [f"missing field {f!r}" for f in _FIELDS if f not in raw]
    problems += [f"unknown field {f!r}" for f in raw if f not in _FIELDS]
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append("name must be lowercase letters, digits and '-'")
    elif name != path.stem:
        problems.append(f"name {name!r} must equal the file name ({path.stem!r})")
    for text in ("graph_id", "description"):
        if not isinstance(raw.get(text), str) or not raw[text].strip():
            problems.append(f"{text} must be a non-empty string")
    if not isinstance(raw.get("context"), dict):
        problems.append("context must be an object")
    problems += _metadata_problems(raw.get("metadata"))
    return problems


def _metadata_problems(metadata: object) -> list[str]:
    if not isinstance(metadata, dict):
        return ["metadata must be an object"]
    version = metadata.get("version")
    problems = []
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("metadata.version must be an integer >= 1 (bump it on every edit)")
    problems += [f"metadata key {k!r} is reserved for sync" for k in metadata if k.startswith(_OWN)]
    return problems


# -- context against the server's JSON schema -----------------------------------------


def context_problems(context: Mapping[str, Any], schema: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with ``context`` for a graph whose context schema is ``schema``.

    Deliberately small (no jsonschema dependency): the keywords pydantic emits for
    the graphs' context models. Unknown keys matter most: the server drops them from
    a run's context with only a log line, so a misspelt option would silently do nothing.
    """
    properties: Mapping[str, Any] = (schema or {}).get("properties") or {}
    problems = [
        f"context key {k!r} is not an option of the graph (known: {', '.join(properties)})"
        for k in context
        if k not in properties
    ]
    problems += [
        f"context key {k!r} is required"
        for k in (schema or {}).get("required", ())
        if k not in context
    ]
    for key, value in context.items():
        if key in properties:
            problems += _value_problems(f"context.{key}", value, properties[key], schema or {})
    return problems


_JSON_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _value_problems(
    where: str, value: object, prop: Mapping[str, Any], root: Mapping[str, Any]
) -> list[str]:
    prop = _resolve(prop, root)
    branches = prop.get("anyOf") or prop.get("oneOf")
    if branches:
        if any(not _value_problems(where, value, b, root) for b in branches):
            return []
        return [f"{where}={value!r} matches none of the allowed forms"]
    if "enum" in prop and value not in prop["enum"]:
        return [f"{where}={value!r} must be one of {prop['enum']}"]
    if "const" in prop and value != prop["const"]:
        return [f"{where}={value!r} must be {prop['const']!r}"]
    types = prop.get("type")
    allowed = [types] if isinstance(types, str) else list(types or [])
    if allowed and not any(_JSON_TYPES.get(t, _anything)(value) for t in allowed):
        return [f"{where}={value!r} must be of type {' or '.join(allowed)}"]
    return _bound_problems(where, value, prop)


def _anything(value: object) -> bool:
    return True


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("minimum", operator.ge, ">="),
    ("maximum", operator.le, "<="),
    ("exclusiveMinimum", operator.gt, ">"),
    ("exclusiveMaximum", operator.lt, "<"),
)


def _bound_problems(where: str, value: object, prop: Mapping[str, Any]) -> list[str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [
            f"{where}={value!r} must be {op} {prop[k]}"
            for k, within, op in _BOUNDS
            if k in prop and not within(value, prop[k])
        ]
    if isinstance(value, str):
        if "minLength" in prop and len(value) < prop["minLength"]:
            return [f"{where} must be at least {prop['minLength']} characters"]
        if "maxLength" in prop and len(value) > prop["maxLength"]:
            return [f"{where} must be at most {prop['maxLength']} characters"]
    return []


def _resolve(prop: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return prop
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    return target if isinstance(target, Mapping) else {}


# -- what the server holds --------------------------------------------------------------


@dataclass(frozen=True)
class AssistantVersion:
    """One server version of an assistant (or the assistant as runs see it now)."""

    assistant_id: str
    version: int
    graph_id: str
    name: str
    description: str | None
    context: dict[str, Any]
    config: dict[str, Any]
    metadata: dict[str, Any]
    created_at: str

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> AssistantVersion:
        try:
            return cls(
                assistant_id=str(record["assistant_id"]),
                version=int(record["version"]),
                graph_id=str(record["graph_id"]),
                name=str(record.get("name") or ""),
                description=record.get("description"),
                context=dict(record.get("context") or {}),
                config=dict(record.get("config") or {}),
                metadata=dict(record.get("metadata") or {}),
                created_at=str(record.get("created_at") or record.get("updated_at") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedResponseError(
                f"the server sent an assistant this client does not understand ({exc!r}); "
                "are client and server from the same AUREN version?"
            ) from None

    @property
    def file_version(self) -> int | None:
        return _int_or_none(self.metadata.get("auren_file_version"))

    @property
    def file_hash(self) -> str | None:
        value = self.metadata.get("auren_file_hash")
        return value if isinstance(value, str) else None

    @property
    def origin(self) -> str | None:
        value = self.metadata.get("auren_origin")
        return value if isinstance(value, str) else None

    @property
    def restored_version(self) -> int | None:
        return _int_or_none(self.metadata.get("auren_restored_version"))

    @property
    def switched_from(self) -> int | None:
        return _int_or_none(self.metadata.get("auren_switched_from"))

    def user_metadata(self) -> dict[str, Any]:
        """Metadata as the file states it: without sync's keys and cleared (null) keys."""
        return {k: v for k, v in self.metadata.items() if not k.startswith(_OWN) and v is not None}

    def behaviour(self) -> tuple[object, ...]:
        """What a run of this version depends on, and what a switch must copy."""
        return (
            self.graph_id,
            self.context,
            _config_rest(self.config),
            self.name,
            self.description,
            self.user_metadata(),
        )

    def consistent(self) -> bool:
        """Config's mirror of the context agrees with it (a bare ``set_latest`` breaks this)."""
        return (self.config.get("configurable") or {}) == self.context

    def matches(self, file: AssistantFile) -> bool:
        """Runs of this version behave as the file says."""
        return self.consistent() and self.behaviour() == (
            file.graph_id,
            file.context,
            {},
            file.name,
            file.description,
            file.metadata,
        )

    def describe_origin(self) -> str:
        if self.origin == "switch":
            return f"switch to v{self.restored_version} (from v{self.switched_from})"
        return self.origin or "-"


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _config_rest(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config without ``configurable``, which the server keeps as a copy of the context."""
    return {k: v for k, v in config.items() if k != "configurable"}


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncOutcome:
    """What sync did with one file."""

    name: str
    assistant_id: str
    action: SyncAction
    version: int
    file_version: int
    note: str = ""
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"{self.action:<9} {self.name} v{self.version} (file version {self.file_version})"
        return f"{text}: {self.note}" if self.note else text


@dataclass(frozen=True)
class AssistantHistory:
    """An assistant's server versions, newest first; ``current`` is the one runs use."""

    name: str
    assistant_id: str
    current: int
    versions: list[AssistantVersion]

    def lines(self) -> list[str]:
        rows = [["", "version", "origin", "file version", "file hash", "created", "context"]]
        for v in self.versions:
            rows.append(
                [
                    "*" if v.version == self.current else "",
                    f"v{v.version}",
                    v.describe_origin(),
                    _dash(v.file_version),
                    (v.file_hash or "-")[:12],
                    v.created_at[:19],
                    json.dumps(v.context, sort_keys=True),
                ]
            )
        return _columns(rows)


@dataclass(frozen=True)
class KeyChange:
    """One context or metadata key whose value differs between the file and the server."""

    key: str
    file_value: Any
    server_value: Any
    in_file: bool = True
    in_server: bool = True

    def describe(self) -> str:
        file = json.dumps(self.file_value) if self.in_file else "(absent)"
        server = json.dumps(self.server_value) if self.in_server else "(absent)"
        return f"{self.key}: file {file}, server {server}"


def _key_changes(file: Mapping[str, Any], server: Mapping[str, Any]) -> tuple[KeyChange, ...]:
    missing = object()  # tells an absent key from one set to null
    return tuple(
        KeyChange(k, file.get(k), server.get(k), k in file, k in server)
        for k in sorted(set(file) | set(server))
        if file.get(k, missing) != server.get(k, missing)
    )


@dataclass(frozen=True)
class AssistantDiff:
    """A file against the server's current version of its assistant."""

    file: AssistantFile
    server: AssistantVersion | None
    context_changes: tuple[KeyChange, ...] = ()
    metadata_changes: tuple[KeyChange, ...] = ()
    field_changes: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return self.server is not None and self.server.matches(self.file)

    @classmethod
    def between(cls, file: AssistantFile, server: AssistantVersion | None) -> AssistantDiff:
        if server is None:
            return cls(file, None)
        fields = [
            f for f in ("graph_id", "name", "description") if getattr(file, f) != getattr(server, f)
        ]
        if not server.consistent() or _config_rest(server.config):
            fields.append("config")  # set by hand, or a bare set_latest left it stale
        return cls(
            file,
            server,
            _key_changes(file.context, server.context),
            _key_changes(file.metadata, server.user_metadata()),
            tuple(fields),
        )

    def lines(self) -> list[str]:
        file = self.file
        head = f"{file.name}: file version {file.version} ({file.content_hash[:12]})"
        if self.server is None:
            return [f"{head}; not on the server yet (sync creates it)"]
        server = self.server
        head += (
            f" vs server v{server.version} (file version {_dash(server.file_version)}, "
            f"{(server.file_hash or '-')[:12]}, {server.describe_origin()})"
        )
        if self.in_sync:
            return [f"{head}: in sync"]
        lines = [head]
        lines += [f"  context {c.describe()}" for c in self.context_changes]
        lines += [f"  metadata {c.describe()}" for c in self.metadata_changes]
        lines += [f"  {f} differs" for f in self.field_changes]
        return lines


@dataclass(frozen=True)
class SwitchOutcome:
    """What switching an assistant to an earlier (or later) version did."""

    name: str
    assistant_id: str
    target: int
    previous: int
    new_version: int | None

    def describe(self) -> str:
        if self.new_version is None:
            return f"{self.name} v{self.previous} already behaves as v{self.target}: nothing to do"
        return (
            f"switched {self.name} from v{self.previous} to v{self.target}: "
            f"new version v{self.new_version} is a copy of v{self.target}"
        )


@dataclass(frozen=True)
class AssistantStatus:
    """One managed assistant (or file) in ``list``: its current version and sync state."""

    name: str
    assistant_id: str
    current: AssistantVersion | None
    status: str = ""

    @staticmethod
    def lines(statuses: Sequence[AssistantStatus]) -> list[str]:
        rows = [["name", "graph", "version", "file version", "origin", "status", "assistant id"]]
        for s in statuses:
            c = s.current
            rows.append(
                [
                    s.name,
                    c.graph_id if c else "-",
                    f"v{c.version}" if c else "-",
                    _dash(c.file_version if c else None),
                    c.describe_origin() if c else "-",
                    s.status or "-",
                    s.assistant_id,
                ]
            )
        return _columns(rows)


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


# -- the manager ---------------------------------------------------------------------------


class AssistantsManager:
    """``AurenClient.assistants``: keep the server's assistants as ``assistants/`` says.

    Reads and creates (fixed id, ``if_exists="do_nothing"``) are retried; writing a
    new version is not, since a repeat could add a second one. Sync is itself
    idempotent, so after a failure run it again.
    """

    def __init__(self, sdk: LangGraphClient, retrier: Retrier) -> None:
        self.sdk = sdk
        self.retrier = retrier
        self._schemas: dict[str, Mapping[str, Any] | None] = {}  # graph id -> context schema

    async def validate(self, directory: str | Path = ASSISTANTS_DIR) -> list[AssistantFile]:
        """Load every file and check its context against its graph's schema on the server."""
        files = load_assistant_files(directory)
        problems: dict[Path, Sequence[str]] = {}
        for file in files:
            found = await self._file_problems(file)
            if found:
                problems[file.path] = found
        if problems:
            raise InvalidAssistantFileError.of(problems)
        return files

    async def sync(self, directory: str | Path = ASSISTANTS_DIR) -> list[SyncOutcome]:
        """Make the server's assistants match the files; nothing is written when none changed.

        All files are validated first: one invalid file and nothing is synced.
        """
        files = await self.validate(directory)
        return [await self._sync_one(file) for file in files]

    async def list_all(self, directory: str | Path | None = None) -> list[AssistantStatus]:
        """Every assistant sync manages on the server; with ``directory``, compared to files."""
        files = {f.name: f for f in load_assistant_files(directory)} if directory else {}
        statuses = []
        for current in await self._managed():
            file = files.pop(current.name, None)
            state = "" if not directory else "no file" if file is None else _state(current, file)
            statuses.append(AssistantStatus(current.name, current.assistant_id, current, state))
        statuses += [
            AssistantStatus(f.name, f.assistant_id, None, "not synced") for f in files.values()
        ]
        return sorted(statuses, key=lambda s: s.name)

    async def versions(self, name: str) -> AssistantHistory:
        """The assistant's server versions, newest first."""
        current = await self._require(name)
        return AssistantHistory(
            name, current.assistant_id, current.version, await self._versions(current.assistant_id)
        )

    async def diff(self, name: str, directory: str | Path = ASSISTANTS_DIR) -> AssistantDiff:
        """The file ``<directory>/<name>.json`` against the server's current version."""
        path = Path(directory) / f"{name}.json"
        if not path.is_file():
            raise InvalidArgumentError(f"no assistant file {path}")
        file = load_assistant_file(path)
        return AssistantDiff.between(file, await self._get(file.assistant_id))

    async def switch(self, name: str, version: int) -> SwitchOutcome:
        """Make runs of ``name`` behave exactly as its ``version`` did (see module doc)."""
        current = await self._require(name)
        versions = await self._versions(current.assistant_id)
        target = next((v for v in versions if v.version == version), None)
        if target is None:
            known = ", ".join(f"v{v.version}" for v in reversed(versions))
            raise NotFoundError(f"{name} has no version {version} (it has {known})", 404)
        outcome = functools.partial(
            SwitchOutcome, name, current.assistant_id, version, current.version
        )
        if current.consistent() and current.behaviour() == target.behaviour():
            return outcome(None)
        metadata = {
            **target.metadata,
            "auren_origin": "switch",
            "auren_restored_version": version,
            "auren_switched_from": current.version,
        }
        written = await self._write(
            current,
            graph_id=target.graph_id,
            context=target.context,
            config=_config_rest(target.config),
            name=target.name,
            description=target.description,
            metadata=metadata,
        )
        if not (written.consistent() and written.behaviour() == target.behaviour()):
            raise UnexpectedResponseError(
                f"switching {name} wrote v{written.version}, but the server does not hold a "
                f"copy of v{version} (context {written.context} instead of {target.context})"
            )
        return outcome(written.version)

    # -- sync, one file ---------------------------------------------------------------

    async def _sync_one(self, file: AssistantFile) -> SyncOutcome:
        current = await self._get(file.assistant_id)
        if current is None:
            created = await self._create(file)
            if created.matches(file):
                return self._outcome(file, "created", created)
            current = created  # someone else created it first, differently: update below
        if current.matches(file):
            return self._outcome(file, "unchanged", current)
        history = await self._versions(file.assistant_id)
        last_sync = next((v for v in history if v.origin == "sync"), None)
        if current.origin == "switch" and last_sync and last_sync.file_hash == file.content_hash:
            # An operator switched it and the file has not changed since: keep the switch.
            note = (
                f"{current.describe_origin()}; the file is unchanged since v{last_sync.version}, "
                "so the switch stays (edit the file or switch back to undo it)"
            )
            return self._outcome(file, "kept", current, note)
        written = await self._write(
            current,
            graph_id=file.graph_id,
            context=file.context,
            config={},
            name=file.name,
            description=file.description,
            metadata=file.server_metadata(),
        )
        return self._outcome(file, "updated", written, warnings=_bump_warnings(file, last_sync))

    def _outcome(
        self,
        file: AssistantFile,
        action: SyncAction,
        version: AssistantVersion,
        note: str = "",
        warnings: tuple[str, ...] = (),
    ) -> SyncOutcome:
        return SyncOutcome(
            file.name, file.assistant_id, action, version.version, file.version, note, warnings
        )

    async def _file_problems(self, file: AssistantFile) -> list[str]:
        if file.graph_id not in self._schemas:
            self._schemas[file.graph_id] = await self._context_schema(file.graph_id)
        schema = self._schemas[file.graph_id]
        if schema is _NO_GRAPH:
            return [
                f"graph_id {file.graph_id!r} is not a graph of the server at {self.retrier.url}"
            ]
        return context_problems(file.context, schema)

    async def _context_schema(self, graph_id: str) -> Mapping[str, Any] | None:
        # Any assistant of a graph has the graph's schemas; the server makes one per graph.
        found = await self.retrier.call(lambda: self._search(graph_id=graph_id, limit=1))
        if not found:
            return _NO_GRAPH
        schemas = await self.retrier.call(
            functools.partial(self.sdk.assistants.get_schemas, found[0]["assistant_id"])
        )
        schema = schemas.get("context_schema")
        return schema if isinstance(schema, Mapping) else None

    # -- server calls -------------------------------------------------------------------

    async def _create(self, file: AssistantFile) -> AssistantVersion:
        record = await self.retrier.call(
            lambda: self.sdk.assistants.create(
                file.graph_id,
                context=file.context,
                metadata=file.server_metadata(),
                assistant_id=file.assistant_id,
                if_exists="do_nothing",  # safe to retry: a repeat returns the first
                name=file.name,
                description=file.description,
            )
        )
        return AssistantVersion.of(record)

    async def _write(
        self,
        current: AssistantVersion,
        *,
        graph_id: str,
        context: dict[str, Any],
        config: dict[str, Any],
        name: str,
        description: str | None,
        metadata: dict[str, Any],
    ) -> AssistantVersion:
        """Write a new version holding exactly these fields."""
        # The server merges metadata into the current version's: clear what is not ours.
        cleared = {k: None for k in current.metadata if k not in metadata}
        if not context:
            # An empty context is "keep the current one" unless config says otherwise.
            config = {**config, "configurable": {}}
        call = functools.partial(
            self.sdk.assistants.update,
            current.assistant_id,
            graph_id=graph_id,
            config=cast("Config", config),
            context=context,
            metadata={**cleared, **metadata},
            name=name,
            description=description,
        )
        return AssistantVersion.of(await self._once(call))

    async def _once(self, fn: Callable[[], Awaitable[T]]) -> T:
        """A call that must not be repeated: errors translated, no retry."""
        try:
            return await fn()
        except Exception as exc:
            mapped = translate(exc, self.retrier.url)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _get(self, assistant: str) -> AssistantVersion | None:
        try:
            record = await self.retrier.call(functools.partial(self.sdk.assistants.get, assistant))
        except NotFoundError:
            return None
        return AssistantVersion.of(record)

    async def _require(self, name: str) -> AssistantVersion:
        current = await self._get(assistant_id(name))
        if current is None:
            raise NotFoundError(
                f"no assistant {name!r} on {self.retrier.url}; `auren assistants sync` creates "
                "it from its file",
                404,
            )
        return current

    async def _versions(self, assistant: str) -> list[AssistantVersion]:
        versions: list[AssistantVersion] = []
        while True:
            page = await self.retrier.call(
                functools.partial(
                    self.sdk.assistants.get_versions, assistant, limit=_PAGE, offset=len(versions)
                )
            )
            versions += [AssistantVersion.of(v) for v in page]
            if len(page) < _PAGE:
                return sorted(versions, key=lambda v: v.version, reverse=True)

    async def _search(
        self,
        *,
        graph_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        limit: int = _PAGE,
        offset: int = 0,
    ) -> list[Assistant]:
        return await self.sdk.assistants.search(
            graph_id=graph_id, metadata=metadata, limit=limit, offset=offset
        )

    async def _managed(self) -> list[AssistantVersion]:
        found: list[AssistantVersion] = []
        while True:
            page = await self.retrier.call(
                functools.partial(self._search, metadata={"auren_managed": True}, offset=len(found))
            )
            found += [AssistantVersion.of(a) for a in page]
            if len(page) < _PAGE:
                return found


def _state(current: AssistantVersion, file: AssistantFile) -> str:
    if current.matches(file):
        return "in sync"
    if current.origin == "switch":
        return "switched"
    return "file differs"


def _bump_warnings(file: AssistantFile, last_sync: AssistantVersion | None) -> tuple[str, ...]:
    previous = last_sync.file_version if last_sync else None
    if last_sync is None or previous is None or file.version > previous:
        return ()
    return (
        f"{file.path} changed since v{last_sync.version} but its metadata.version is still "
        f"{file.version}; bump it so the versions stay readable",
    )


# -- the synchronous twin ----------------------------------------------------------------


class _Runner(Protocol):
    def __call__(self, coro: Coroutine[Any, Any, T], /) -> T: ...


class SyncAssistantsManager:
    """``SyncAurenClient.assistants``: the same methods as :class:`AssistantsManager`."""

    def __init__(self, manager: AssistantsManager, run: _Runner) -> None:
        self._manager = manager
        self._run = run

    def validate(self, directory: str | Path = ASSISTANTS_DIR) -> list[AssistantFile]:
        return self._run(self._manager.validate(directory))

    def sync(self, directory: str | Path = ASSISTANTS_DIR) -> list[SyncOutcome]:
        return self._run(self._manager.sync(directory))

    def list_all(self, directory: str | Path | None = None) -> list[AssistantStatus]:
        return self._run(self._manager.list_all(directory))

    def versions(self, name: str) -> AssistantHistory:
        return self._run(self._manager.versions(name))

    def diff(self, name: str, directory: str | Path = ASSISTANTS_DIR) -> AssistantDiff:
        return self._run(self._manager.diff(name, directory))

    def switch(self, name: str, version: int) -> SwitchOutcome:
        return self._run(self._manager.switch(name, version))
