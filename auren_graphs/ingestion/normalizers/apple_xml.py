"""Apple Health export.xml, read as a stream of records.

export.xml is the Health app's "Export All Health Data" document, often several GB.
Its records (per Apple's own DTD, HealthKit export version 14) look like

    <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Alice’s Apple Watch"
            unit="count/min" startDate="2026-11-02 07:30:00 -0800"
            endDate="2026-11-02 07:30:00 -0800" value="72"><MetadataEntry .../></Record>
    <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min"
             startDate=... endDate=...><WorkoutStatistics type=... sum=... unit=.../></Workout>

The prolog is checked by `xml_safety.PrologGuard`; the body is parsed by lxml in pieces,
each direct child of <HealthData> is turned into observations as soon as it ends, and
after each piece the finished ones are dropped, so memory stays bounded however large
the file.
Every direct child but ExportDate and Me is a record and is accounted for: stored,
rejected with a reason, or ignored by type (types AUREN does not keep, correlations
whose records also appear on their own, activity summaries).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

from auren_graphs.canonical import BatchBuilder, NormalizedBatch, PayloadError, RawInterval
from auren_graphs.ingestion.normalizers.apple_types import (
    DEVICE,
    QUANTITY_TYPES,
    SLEEP_KIND,
    SLEEP_STAGES,
    SLEEP_TYPE,
    InstantCache,
    QuantityType,
    apple_iso,
    interval_problem,
    sample_identity,
    source_key,
)
from auren_graphs.ingestion.normalizers.apple_workouts import WorkoutAdder, add_export_workout
from auren_graphs.ingestion.normalizers.xml_safety import PrologGuard, pull_parser, xml_errors

CHUNK_BYTES = 1 << 18

Get = Callable[[str], str | None]

#: Direct children of <HealthData> whose end is reported; others are counted as they go.
RECORD_TAGS = ("Record", "Workout", "Correlation", "ActivitySummary")
# Direct children of <HealthData> that describe the export, not health records.
_NOT_RECORDS = frozenset({"ExportDate", "Me"})
# What a fragment without its <HealthData> root may start with.
_FRAGMENT_STARTS = frozenset({*RECORD_TAGS, *_NOT_RECORDS})
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_HEAD_LIMIT = 1 << 22


class ExportReader:
    """Turns the direct children of <HealthData> into batches of `batch_records` records."""

    def __init__(self, batch_records: int) -> None:
        self._batch_records = batch_records
        self._builder = BatchBuilder(DEVICE)
        self._instants = InstantCache()

    @property
    def full(self) -> bool:
        return self._builder.batch.records_seen >= self._batch_records

    def take(self) -> NormalizedBatch:
        return self._builder.take()

    def element(self, element: Any) -> None:
        """One finished direct child of <HealthData>."""
        tag = element.tag
        if tag == "Record":
            self._record(element.get)
        elif tag == "Workout":
            self._workout(element)
        else:  # a Correlation's records also appear on their own
            self._builder.end_record(ignored=element.get("type") or tag)

    def sibling(self, element: Any) -> None:
        """A direct child of <HealthData> about to be dropped: counted unless it was read."""
        tag = element.tag
        if isinstance(tag, str) and tag not in _NOT_RECORDS and tag not in RECORD_TAGS:
            self._builder.end_record(ignored=tag)

    # records

    def _record(self, get: Get) -> None:
        record_type = get("type") or ""
        quantity = QUANTITY_TYPES.get(record_type)
        if quantity is not None:
            self._quantity(quantity, get)
        elif record_type == SLEEP_TYPE:
            self._sleep(get)
        else:
            self._builder.end_record(ignored=record_type or "Record")
            return
        self._builder.end_record()

    # The two methods below run for almost every record, so they are written out flat:
    # one call per attribute, no helper calls on the way unless something is wrong.

    def _quantity(self, quantity: QuantityType, get: Get) -> None:
        unit = get("unit")
        factor = quantity.units.get(unit) if unit is not None else None
        if factor is None:
            self._reject(get, f"unit {unit!r} is not {', '.join(quantity.units)}")
            return
        value_text, start_text, end_text = get("value"), get("startDate"), get("endDate")
        try:
            if value_text is None or start_text is None or end_text is None:
                raise KeyError(_first_missing(value_text, start_text, end_text))
            value = float(value_text) * factor
            start, start_key = self._instants.parse(start_text)
            end, end_key = self._instants.parse(end_text)
        except (KeyError, ValueError) as exc:
            self._reject(get, _problem(exc))
            return
        source = get("sourceName") or ""
        identity = f"apple:{quantity.code}:{source_key(source)}:{start_key}:{end_key}"
        if not quantity.interval:
            self._builder.add(
                quantity.target,
                value,
                day=start.date(),
                identity=identity,
                timestamp=start,
                stamp=apple_iso(start_text),
            )
        elif start <= end and 0.0 <= value < math.inf:
            self._builder.interval(
                RawInterval(quantity.target, start, end, value, source, identity)
            )
        else:
            self._reject(get, interval_problem(start, end, value) or "unusable interval")

    def _sleep(self, get: Get) -> None:
        value_text = get("value")
        stage = SLEEP_STAGES.get(value_text) if value_text is not None else None
        if stage is None:
            self._reject(get, f"unknown sleep value {value_text!r}")
            return
        start_text, end_text = get("startDate"), get("endDate")
        try:
            if start_text is None or end_text is None:
                raise KeyError("startDate" if start_text is None else "endDate")
            start, start_key = self._instants.parse(start_text)
            end, end_key = self._instants.parse(end_text)
        except (KeyError, ValueError) as exc:
            self._reject(get, _problem(exc))
            return
        if end < start:
            self._reject(get, interval_problem(start, end, stage) or "unusable interval")
            return
        source = get("sourceName") or ""
        identity = sample_identity("sleep", source, start_key, end_key)
        self._builder.interval(RawInterval(SLEEP_KIND, start, end, stage, source, identity))

    def _span(self, code: str, get: Get) -> tuple[datetime, datetime, str]:
        """A record's start, end and identity; KeyError or ValueError when unusable."""
        start, start_key = self._instants.parse(_required(get, "startDate"))
        end, end_key = self._instants.parse(_required(get, "endDate"))
        return start, end, sample_identity(code, get("sourceName") or "", start_key, end_key)

    def _workout(self, element: Any) -> None:
        attrs = dict(element.attrib)
        statistics = [dict(c.attrib) for c in element if c.tag == "WorkoutStatistics"]
        try:
            start, end, identity = self._span("workout", attrs.get)
        except (KeyError, ValueError) as exc:
            self._reject(attrs.get, _problem(exc))
        else:
            add = WorkoutAdder(self._builder, identity, start, _reference(attrs.get))
            add_export_workout(add, attrs, statistics, start, end)
        self._builder.end_record()

    def _reject(self, get: Get, reason: str) -> None:
        self._builder.reject(_reference(get), f"{_kind(get)}: {reason}")


