"""The bodies vendors and devices send, as typed models: the routes validate with them, and
the OpenAPI description (`GET /openapi/auren.json`) is generated from them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from auren_contract import METRICS
from auren_graphs.webhooks.common import RefusedError

_INTEGER = r"^[0-9]{1,19}$"
SafeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]


class WhoopNotification(BaseModel):
    """A WHOOP v2 webhook: ids only; the object is fetched from the API afterwards."""

    model_config = ConfigDict(extra="allow")

    user_id: int | Annotated[str, StringConstraints(pattern=_INTEGER)] = Field(
        description="WHOOP's integer user id."
    )
    id: int | uuid.UUID | Annotated[str, StringConstraints(pattern=_INTEGER)] = Field(
        description="The object: a cycle's integer id, or a sleep's or workout's UUID."
    )
    type: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}\.[a-z_]{1,40}$")] = Field(
        description="recovery|sleep|workout|cycle . updated|deleted"
    )
    trace_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="WHOOP's id of this change (a redelivery repeats it)."
    )

    @field_validator("user_id", "id", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be an id, not a boolean")
        if isinstance(value, int) and value < 0:
            raise ValueError("must not be negative")
        return value


class OuraNotification(BaseModel):
    """An Oura webhook: the document is fetched from `/v2/usercollection/...` afterwards."""

    model_config = ConfigDict(extra="allow")

    event_type: Literal["create", "update", "delete"] = Field(description="What happened.")
    data_type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")] = Field(
        description="The collection, such as daily_sleep."
    )
    object_id: SafeId = Field(description="The document's id.")
    user_id: SafeId | int = Field(description="Oura's user id.")
    event_time: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="When the change happened (a redelivery repeats it)."
    )

    @field_validator("user_id", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be Oura's user id, not a boolean")
        return value


class ManualEntry(BaseModel):
    """One value typed in by hand (AUREN's own format)."""

    entry_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    metric: Literal[tuple(sorted(METRICS))]  # type: ignore[valid-type]
    value: float
    unit: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    measured_at: datetime | None = Field(default=None, description="The instant (with offset).")
    day: date | None = Field(
        default=None, alias="date", description="A daily value's local day instead."
    )
    user_id: str | None = Field(default=None, description="Must be the pushing user when set.")
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ManualEntries(BaseModel):
    """`POST /webhooks/manual`: manual entries."""

    entries: list[ManualEntry] = Field(min_length=1, max_length=10_000)


class HealthAutoExport(BaseModel):
    """`POST /webhooks/apple_health`: a Health Auto Export (REST automation) document."""

    model_config = ConfigDict(extra="allow")

    data: dict[str, Any] = Field(description="`{metrics: [...], workouts: [...]}` as exported.")


def validated(model: type[BaseModel], document: Any, what: str) -> Any:
    """`document` checked against `model`; 400 naming the first problem."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "the body"
        raise RefusedError(400, f"not a valid {what}: {where}: {first.get('msg')}") from None


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI `requestBody` for a route that reads its raw body itself."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    if definitions:  # inline the few nested models: the route's schema stands alone
        schema = _inline(schema, definitions)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline(definitions[ref.rsplit("/", 1)[1]], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, definitions) for value in node]
    return node
