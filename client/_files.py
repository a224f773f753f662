"""Reading export files without loading them whole.

An Apple Health ``export.xml`` can be gigabytes. It is parsed as a stream and cut
into small, self-contained export documents of ``batch_records`` records each;
every element is dropped as soon as it has been copied into its batch, so memory
stays bounded by one batch whatever the size of the file.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Literal
from xml.etree.ElementTree import Element, ParseError, tostring
from xml.sax.saxutils import quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ._errors import InvalidPayloadError
from ._settings import JSON_FILE_LIMIT

Kind = Literal["xml", "zip", "json"]
Source = str | os.PathLike[str] | IO[bytes]

#: The top-level elements of an export that carry values; the rest (``Me``,
#: ``ExportDate``, ``ActivitySummary``, ``Correlation`` whose records also appear at
#: top level) is not sent.
APPLE_ELEMENTS = frozenset({"Record", "Workout"})
APPLE_ZIP_MEMBER = "apple_health_export/export.xml"

_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 64


@dataclass(frozen=True)
class Chunk:
    """One self-contained export document and how many records it holds."""

    xml: str
    records: int


class CountingReader:
    """A binary reader that reports how many bytes went through it.

    ``head`` holds bytes already read from ``raw`` to sniff its kind; they are
    handed out again first, so a pipe can be sniffed without seeking.
    """

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None], head: bytes = b"") -> None:
        self._raw = raw
        self._head = head
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        head, self._head = self._head, b""
        if size < 0:
            data = head + self._raw.read()
        elif len(head) >= size:
            data, self._head = head[:size], head[size:]
        else:
            data = head + self._raw.read(size - len(head))
        self._on_read(len(data))
        return data


def sniff(head: bytes) -> Kind:
    """The kind of a document from its first bytes; the server detects the rest."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.removeprefix(_BOM).lstrip().startswith(b"<"):
        return "xml"
    return "json"


@dataclass
class OpenedSource:
    """A file opened for ingestion: its kind, a byte stream, and its size if known."""

    kind: Kind
    stream: IO[bytes]
    head: bytes
    size: int | None
    name: str


def open_source(source: Source, stack: ExitStack) -> OpenedSource:
    """Open ``source`` (a path or a binary stream); closers go on ``stack``.

    For a zip, ``stream`` is the export inside it and ``size`` its unpacked size.
    """
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        stream: IO[bytes] = stack.enter_context(open(name, "rb"))  # noqa: SIM115
        size: int | None = os.fstat(stream.fileno()).st_size
    else:
        stream, name = source, str(getattr(source, "name", "<stream>"))
        size = None
    head = stream.read(_SNIFF_BYTES)
    kind = sniff(head)
    if kind != "zip":
        return OpenedSource(kind, stream, head, size, name)
    if not stream.seekable():
        raise InvalidPayloadError(
            f"{name} is a zip archive, which cannot be read from a pipe; pass its path"
        )
    stream.seek(0)
    archive = stack.enter_context(zipfile.ZipFile(stream))
    member = _export_member(archive, name)
    inner = stack.enter_context(archive.open(member))
    return OpenedSource("xml", inner, b"", member.file_size, f"{name}:{member.filename}")


def _export_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    infos = archive.infolist()
    for info in infos:
        if info.filename == APPLE_ZIP_MEMBER:
            return info
    for info in infos:  # an export zipped by hand, without the folder
        if info.filename.rsplit("/", 1)[-1].lower() == "export.xml":
            return info
    raise InvalidPayloadError(
        f"{name} is a zip archive without {APPLE_ZIP_MEMBER}; "
        "pass the Apple Health export.zip as exported, or its export.xml"
    )


def read_json(opened: OpenedSource, on_read: Callable[[int], None]) -> str:
    """The whole document as text, refusing anything over ``JSON_FILE_LIMIT``."""
    reader = CountingReader(opened.stream, on_read, opened.head)
    parts: list[bytes] = []
    size = 0
    # A pipe may hand out less than asked for; read until the end or past the limit.
    while size <= JSON_FILE_LIMIT and (part := reader.read(JSON_FILE_LIMIT + 1 - size)):
        parts.append(part)
        size += len(part)
    data = b"".join(parts)
    if len(data) > JSON_FILE_LIMIT:
        raise InvalidPayloadError(
            f"{opened.name} is larger than {JSON_FILE_LIMIT // (1024 * 1024)} MiB; JSON "
            "documents are read whole, so send a vendor's pages one by one instead"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidPayloadError(f"{opened.name} is not UTF-8 text: {exc}") from exc


def _document(locale: str, records: list[str]) -> str:
    body = "\n".join(records)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<HealthData locale={quoteattr(locale)}>\n{body}\n</HealthData>\n"
    )


def split_apple_export(source: IO[bytes] | CountingReader, batch_records: int) -> Iterator[Chunk]:
    """Yield the export's ``Record``/``Workout`` elements, ``batch_records`` per document.

    Entity declarations and external references are refused (billion laughs, XXE);
    the internal DTD of ELEMENT/ATTLIST declarations real exports carry is allowed.
    """
    if batch_records < 1:
        raise ValueError("batch_records must be at least 1")
    root: Element | None = None
    locale = ""
    depth = 0
    batch: list[str] = []
    events = iterparse(
        source,
        events=("start", "end"),
        forbid_dtd=False,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        for event, elem in events:
            if event == "start":
                depth += 1
                if depth == 1:
                    root, locale = _check_root(elem), elem.get("locale", "")
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            if elem.tag in APPLE_ELEMENTS:
                elem.tail = None
                batch.append(tostring(elem, encoding="unicode"))
            # Drop what has been copied; the root would otherwise grow with the file.
            del root[:]
            if len(batch) >= batch_records:
                yield Chunk(_document(locale, batch), len(batch))
                batch = []
    except DefusedXmlException as exc:
        raise InvalidPayloadError(
            f"the export declares XML entities or external references ({exc}); "
            "refused, since a real Apple Health export has none"
        ) from exc
    except ParseError as exc:
        raise InvalidPayloadError(f"the export is not well-formed XML: {exc}") from exc
    if batch:
        yield Chunk(_document(locale, batch), len(batch))


def _check_root(elem: Element) -> Element:
    if elem.tag != "HealthData":
        raise InvalidPayloadError(
            f"an XML payload must be an Apple Health export (<HealthData>), not <{elem.tag}>"
        )
    return elem
