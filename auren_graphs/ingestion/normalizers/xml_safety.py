"""Reading untrusted XML safely: a guard over the prolog, lxml for the body.

Entities are declared only in a document's prolog (its DOCTYPE), before the root
element starts. `PrologGuard` reads the prolog with expat, whose callbacks report every
declaration: any entity declaration (billion laughs), external entity, parameter entity
or external DTD is refused there, with its name and what it refers to, before anything
else reads the document. The internal DTD subset of element and attribute declarations
that every real Apple export carries is allowed.

The body is read by lxml (libxml2), configured not to resolve entities, not to load DTDs
and not to touch the network, and with libxml2's size and depth limits and its own
entity-amplification check left on (no `huge_tree`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from xml.parsers import expat

from lxml import etree

from auren_graphs.canonical import PayloadError


class _RootReached(Exception):  # noqa: N818  (a signal, not an error)
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class PrologGuard:
    """Feed it the document's bytes until `root` is set; refuses unsafe prologs."""

    def __init__(self, encoding: str | None = None) -> None:
        self.root: str | None = None
        self._parser = expat.ParserCreate(encoding)
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = _refuse_external_dtd
        self._parser.EntityDeclHandler = _refuse_entity
        self._parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
        self._parser.ExternalEntityRefHandler = _refuse_external_reference
        self._parser.StartElementHandler = _root_reached

    def feed(self, data: bytes, final: bool = False) -> None:
        if self.root is not None:
            return
        try:
            self._parser.Parse(data, final)
        except _RootReached as reached:
            self.root = reached.name
        except expat.ExpatError as exc:
            raise PayloadError(
                f"malformed XML at line {exc.lineno}, column {exc.offset + 1}: "
                f"{expat.ErrorString(exc.code)}"
            ) from None


def _root_reached(name: str, _attrs: object) -> None:
    raise _RootReached(name)


def _refuse_external_dtd(
    name: str, system_id: str | None, public_id: str | None, has_internal_subset: int
) -> None:
    if system_id is not None or public_id is not None:
        raise PayloadError(
            f"XML external DTDs are not allowed (the DOCTYPE refers to {system_id or public_id!r})"
        )


def _refuse_entity(
    name: str,
    is_parameter_entity: int,
    value: str | None,
    base: str | None,
    system_id: str | None,
    public_id: str | None,
    notation_name: str | None,
) -> None:
    if system_id or public_id:
        raise PayloadError(
            f"XML external entities are not allowed (entity {name!r} refers to "
            f"{system_id or public_id!r})"
        )
    raise PayloadError(
        "XML entity declarations are not allowed (possible entity-expansion attack): "
        f"the document declares entity {name!r}"
    )


def _refuse_unparsed_entity(
    name: str, base: str | None, system_id: str, public_id: str | None, notation: str
) -> None:
    raise PayloadError(
        f"XML external entities are not allowed (entity {name!r} refers to {system_id!r})"
    )


def _refuse_external_reference(
    context: str, base: str | None, system_id: str | None, public_id: str | None
) -> int:
    raise PayloadError(
        f"XML external entities are not allowed (the document refers to {system_id or public_id!r})"
    )


def pull_parser(tags: tuple[str, ...], encoding: str | None = None) -> etree.XMLPullParser:
    """An lxml pull parser reporting the end of elements named `tags`, safely configured."""
    etree.clear_error_log()  # so that an error names this document's first problem
    return etree.XMLPullParser(
        events=("end",),
        tag=tags,
        encoding=encoding,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


@contextmanager
def xml_errors() -> Iterator[None]:
    """lxml's syntax errors as PayloadErrors that say what is wrong, and where."""
    try:
        yield
    except etree.XMLSyntaxError as exc:
        # The exception itself may only say that no document came of it ("no element
        # found" at 0:0); libxml2's log holds the first error that broke it, and where.
        errors = exc.error_log.filter_from_errors()
        if errors:
            first = errors[0]
            line, column, message = first.line, first.column, first.message
        else:
            (line, column), message = exc.position, exc.msg or "not well-formed"
        message = message.split(", line ")[0]
        raise PayloadError(f"malformed XML at line {line}, column {column}: {message}") from None
