"""Apple Health: the Health app's `export.xml` (streamed) and Health Auto Export JSON.

The work is split by concern:

- `apple_types`: record types, units, instants and identities;
- `apple_xml`: export.xml read as a stream of records (safety in `xml_safety`);
- `apple_workouts`: the values of a workout;
- `apple_hae`: Health Auto Export JSON;
- `apple_derive`: daily steps, energy and sleep from raw intervals across deliveries.

Steps, active energy and sleep stages are not stored as daily values here: they become
`RawInterval`s, which `apple_derive` turns into daily values across deliveries.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import BinaryIO

from auren_graphs.canonical import NormalizedBatch, PayloadError
from auren_graphs.ingestion.normalizers.apple_derive import (
    derive_interval_totals,
    derive_sleep,
    source_priority,
)
from auren_graphs.ingestion.normalizers.apple_hae import normalize_health_auto_export
from auren_graphs.ingestion.normalizers.apple_xml import export_chunks, read_export
from auren_graphs.ingestion.normalizers.common import NormalizeContext, load_json

__all__ = [
    "derive_interval_totals",
    "derive_sleep",
    "normalize",
    "normalize_health_auto_export",
    "normalize_stream",
    "source_priority",
]


def normalize_stream(
    stream: BinaryIO, ctx: NormalizeContext, batch_records: int = 20_000
) -> Iterator[NormalizedBatch]:
    """An export.xml read as a stream, one batch per `batch_records` records.

    Memory stays bounded by the batch size whatever the file size. A malformed or unsafe
    document raises PayloadError, possibly after earlier batches were yielded: the caller
    keeps the whole stream in one transaction. `ctx` is not needed: an Apple export
    names no vendor account.
    """
    if batch_records < 1:
        raise ValueError("batch_records must be at least 1")
    yield from read_export(export_chunks(stream), batch_records)


def normalize(payload: object, ctx: NormalizeContext) -> NormalizedBatch:
    """An export.xml document (text or bytes) or a Health Auto Export JSON document."""
    if isinstance(payload, dict | list):
        return normalize_health_auto_export(payload)
    if isinstance(payload, bytearray | memoryview):
        payload = bytes(payload)
    if not isinstance(payload, str | bytes):
        raise PayloadError(
            "an Apple Health payload is export.xml or Health Auto Export JSON, "
            f"not {type(payload).__name__}"
        )
    first = _first_character(payload)
    if first == "<":
        return _normalize_xml_text(payload)
    if first in "{[":
        return normalize_health_auto_export(load_json(_without_bom(payload)))
    raise PayloadError(
        "payload is neither export.xml (starting with '<') nor Health Auto Export JSON"
    )


def _first_character(payload: str | bytes) -> str:
    head = payload[:64]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    stripped = text.lstrip("\ufeff \t\r\n")
    return stripped[:1] or " "


def _without_bom(payload: str | bytes) -> str | bytes:
    if isinstance(payload, bytes):
        return payload.removeprefix(b"\xef\xbb\xbf")
    return payload.removeprefix("\ufeff")


def _normalize_xml_text(payload: str | bytes) -> NormalizedBatch:
    # Text is parsed from its UTF-8 encoding whatever its XML declaration says.
    encoding = "utf-8" if isinstance(payload, str) else None
    data = payload.encode() if isinstance(payload, str) else payload
    # One batch: nothing is yielded before the whole document has been read.
    (batch,) = read_export(export_chunks(io.BytesIO(data)), sys.maxsize, encoding)
    return batch
