"""Payloads staged in the store by the client, and how they travel.

An upload is the item `("uploads", user) / key` holding
`{"device", "payload", "records", "encoding"}`. Without `encoding` the payload is the
document itself (a JSON value or text). With `"encoding": "zlib+base64"` it is the
document's bytes compressed with zlib and written in base64: an Apple export chunk then
costs a tenth of its size in the request, in Postgres and in the JSON the server decodes
twice, and the document reaches the normalizer as the bytes the vendor wrote. A
compressed upload may not expand past `MAX_EXPANDED_BYTES` (a zip bomb is refused).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from typing import Any

from auren_contract import PACKED_ENCODING
from auren_graphs.canonical import PayloadError

MAX_EXPANDED_BYTES = 256 * 1024 * 1024


def upload_payload(value: Mapping[str, Any]) -> Any:
    """The document an upload item carries, decoded; PayloadError when it cannot be."""
    payload = value.get("payload")
    encoding = value.get("encoding")
    if encoding is None or payload is None:
        return payload
    if encoding != PACKED_ENCODING:
        raise PayloadError(f"the upload's encoding {encoding!r} is not {PACKED_ENCODING!r}")
    if not isinstance(payload, str):
        raise PayloadError(f"a {PACKED_ENCODING} upload carries text, not {type(payload).__name__}")
    return expand(payload)


def expand(text: str) -> bytes:
    """The bytes of a zlib+base64 text, refusing more than `MAX_EXPANDED_BYTES`."""
    try:
        packed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError(f"the upload is not valid base64: {exc}") from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(packed, MAX_EXPANDED_BYTES)
    except zlib.error as exc:
        raise PayloadError(f"the upload is not valid zlib data: {exc}") from None
    if inflater.unconsumed_tail:
        raise PayloadError(
            f"the upload expands to more than {MAX_EXPANDED_BYTES // 2**20} MiB; refused"
        )
    if not inflater.eof:
        raise PayloadError("the upload's zlib data is truncated")
    return data
