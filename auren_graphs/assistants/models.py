"""An assistant file, and the server's versions of an assistant, as typed models.

The file model is the one definition of the file format: the ops routes take it as
their body, and `schema` builds the JSON schema files are checked with from it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from auren_contract import ASSISTANT_NAME_PATTERN, assistant_id

#: Metadata keys the server writes; a file may not set them.
OWN_PREFIX = "auren_"
SyncAction = Literal["created", "updated", "unchanged", "kept"]


class AssistantMetadata(BaseModel):
    """The file's metadata: its own version, and any other keys the team wants."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"propertyNames": {"not": {"pattern": "^auren_"}}}
    )

    version: StrictInt = Field(ge=1, description="The file's own version: bump it on every edit.")

    @model_validator(mode="after")
    def _not_reserved(self) -> AssistantMetadata:
        reserved = [k for k in self.model_extra or {} if k.startswith(OWN_PREFIX)]
        if reserved:
            raise ValueError(f"metadata keys {reserved} are reserved for sync (auren_...)")
        return self


class AssistantFile(BaseModel):
    """One `assistants/<name>.json`: an assistant as the repository states it."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(
        pattern=ASSISTANT_NAME_PATTERN,
        description="The assistant's name, and its file's: lowercase letters, digits, '-'.",
    )
    graph_id: StrictStr = Field(min_length=1, description="The graph it runs.")
    description: StrictStr = Field(pattern=r"\S", description="What it is for (Studio shows it).")
    context: dict[str, Any] = Field(description="The graph's run-time options (its context).")
    metadata: AssistantMetadata = Field(description="The file's version, and more.")

    @property
    def assistant_id(self) -> str:
        return assistant_id(self.name)

    @property
    def version(self) -> int:
        return self.metadata.version

    def content(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @property
    def content_hash(self) -> str:
        """SHA-256 of the content as canonical JSON: re-indenting a file changes nothing."""
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def server_metadata(self) -> dict[str, Any]:
        """The file's metadata plus what sync records about it."""
        return {
            **self.content()["metadata"],
            "auren_managed": True,
            "auren_file_version": self.version,
            "auren_file_hash": self.content_hash,
            "auren_origin": "sync",
            # Explicit nulls: the server merges metadata into the previous version's,
            # so a switch's keys would otherwise survive the next sync.
            "auren_restored_version": None,
            "auren_switched_from": None,
            "auren_rollout_id": None,
        }


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class AssistantVersion(BaseModel):
    """One server version of an assistant (or the assistant as runs see it now)."""

    assistant_id: str
    version: int
    graph_id: str
    name: str = ""
    description: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str = ""

    @classmethod
    def of(cls, record: Any) -> AssistantVersion:
        fields = {k: record.get(k) for k in cls.model_fields if record.get(k) is not None}
        fields["created_at"] = str(record.get("created_at") or record.get("updated_at") or "")
        return cls.model_validate(fields)

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

    def user_metadata(self) -> dict[str, Any]:
        """Metadata as a file states it: without sync's keys and cleared (null) keys."""
        return {
            k: v for k, v in self.metadata.items() if not k.startswith(OWN_PREFIX) and v is not None
        }

    def config_rest(self) -> dict[str, Any]:
        """Config without `configurable`, which the server keeps as a copy of the context."""
        return {k: v for k, v in self.config.items() if k != "configurable"}

    def behaviour(self) -> tuple[object, ...]:
        """What a run of this version depends on, and what a switch must copy."""
        return (
            self.graph_id,
            self.context,
            self.config_rest(),
            self.name,
            self.description,
            self.user_metadata(),
        )

    def consistent(self) -> bool:
        """Config's mirror of the context agrees with it (a bare `set_latest` breaks this)."""
        return bool((self.config.get("configurable") or {}) == self.context)

    def behaves_as(self, other: AssistantVersion) -> bool:
        return self.consistent() and self.behaviour() == other.behaviour()

    def matches(self, file: AssistantFile) -> bool:
        """Runs of this version behave as the file says."""
        return self.consistent() and self.behaviour() == (
            file.graph_id,
            file.context,
            {},
            file.name,
            file.description,
            file.content()["metadata"],
        )

    def describe_origin(self) -> str:
        if self.origin == "switch":
            switched_from = _int_or_none(self.metadata.get("auren_switched_from"))
            return f"switch to v{self.restored_version} (from v{switched_from})"
        return self.origin or "-"


class SyncOutcome(BaseModel):
    """What sync did (or, in a dry run, would do) with one file."""

    name: str
    assistant_id: str
    action: SyncAction = Field(description="created, updated, unchanged, or kept (a switch).")
    version: int | None = Field(description="The server version now (None: not yet written).")
    file_version: int
    dry_run: bool = False
    note: str = ""
    warnings: list[str] = Field(default_factory=list)


class AssistantHistory(BaseModel):
    """An assistant's server versions, newest first; `current` is the one runs use."""

    name: str
    assistant_id: str
    current: int
    versions: list[AssistantVersion]


class KeyChange(BaseModel):
    """One context or metadata key whose value differs between the file and the server."""

    key: str
    file_value: Any = None
    server_value: Any = None
    in_file: bool = True
    in_server: bool = True


class AssistantDiff(BaseModel):
    """A file against the server's current version of its assistant."""

    name: str
    assistant_id: str
    file_version: int
    file_hash: str
    server: AssistantVersion | None = Field(description="None: not on the server yet.")
    in_sync: bool
    context_changes: list[KeyChange] = Field(default_factory=list)
    metadata_changes: list[KeyChange] = Field(default_factory=list)
    field_changes: list[str] = Field(
        default_factory=list, description="graph_id, name, description or config differ."
    )


class SwitchOutcome(BaseModel):
    """What switching an assistant to one of its versions did."""

    name: str
    assistant_id: str
    target: int = Field(description="The version runs now behave as.")
    previous: int = Field(description="The version that was current.")
    new_version: int | None = Field(description="The copy written (None: nothing to do).")
