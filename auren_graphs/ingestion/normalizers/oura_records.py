"""What every Oura document goes through: the description of its kind (`DocumentKind`),
its identity and day, the check that it belongs to the connected user, and its mapped
fields read into observations.

Names with a leading underscore are private to the Oura normalizer's modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from auren_graphs.canonical import BatchBuilder, Combine
from auren_graphs.ingestion.normalizers.common import NormalizeContext, parse_day

FieldPath = tuple[str, ...]
MetricFields = tuple[tuple[str, FieldPath], ...]
Handler = Callable[["DocumentKind", Mapping[str, Any], str, BatchBuilder, NormalizeContext], None]


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """One Oura collection: how to recognise its documents and what they map to.

    `fields` are top-level fields and `contributors` keys of the `contributors` object
    that only this kind has; a document with any of them is of this kind.
    """

    name: str
    fields: frozenset[str]
    contributors: frozenset[str]
    metrics: MetricFields
    normalize: Handler

    def matches(self, document: Mapping[str, Any]) -> bool:
        if not self.fields.isdisjoint(document):
            return True
        contributors = document.get("contributors")
        return isinstance(contributors, Mapping) and not self.contributors.isdisjoint(contributors)


# ------------------------------------------------------------------ shared record checks


@dataclass(frozen=True, slots=True)
class _Head:
    """What every document with an id and a day contributes: its identity and its day."""

    identity: str
    day: date


def _document_head(
    kind: DocumentKind,
    document: Mapping[str, Any],
    ref: str,
    builder: BatchBuilder,
    ctx: NormalizeContext,
) -> _Head | None:
    """The document's identity and day, or None after rejecting it for lacking them."""
    document_id = document.get("id")
    if not isinstance(document_id, str) or not document_id.strip():
        builder.reject(f"oura:{kind.name}:{ref}", f"{kind.name} document has no id")
        return None
    identity = f"oura:{kind.name}:{document_id}"
    try:
        day = parse_day(document.get("day"))
    except ValueError as exc:
        builder.reject(identity, f"{kind.name} document has no valid day: {exc}")
        return None
    if not _belongs_to_user(document, identity, builder, ctx):
        return None
    return _Head(identity, day)


def _belongs_to_user(
    document: Mapping[str, Any], identity: str, builder: BatchBuilder, ctx: NormalizeContext
) -> bool:
    """False, after rejecting it, when a document names another vendor user.

    Oura's v2 documents carry no user id (the token decides whose data it is), so this
    only acts on a document that does carry a `user_id`.
    """
    named = document.get("user_id")
    if named is None or ctx.vendor_user_id is None or str(named) == ctx.vendor_user_id:
        return True
    builder.reject(
        identity,
        f"document belongs to Oura user {named!r}, not the connected {ctx.vendor_user_id!r}",
    )
    return False


def _field(document: Mapping[str, Any], path: FieldPath) -> object:
    """The value at `path`; None when Oura left any step of it null or out."""
    value: object = document
    for step, key in enumerate(path):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError(f"{'.'.join(path[:step])} is {_json_type(value)}, not an object")
        value = value.get(key)
    return value


def _add_fields(
    builder: BatchBuilder,
    document: Mapping[str, Any],
    fields: MetricFields,
    head: _Head,
    *,
    combine: Combine = "replace",
    rank: float = 0.0,
    timestamp: datetime | None = None,
) -> int:
    """Add each mapped field that has a value; the number of fields that had one."""
    present = 0
    for metric, path in fields:
        try:
            value = _field(document, path)
        except ValueError as exc:
            present += 1
            builder.reject(head.identity, f"{metric}: {exc}")
            continue
        if value is None:
            continue
        present += 1
        builder.add(
            metric,
            value,
            day=head.day,
            identity=head.identity,
            timestamp=timestamp,
            combine=combine,
            rank=rank,
        )
    return present


def _skip_unscored(builder: BatchBuilder, head: _Head, what: str) -> None:
    builder.skip(head.identity, f"{what} has no value yet (Oura sent null): nothing to store")


# ------------------------------------------------------------------ messages


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
