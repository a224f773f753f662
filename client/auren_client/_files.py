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
from typing import IO, Literal, Protocol
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

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


_READ_SIZE = 1 << 20


class _ExportCutter:
    """Finds where each top-level element of an export starts and ends, in bytes.

    Expat reports the byte offset of every tag; a top-level element spans from its
    own start to the next top-level start (or the root's end tag), so the raw text
    of each Record can be copied as it is, without building or re-serializing any
    element: a parse with no element objects at all.
    """

    def __init__(self) -> None:
        self.parser = expat.ParserCreate()
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._entity
        self.parser.UnparsedEntityDeclHandler = self._entity
        self.parser.ExternalEntityRefHandler = self._external
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.depth = 0
        self.locale = ""
        self.open: tuple[int, bool] | None = None  # (start offset, kept?)
        self.spans: list[tuple[int, int]] = []

    def _doctype(
        self, name: str, system_id: str | None, public_id: str | None, internal: int
    ) -> None:
        if system_id or public_id:
            raise InvalidPayloadError(
                "the export refers to an external DTD; refused, since a real Apple Health "
                "export carries its DTD inline"
            )

    def _entity(self, *_: object) -> None:
        raise InvalidPayloadError(
            "the export declares XML entities (possible entity-expansion attack); refused, "
            "since a real Apple Health export has none"
        )

    def _external(self, *_: object) -> int:
        raise InvalidPayloadError("the export refers to an external XML entity; refused")

    def _close_open(self, at: int) -> None:
        if self.open is not None and self.open[1]:
            self.spans.append((self.open[0], at))
        self.open = None

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name != "HealthData":
                raise InvalidPayloadError(
                    f"an XML payload must be an Apple Health export (<HealthData>), not <{name}>"
                )
            self.locale = attrs.get("locale", "")
        elif self.depth == 2:
            at = self.parser.CurrentByteIndex
            self._close_open(at)
            self.open = (at, name in APPLE_ELEMENTS)

    def _end(self, name: str) -> None:
        if self.depth == 1:
            self._close_open(self.parser.CurrentByteIndex)
        self.depth -= 1


def _document(locale: str, body: bytes) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<HealthData locale={quoteattr(locale)}>\n{body.decode('utf-8')}\n</HealthData>\n"
    )


def split_apple_export(source: IO[bytes] | CountingReader, batch_records: int) -> Iterator[Chunk]:
    """Yield the export's ``Record``/``Workout`` elements, ``batch_records`` per document.

    The raw text of each element is copied into a small standalone export, so the
    server parses the vendor's own markup. Memory holds one batch and one read.
    Entity declarations and external references are refused (billion laughs, XXE);
    the internal DTD of ELEMENT/ATTLIST declarations real exports carry is allowed.
    """
    if batch_records < 1:
        raise ValueError("batch_records must be at least 1")
    cutter = _ExportCutter()
    buffer = bytearray()
    base = 0  # stream offset of buffer[0]
    while True:
        data = source.read(_READ_SIZE)
        buffer += data
        _parse(cutter, data, final=not data)
        while len(cutter.spans) >= batch_records or (not data and cutter.spans):
            batch, cutter.spans = cutter.spans[:batch_records], cutter.spans[batch_records:]
            body = b"\n".join(bytes(buffer[s - base : e - base]).rstrip() for s, e in batch)
            yield Chunk(_document(cutter.locale, body), len(batch))
            # Drop what has been sent; keep from the first byte still needed.
            keep_from = min([s for s, _ in cutter.spans] + [batch[-1][1]])
            if cutter.open is not None:
                keep_from = min(keep_from, cutter.open[0])
            del buffer[: keep_from - base]
            base = keep_from
        if cutter.open is None and not cutter.spans:
            # Nothing pending (between elements, or inside skipped ones): keep only
            # what the parser has not reached yet.
            reached = cutter.parser.CurrentByteIndex
            if reached > base:
                del buffer[: reached - base]
                base = reached
        if not data:
            return


def _parse(cutter: _ExportCutter, data: bytes, *, final: bool) -> None:
    try:
        cutter.parser.Parse(data, final)
    except expat.ExpatError as exc:
        raise InvalidPayloadError(
            f"the export is not well-formed XML: {expat.ErrorString(exc.code)} at line "
            f"{exc.lineno}, column {exc.offset}"
        ) from exc


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def check_apple_export(source: _Readable) -> None:
    """Parse the whole export once, fast, without callbacks that build anything.

    Run before anything is sent, so a file damaged part-way stores nothing.
    """
    cutter = _ExportCutter()
    cutter.parser.StartElementHandler = _root_only(cutter)
    cutter.parser.EndElementHandler = None
    while data := source.read(_READ_SIZE):
        _parse(cutter, data, final=False)
    _parse(cutter, b"", final=True)


def _root_only(cutter: _ExportCutter) -> Callable[[str, dict[str, str]], None]:
    def start(name: str, attrs: dict[str, str]) -> None:
        if cutter.depth == 0:
            cutter._start(name, attrs)
            cutter.parser.StartElementHandler = None  # the rest only needs well-formedness

    return start
