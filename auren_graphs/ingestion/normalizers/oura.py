"""Oura API v2 documents → canonical observations.

The payload is what Oura's API returns, untouched: a page `{"data": [...], "next_token": ...}`,
a single document, or a bare list of documents. Which collection a document comes from is
not passed along, so each document's kind is detected from the fields that only that kind
carries (`_KINDS`). Field names follow Oura's OpenAPI models (`PublicDailyReadiness`,
`PublicDailySleep`, `PublicDailyActivity`, `PublicDailySpO2`, `PublicModifiedSleepModel`,
`PublicHeartRateRow`).

Days: daily documents and sleep periods carry Oura's own `day` (the user's local day, and
for a `late_nap` already the next day), which is used as is. A heart rate row has only an
instant; its day is the calendar date in the instant's own UTC offset.

The work is split by concern: this module reads the payload and finds each document's
kind; `oura_records` holds what every document goes through (its identity, day, owner
and mapped fields), and `oura_documents` the kinds themselves (`_KINDS`) and what
each yields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auren_graphs.canonical import BatchBuilder, NormalizedBatch, PayloadError
from auren_graphs.ingestion.normalizers.common import (
    NormalizeContext,
    load_json,
)
from auren_graphs.ingestion.normalizers.oura_documents import _KINDS
from auren_graphs.ingestion.normalizers.oura_records import DocumentKind, _json_type


def normalize(payload: object, ctx: NormalizeContext) -> NormalizedBatch:
    """Canonical observations from one Oura API v2 page, document or list of documents."""
    documents = _documents(load_json(payload))
    kinds = [_kind_of(document) for document in documents]
    if documents and all(kind is None for kind in kinds):
        raise PayloadError(_unrecognised_payload_message(documents))
    builder = BatchBuilder("oura")
    for index, (document, kind) in enumerate(zip(documents, kinds, strict=True)):
        ref = f"data[{index}]"
        if kind is None:
            builder.reject(ref, _unrecognised_record_reason(document))
        else:
            kind.normalize(kind, document, ref, builder, ctx)
        builder.end_record(ref=ref)
    return builder.batch


# ------------------------------------------------------------------ payload shape


def _documents(data: Any) -> Sequence[Any]:
    """The records of a page, a list, or a single document."""
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise PayloadError(
            "Oura payload must be a JSON object (a document or a {data, next_token} page) "
            f"or a list of documents, not {_json_type(data)}"
        )
    if "data" not in data:
        return [data]
    records = data["data"]
    if not isinstance(records, list):
        raise PayloadError(
            f"Oura page field 'data' must be a list of documents, not {_json_type(records)}"
        )
    return records


def _kind_of(document: object) -> DocumentKind | None:
    """The one kind whose signature the document carries; None when none or several do."""
    if not isinstance(document, Mapping):
        return None
    matching = [kind for kind in _KINDS if kind.matches(document)]
    return matching[0] if len(matching) == 1 else None


def _unrecognised_record_reason(document: object) -> str:
    if not isinstance(document, Mapping):
        return f"record is {_json_type(document)}, not an Oura document object"
    matching = [kind.name for kind in _KINDS if kind.matches(document)]
    if matching:
        return f"record has fields of several Oura document kinds ({', '.join(matching)})"
    return f"record is not a recognised Oura document (fields: {_field_list(document)})"


def _unrecognised_payload_message(documents: Sequence[Any]) -> str:
    expected = ", ".join(kind.name for kind in _KINDS)
    what = "the document" if len(documents) == 1 else f"any of the {len(documents)} records"
    return (
        f"no Oura document kind recognised in {what} (expected {expected}); "
        f"first record: {_unrecognised_record_reason(documents[0])}"
    )


def _field_list(document: Mapping[str, Any], limit: int = 8) -> str:
    names = sorted(str(key) for key in document)
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ..."