def _first_missing(value: str | None, start: str | None, end: str | None) -> str:
    return "value" if value is None else "startDate" if start is None else "endDate"


def _required(get: Get, name: str) -> str:
    value = get(name)
    if value is None:
        raise KeyError(name)
    return value


def _kind(get: Get) -> str:
    return get("type") or get("workoutActivityType") or "record"


def _reference(get: Get) -> str:
    """How a rejected record is named to the user: its type, start and source."""
    return f"{_kind(get)} {get('startDate') or '?'} ({get('sourceName') or '?'})"


def _problem(exc: KeyError | ValueError) -> str:
    if isinstance(exc, KeyError):
        return f"attribute {exc.args[0]} is missing"
    return str(exc)


# --- the stream ----------------------------------------------------------------------------


def read_export(
    chunks: Iterable[bytes], batch_records: int, encoding: str | None = None
) -> Iterator[NormalizedBatch]:
    """Batches of `batch_records` records from an export's bytes, in order.

    A malformed or unsafe document raises PayloadError, possibly after earlier batches.
    """
    guard = PrologGuard(encoding)
    parser = pull_parser(RECORD_TAGS, encoding)
    reader = ExportReader(batch_records)
    yielded = False
    root: Any = None
    kept = 0  # children of the root kept before those read since the last trim
    with xml_errors():
        for chunk in chunks:
            guard.feed(chunk)
            _check_root(guard.root)
            parser.feed(chunk)
            last, read = None, 0
            for _, element in parser.read_events():
                if root is None:
                    root = element.getroottree().getroot()
                if element.getparent() is not root:
                    continue  # a Record inside a Correlation: counted with it
                reader.element(element)
                last, read = element, read + 1
                if reader.full:
                    yielded = True
                    yield reader.take()
            if last is not None:
                _trim(root, last, kept + read - 1, reader)
                kept = 1
        guard.feed(b"", final=True)
        root = parser.close()
    for child in root:
        reader.sibling(child)
    rest = reader.take()
    if not yielded or rest.records_seen or rest.rejections:
        yield rest


def _trim(root: Any, last: Any, expected: int, reader: ExportReader) -> None:
    """Drop the root's children before `last` (memory stays bounded by one piece of the
    document). When there are more than the records read (`expected`), the others are
    counted first: elements nobody asked to be told about, ExportDate, Me."""
    index = root.index(last)
    if index != expected:
        for child in root[:index]:
            reader.sibling(child)
    del root[:index]


def _check_root(root: str | None) -> None:
    if root is not None and root != "HealthData":
        raise PayloadError(
            f"not an Apple Health export: the root element is <{root}>, not <HealthData>"
        )


def export_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream in chunks; a fragment of records without its root gets <HealthData>."""
    head = _read_head(stream)
    first = _FIRST_ELEMENT.search(head)
    if first is not None and first.group(1).decode() in _FRAGMENT_STARTS:
        yield head[: first.start()] + b"<HealthData>" + head[first.start() :]
        yield from iter(lambda: stream.read(CHUNK_BYTES), b"")
        yield b"</HealthData>"
        return
    if head:
        yield head
    yield from iter(lambda: stream.read(CHUNK_BYTES), b"")


def _read_head(stream: BinaryIO) -> bytes:
    """The start of the stream, up to its first element (past any DOCTYPE) or a limit."""
    head = b""
    while len(head) < _HEAD_LIMIT and _FIRST_ELEMENT.search(head) is None:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        head += chunk
    return head
