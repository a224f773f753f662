"""Uploads staged by the client: plain documents, and zlib+base64 bytes with their limits."""

from __future__ import annotations

import base64
import zlib

import pytest

from auren_contract import PACKED_ENCODING
from auren_graphs.canonical import PayloadError
from auren_graphs.ingestion import uploads
from auren_graphs.ingestion.uploads import upload_payload


def packed(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 1)).decode()


def test_a_plain_upload_is_its_payload() -> None:
    assert upload_payload({"payload": {"data": []}, "records": None}) == {"data": []}


def test_a_compressed_upload_is_its_bytes() -> None:
    xml = "<HealthData locale='en_US'>’</HealthData>".encode()
    assert upload_payload({"payload": packed(xml), "encoding": PACKED_ENCODING}) == xml


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"payload": "abc", "encoding": "gzip"}, "encoding 'gzip'"),
        ({"payload": {"a": 1}, "encoding": PACKED_ENCODING}, "carries text"),
        ({"payload": "not base64!", "encoding": PACKED_ENCODING}, "base64"),
        ({"payload": base64.b64encode(b"plain").decode(), "encoding": PACKED_ENCODING}, "zlib"),
        (
            {
                "payload": base64.b64encode(zlib.compress(b"x" * 1000)[:-6]).decode(),
                "encoding": PACKED_ENCODING,
            },
            "truncated",
        ),
    ],
)
def test_bad_uploads_are_refused(value: dict[str, object], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        upload_payload(value)


def test_an_upload_expanding_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_EXPANDED_BYTES", 1 << 20)
    bomb = packed(b"\0" * (4 << 20))  # 4 MiB of zeros is a few KiB compressed
    assert len(bomb) < 32_000
    with pytest.raises(PayloadError, match="expands to more than 1 MiB"):
        upload_payload({"payload": bomb, "encoding": PACKED_ENCODING})
