"""Reading export files without loading them whole.

An Apple Health ``export.xml`` can be gigabytes. It is parsed as a stream and cut
into small, self-contained export documents of ``batch_records`` records each;
every element is dropped as soon as it has been copied into its batch, so memory
stays bounded by one batch whatever the size of the file. Each document travels
compressed (zlib, in base64: about a tenth of its size), and so does a large JSON file.
"""

from __future__ import annotations

import base64
import codecs
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Literal
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from lxml import etree

from ._errors import InvalidPayloadError
from ._settings import JSON_FILE_LIMIT

Kind = Literal["xml", "zip", "json"]
Source = str | os.PathLike[str] | IO[bytes]

#: The top-level elements of an export that describe it rather than being records;
#: every other one is sent, so that the server accounts for every record.
NOT_RECORDS = frozenset({"ExportDate", "Me"})
APPLE_ZIP_MEMBER = "apple_health_export/export.xml"

_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 64


@dataclass(frozen=True)
class Chunk:
    """One self-contained export document, packed (see :func:`pack`), and its records."""

    packed: str
    records: int


def pack(data: bytes) -> str:
    """zlib at its fastest level, in base64: an upload's payload in ``PACKED_ENCODING``.

    zlib works outside the interpreter lock, so packing in a worker thread overlaps the
    uploads going on in the event loop.
    """
    return base64.b64encode(zlib.compress(data, 1)).decode("ascii")


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
    """A file opened for ingestion: its kind, a byte stream, and its size if known.

    ``head`` holds what was read from a pipe to sniff its kind (a pipe cannot be rewound);
    it is empty for anything seekable, whose ``stream`` starts at the beginning again.
    """

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
    start = stream.tell() if stream.seekable() else None
    head = stream.read(_SNIFF_BYTES)
    kind = sniff(head)
    if kind != "zip":
        if start is not None:  # read it again from its start: only a pipe keeps a head
            stream.seek(start)
            head = b""
        return OpenedSource(kind, stream, head, size, name)
    if start is None:
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


def read_json(opened: OpenedSource, on_read: Callable[[int], None]) -> bytes:
    """The whole document's bytes (UTF-8, BOM removed), refusing anything over
    ``JSON_FILE_LIMIT``: a file from its size before any of it is read, a pipe as soon as
    it has sent more than that."""
    if opened.size is not None and opened.size > JSON_FILE_LIMIT:
        raise _too_large(opened)
    reader = CountingReader(opened.stream, on_read, opened.head)
    parts: list[bytes] = []
    size = 0
    # A pipe may hand out less than asked for; read until the end or past the limit.
    while size <= JSON_FILE_LIMIT and (part := reader.read(JSON_FILE_LIMIT + 1 - size)):
        parts.append(part)
        size += len(part)
    if size > JSON_FILE_LIMIT:
        raise _too_large(opened)
    data = b"".join(parts).removeprefix(_BOM)
    _check_utf8(data, opened.name)
    return data


def _too_large(opened: OpenedSource) -> InvalidPayloadError:
    return InvalidPayloadError(
        f"{opened.name} is larger than {JSON_FILE_LIMIT // (1024 * 1024)} MiB; JSON "
        "documents are read whole, so send a vendor's pages one by one instead"
    )


def _check_utf8(data: bytes, name: str) -> None:
    """Refuse text that is not UTF-8, a piece at a time (no copy of the whole as text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    step = 1 << 20
    try:
        for start in range(0, len(data), step):
            decoder.decode(view[start : start + step], final=start + step >= len(data))
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise InvalidPayloadError(f"{name} is not UTF-8 text: {exc.reason}") from exc


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
            self.open = (at, name not in NOT_RECORDS)

    def _end(self, name: str) -> None:
        if self.depth == 1:
            self._close_open(self.parser.CurrentByteIndex)
        self.depth -= 1


def _packed_document(locale: str, buffer: bytearray, spans: list[tuple[int, int]]) -> str:
    """A standalone export of the elements at `spans` (offsets into `buffer`), packed.

    The elements' bytes go from the buffer straight into the compressor, run by run
    (consecutive elements are one run), so no copy of the document is ever made.
    """
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale={quoteattr(locale)}>\n'
    packer = zlib.compressobj(1)
    parts = [packer.compress(head.encode())]
    with memoryview(buffer) as view:
        start, end = spans[0]
        for span_start, span_end in spans[1:]:
            if span_start != end:
                parts.append(packer.compress(view[start:end]))
                start = span_start
            end = span_end
        parts.append(packer.compress(view[start:end]))
    parts += [packer.compress(b"\n</HealthData>\n"), packer.flush()]
    return base64.b64encode(b"".join(parts)).decode("ascii")


def split_apple_export(source: IO[bytes] | CountingReader, batch_records: int) -> Iterator[Chunk]:
    """Yield the export's records (every top-level element but ``ExportDate`` and ``Me``),
    ``batch_records`` per document, packed.

    The raw text of each element goes into a small standalone export, so the server
    parses the vendor's own markup. Memory holds one batch's bytes and one read.
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
            spans = [(s - base, e - base) for s, e in batch]
            yield Chunk(_packed_document(cutter.locale, buffer, spans), len(batch))
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


def check_apple_export(source: IO[bytes]) -> None:
    """Parse the whole export once, fast, building nothing, before anything is sent.

    So a file damaged part-way stores nothing. libxml2 (lxml) configured safely, with no
    callbacks at all, checks that it is well-formed; what the prolog may not hold
    (entities, external DTDs, another root) the cutter refuses at its first read,
    which also comes before anything is sent.
    """
    etree.clear_error_log()
    body = etree.XMLParser(
        target=_NoTree(),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
    )
    try:
        while data := source.read(_READ_SIZE):
            body.feed(data)
        body.close()
    except etree.XMLSyntaxError as exc:
        raise _not_well_formed(exc) from None


class _NoTree:
    """An lxml target with no callbacks: libxml2 checks the document and keeps nothing."""

    def close(self) -> None:
        return None


def _not_well_formed(exc: etree.XMLSyntaxError) -> InvalidPayloadError:
    errors = exc.error_log.filter_from_errors()
    line, column, message = (
        (errors[0].line, errors[0].column, errors[0].message)
        if errors
        else (*exc.position, exc.msg)
    )
    return InvalidPayloadError(
        f"the export is not well-formed XML: {message} at line {line}, column {column}"
    )
