"""Apple Health: the Health app's `export.xml` (streamed) and Health Auto Export JSON.

export.xml is the Health app's "Export All Health Data" document, often several GB.
Its records (per Apple's own DTD, HealthKit export version 14) look like

    <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Alice’s Apple Watch"
            unit="count/min" startDate="2026-11-02 07:30:00 -0800"
            endDate="2026-11-02 07:30:00 -0800" value="72"><MetadataEntry .../></Record>
    <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min"
             startDate=... endDate=...><WorkoutStatistics type=... sum=... unit=.../></Workout>

It is read with expat through defusedxml, feeding fixed-size chunks to a parser whose
callbacks turn each record into observations at once: no element tree is built, so
memory stays bounded however large the file. The internal DTD subset that every real
export carries is accepted; entity declarations (billion laughs) and external entities
or DTDs are refused.

Health Auto Export (an iOS app) posts `{"data": {"metrics": [...], "workouts": [...]}}`,
each metric `{"name": "heart_rate", "units": "count/min", "data": [{"date": ..., ...}]}`
(https://help.healthyapps.dev/en/health-auto-export/export-format/health-metrics).

Steps, active energy and sleep stages are not stored as daily values here: they become
`RawInterval`s, which `apple_derive` turns into daily values across deliveries.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, BinaryIO

from defusedxml.common import EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from auren_graphs.canonical import (
    BatchBuilder,
    Device,
    NormalizedBatch,
    PayloadError,
    RawInterval,
)
from auren_graphs.ingestion.normalizers.apple_derive import (
    derive_interval_totals,
    derive_sleep,
    source_priority,
)
from auren_graphs.ingestion.normalizers.common import (
    NormalizeContext,
    load_json,
    parse_day,
    parse_instant,
)

__all__ = [
    "derive_interval_totals",
    "derive_sleep",
    "normalize",
    "normalize_health_auto_export",
    "normalize_stream",
    "source_priority",
]

DEVICE: Device = "apple_health"
CHUNK_BYTES = 1 << 18

STEPS_KIND = "apple_steps"
ACTIVE_ENERGY_KIND = "apple_active_energy"
SLEEP_KIND = "apple_sleep"

# Canonical unit factors: value in the given unit times factor = value in our unit.
ENERGY_TO_KCAL: Mapping[str, float] = {
    "kcal": 1.0,
    "Cal": 1.0,  # HealthKit's "large calorie" is the kilocalorie
    "kJ": 1 / 4.184,
    "cal": 1 / 1000,
    "J": 1 / 4184,
}
LENGTH_TO_M: Mapping[str, float] = {
    "m": 1.0,
    "km": 1000.0,
    "cm": 0.01,
    "mi": 1609.344,
    "yd": 0.9144,
    "ft": 0.3048,
}
TIME_TO_S: Mapping[str, float] = {"s": 1.0, "sec": 1.0, "min": 60.0, "hr": 3600.0, "h": 3600.0}
BPM: Mapping[str, float] = {"count/min": 1.0, "bpm": 1.0}


# --- export.xml record types ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuantityType:
    """How one HealthKit quantity type (or Health Auto Export metric) maps onto us.

    `target` is a canonical metric, or an interval kind when `interval` is set; `code`
    names the type inside identities; `units` are the accepted units and their factors.
    """

    target: str
    code: str
    units: Mapping[str, float]
    interval: bool = False


QUANTITY_TYPES: Mapping[str, QuantityType] = {
    "HKQuantityTypeIdentifierHeartRate": QuantityType("heart_rate", "hr", {"count/min": 1.0}),
    # Apple's HRV is SDNN; it is never stored as rMSSD.
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": QuantityType(
        "hrv_sdnn", "hrv", {"ms": 1.0}
    ),
    "HKQuantityTypeIdentifierRestingHeartRate": QuantityType(
        "resting_heart_rate", "rhr", {"count/min": 1.0}
    ),
    "HKQuantityTypeIdentifierRespiratoryRate": QuantityType(
        "respiratory_rate", "rr", {"count/min": 1.0}
    ),
    # HealthKit stores oxygen saturation as a fraction (0.97) in unit "%".
    "HKQuantityTypeIdentifierOxygenSaturation": QuantityType("spo2", "spo2", {"%": 100.0}),
    "HKQuantityTypeIdentifierStepCount": QuantityType(
        STEPS_KIND, "steps", {"count": 1.0}, interval=True
    ),
    "HKQuantityTypeIdentifierActiveEnergyBurned": QuantityType(
        ACTIVE_ENERGY_KIND, "energy", ENERGY_TO_KCAL, interval=True
    ),
}

SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
SLEEP_STAGES: Mapping[str, str] = {
    "HKCategoryValueSleepAnalysisInBed": "in_bed",
    "HKCategoryValueSleepAnalysisAsleep": "asleep_unspecified",  # before iOS 16
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "asleep_unspecified",
    "HKCategoryValueSleepAnalysisAsleepCore": "core",
    "HKCategoryValueSleepAnalysisAsleepDeep": "deep",
    "HKCategoryValueSleepAnalysisAsleepREM": "rem",
    "HKCategoryValueSleepAnalysisAwake": "awake",
}

_DISTANCE_STATISTIC_PREFIX = "HKQuantityTypeIdentifierDistance"
_ENERGY_STATISTIC = "HKQuantityTypeIdentifierActiveEnergyBurned"
_HEART_RATE_STATISTIC = "HKQuantityTypeIdentifierHeartRate"

# Direct children of <HealthData> that describe the export, not health records.
_NOT_RECORDS = frozenset({"ExportDate", "Me"})
# What a fragment without its <HealthData> root may start with.
_RECORD_ELEMENTS = frozenset(
    {"Record", "Workout", "Correlation", "ActivitySummary", "ExportDate", "Me"}
)


# --- instants and identities ---------------------------------------------------------------


class InstantCache:
    """Parses timestamps, remembering the last one.

    Consecutive step and energy samples usually abut (one ends where the next starts),
    so a single remembered timestamp saves most repeated parses at the cost of one
    string comparison; a larger cache costs more than it saves for heart rates, whose
    timestamps never repeat.
    """

    def __init__(self) -> None:
        # None until the first parse: any text, even "\x00", must be parsed once.
        self._last_text: str | None = None
        self._last: tuple[datetime, str] = (datetime.min, "")

    def parse(self, text: str) -> tuple[datetime, str]:
        """The aware datetime and its identity key (epoch seconds); ValueError if unusable."""
        if self._last_text is not None and text == self._last_text:
            return self._last
        moment = _aware(text)
        self._last_text, self._last = text, (moment, instant_key(moment))
        return self._last


def _aware(text: str) -> datetime:
    # Python 3.11's fromisoformat reads Apple's "2026-11-02 07:30:00 -0800" directly and
    # is many times faster than strptime; parse_instant covers the rest and the errors.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return parse_instant(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return moment


def instant_key(moment: datetime) -> str:
    """Epoch seconds: the same instant gives the same key whatever offset renders it.

    Apple renders every date of an export in the phone's time zone at export time, so a
    record's text changes after travel; its instant does not.
    """
    seconds = moment.timestamp()
    return str(int(seconds)) if seconds.is_integer() else repr(seconds)


@lru_cache(maxsize=4096)
def source_key(source: str) -> str:
    """A short stable stand-in for a source name inside identities."""
    return hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def sample_identity(code: str, source: str, start_key: str, end_key: str) -> str:
    """`apple:<type>:<source>:<start>:<end>`; the value is left out so a correction replaces."""
    return f"apple:{code}:{source_key(source)}:{start_key}:{end_key}"


# --- export.xml reading --------------------------------------------------------------------


class _NoTarget:
    """No tree builder: the reader installs its own expat callbacks."""


class ExportReader:
    """Expat callbacks that turn export.xml records into batches as they are parsed."""

    def __init__(self, batch_records: int) -> None:
        self._batch_records = batch_records
        self._builder = BatchBuilder(DEVICE)
        self._ready: list[NormalizedBatch] = []
        self._instants = InstantCache()
        self._depth = 0
        self._workout: dict[str, str] | None = None
        self._statistics: list[dict[str, str]] = []

    # expat callbacks (attributes arrive as a dict: ordered_attributes is off)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        depth = self._depth = self._depth + 1
        if depth == 2:
            if tag == "Record":
                self._record(attrs)
            elif tag == "Workout":
                self._workout, self._statistics = attrs, []
        elif depth == 3:
            if tag == "WorkoutStatistics" and self._workout is not None:
                self._statistics.append(attrs)
        elif depth == 1 and tag != "HealthData":
            raise PayloadError(
                f"not an Apple Health export: the root element is <{tag}>, not <HealthData>"
            )
        # Deeper elements (metadata, Records repeated inside a Correlation) add nothing.

    def end(self, tag: str) -> None:
        depth = self._depth
        self._depth = depth - 1
        if depth == 2 and tag not in _NOT_RECORDS:
            if self._workout is not None:
                self._finish_workout(self._workout, self._statistics)
                self._workout = None
            batch = self._builder.batch
            batch.records_seen += 1
            if batch.records_seen >= self._batch_records:
                self._ready.append(batch)
                self._builder = BatchBuilder(DEVICE)

    # batches

    def take_ready(self) -> list[NormalizedBatch]:
        ready, self._ready = self._ready, []
        return ready

    def take_rest(self) -> NormalizedBatch:
        rest = self._builder.batch
        self._builder = BatchBuilder(DEVICE)
        return rest

    # records

    def _record(self, attrs: dict[str, str]) -> None:
        record_type = attrs.get("type", "")
        quantity = QUANTITY_TYPES.get(record_type)
        if quantity is not None:
            self._quantity(quantity, attrs)
        elif record_type == SLEEP_TYPE:
            self._sleep(attrs)
        # Any other type is not a metric we keep; it is only counted.

    def _quantity(self, quantity: QuantityType, attrs: dict[str, str]) -> None:
        factor = quantity.units.get(attrs.get("unit", ""))
        if factor is None:
            expected = ", ".join(quantity.units)
            self._reject(attrs, f"unit {attrs.get('unit')!r} is not {expected}")
            return
        try:
            value = float(attrs["value"]) * factor
            start, end, identity = self._span(quantity.code, attrs)
        except (KeyError, ValueError) as exc:
            self._reject(attrs, _problem(exc))
            return
        if quantity.interval:
            self._interval(attrs, quantity.target, start, end, value, identity)
        else:
            self._builder.add(
                quantity.target, value, day=start.date(), identity=identity, timestamp=start
            )

    def _sleep(self, attrs: dict[str, str]) -> None:
        stage = SLEEP_STAGES.get(attrs.get("value", ""))
        if stage is None:
            self._reject(attrs, f"unknown sleep value {attrs.get('value')!r}")
            return
        try:
            start, end, identity = self._span("sleep", attrs)
        except (KeyError, ValueError) as exc:
            self._reject(attrs, _problem(exc))
            return
        self._interval(attrs, SLEEP_KIND, start, end, stage, identity)

    def _span(self, code: str, attrs: dict[str, str]) -> tuple[datetime, datetime, str]:
        """A record's start, end and identity; KeyError or ValueError when unusable."""
        start, start_key = self._instants.parse(attrs["startDate"])
        end, end_key = self._instants.parse(attrs["endDate"])
        return start, end, sample_identity(code, attrs.get("sourceName", ""), start_key, end_key)

    def _interval(
        self,
        attrs: dict[str, str],
        kind: str,
        start: datetime,
        end: datetime,
        value: float | str,
        identity: str,
    ) -> None:
        problem = interval_problem(start, end, value)
        if problem is not None:
            self._reject(attrs, problem)
            return
        source = attrs.get("sourceName", "")
        self._builder.interval(RawInterval(kind, start, end, value, source, identity))

    def _finish_workout(self, attrs: dict[str, str], statistics: list[dict[str, str]]) -> None:
        try:
            start, end, identity = self._span("workout", attrs)
        except (KeyError, ValueError) as exc:
            self._reject(attrs, _problem(exc))
            return
        add = WorkoutAdder(self._builder, identity, start, _reference(attrs))
        add("workout_duration", lambda: _workout_duration(attrs, start, end))
        add("workout_energy", lambda: _workout_energy(attrs, statistics))
        add("workout_distance", lambda: _workout_distance(attrs, statistics))
        add("workout_average_heart_rate", lambda: _statistic(statistics, "average"))
        add("workout_max_heart_rate", lambda: _statistic(statistics, "maximum"))

    def _reject(self, attrs: dict[str, str], reason: str) -> None:
        self._builder.reject(_reference(attrs), f"{_kind(attrs)}: {reason}")


def _kind(attrs: dict[str, str]) -> str:
    return attrs.get("type") or attrs.get("workoutActivityType") or "record"


def _reference(attrs: dict[str, str]) -> str:
    """How a rejected record is named to the user: its type, start and source."""
    return f"{_kind(attrs)} {attrs.get('startDate', '?')} ({attrs.get('sourceName', '?')})"


def _problem(exc: KeyError | ValueError) -> str:
    if isinstance(exc, KeyError):
        return f"attribute {exc.args[0]} is missing"
    return str(exc)


def interval_problem(start: datetime, end: datetime, value: float | str) -> str | None:
    """Why an interval cannot be kept, or None."""
    if end < start:
        return f"ends ({end.isoformat()}) before it starts ({start.isoformat()})"
    if isinstance(value, float) and not (math.isfinite(value) and value >= 0):
        return f"value {value!r} is not a finite non-negative number"
    return None


class WorkoutAdder:
    """Adds one workout's values, each computed lazily, rejecting only the bad ones."""

    def __init__(self, builder: BatchBuilder, identity: str, start: datetime, ref: str) -> None:
        self._builder, self._identity, self._start, self._ref = builder, identity, start, ref

    def __call__(self, metric: str, compute: Callable[[], float | None]) -> None:
        try:
            value = compute()
        except ValueError as exc:
            self._builder.reject(self._ref, f"{metric}: {exc}")
            return
        self._builder.add(
            metric,
            value,
            day=self._start.date(),
            identity=self._identity,
            timestamp=self._start,
        )


def _converted(amount: str | None, unit: str | None, factors: Mapping[str, float]) -> float | None:
    """`amount` in `unit` converted by `factors`; None when absent, ValueError when unusable."""
    if amount is None or amount == "":
        return None
    factor = factors.get(unit or "")
    if factor is None:
        raise ValueError(f"unit {unit!r} is not one of {', '.join(factors)}")
    return float(amount) * factor


def _workout_duration(attrs: dict[str, str], start: datetime, end: datetime) -> float:
    # Apple's duration excludes pauses; without it the span is the best we have.
    duration = _converted(attrs.get("duration"), attrs.get("durationUnit"), TIME_TO_S)
    return duration if duration is not None else (end - start).total_seconds()


def _workout_energy(attrs: dict[str, str], statistics: list[dict[str, str]]) -> float | None:
    # Exports before iOS 16 carry totals as attributes; newer ones as WorkoutStatistics.
    total = _converted(
        attrs.get("totalEnergyBurned"), attrs.get("totalEnergyBurnedUnit"), ENERGY_TO_KCAL
    )
    if total is not None:
        return total
    for statistic in statistics:
        if statistic.get("type") == _ENERGY_STATISTIC:
            return _converted(statistic.get("sum"), statistic.get("unit"), ENERGY_TO_KCAL)
    return None


def _workout_distance(attrs: dict[str, str], statistics: list[dict[str, str]]) -> float | None:
    total = _converted(attrs.get("totalDistance"), attrs.get("totalDistanceUnit"), LENGTH_TO_M)
    if total is not None:
        return total
    for statistic in statistics:
        if statistic.get("type", "").startswith(_DISTANCE_STATISTIC_PREFIX):
            return _converted(statistic.get("sum"), statistic.get("unit"), LENGTH_TO_M)
    return None


def _statistic(statistics: list[dict[str, str]], field: str) -> float | None:
    for statistic in statistics:
        if statistic.get("type") == _HEART_RATE_STATISTIC:
            return _converted(statistic.get(field), statistic.get("unit"), BPM)
    return None


# --- XML safety and streaming --------------------------------------------------------------


def _refuse_external_dtd(
    name: str, system_id: str | None, public_id: str | None, has_internal_subset: int
) -> None:
    # defusedxml refuses external entities, but expat never fetches an external DTD
    # subset, so defusedxml lets `<!DOCTYPE x SYSTEM "...">` through silently.
    if system_id is not None or public_id is not None:
        raise PayloadError(
            f"XML external DTDs are not allowed (the DOCTYPE refers to {system_id or public_id!r})"
        )


def _parser_for(reader: ExportReader, encoding: str | None) -> Any:
    """A defusedxml parser (entities and external references refused) driving `reader`."""
    parser = DefusedXMLParser(
        target=_NoTarget(),
        encoding=encoding,
        forbid_dtd=False,  # every real export has an internal DTD subset
        forbid_entities=True,
        forbid_external=True,
    )
    expat = parser.parser
    expat.ordered_attributes = False  # attributes as a dict, built by expat in C
    expat.StartElementHandler = reader.start
    expat.EndElementHandler = reader.end
    expat.StartDoctypeDeclHandler = _refuse_external_dtd
    # Character data (the whitespace between records) is of no use: drop it in C
    # instead of passing it to the Python default handler.
    expat.DefaultHandlerExpand = None
    return parser


@contextmanager
def _xml_errors() -> Iterator[None]:
    """Turn what the XML layer raises into PayloadErrors that say what is wrong, and where."""
    try:
        yield
    except EntitiesForbidden as exc:
        if exc.sysid or exc.pubid:
            raise PayloadError(
                f"XML external entities are not allowed (entity {exc.name!r} refers to "
                f"{exc.sysid or exc.pubid!r})"
            ) from None
        raise PayloadError(
            "XML entity declarations are not allowed (possible entity-expansion attack): "
            f"the document declares entity {exc.name!r}"
        ) from None
    except ExternalReferenceForbidden as exc:
        raise PayloadError(
            f"XML external entities are not allowed (the document refers to {exc.sysid!r})"
        ) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        message = str(exc).split(":")[0]
        raise PayloadError(
            f"malformed XML at line {line}, column {column + 1}: {message}"
        ) from None


_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_HEAD_LIMIT = 1 << 22


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream in chunks; a fragment of records without its root gets <HealthData>."""
    head = _read_head(stream)
    first = _FIRST_ELEMENT.search(head)
    if first is not None and first.group(1).decode() in _RECORD_ELEMENTS:
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


def _parse_export(
    stream: BinaryIO, batch_records: int, encoding: str | None = None
) -> Iterator[NormalizedBatch]:
    reader = ExportReader(batch_records)
    parser = _parser_for(reader, encoding)
    yielded = False
    with _xml_errors():
        for chunk in _chunks(stream):
            parser.feed(chunk)
            for batch in reader.take_ready():
                yielded = True
                yield batch
        parser.close()
    rest = reader.take_rest()
    if not yielded or rest.records_seen or rest.rejections:
        yield rest


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
    yield from _parse_export(stream, batch_records)


# --- entry point ---------------------------------------------------------------------------


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
    merged = NormalizedBatch()
    for batch in _parse_export(io.BytesIO(data), sys.maxsize, encoding):
        merged.extend(batch)
    return merged


# --- Health Auto Export JSON ---------------------------------------------------------------

HAE_SOURCE = "Health Auto Export"
HAE_METRICS: Mapping[str, QuantityType] = {
    "heart_rate": QuantityType("heart_rate", "hr", BPM),
    "resting_heart_rate": QuantityType("resting_heart_rate", "rhr", BPM),
    "heart_rate_variability": QuantityType("hrv_sdnn", "hrv", {"ms": 1.0}),
    "respiratory_rate": QuantityType(
        "respiratory_rate", "rr", {"count/min": 1.0, "breaths/min": 1.0}
    ),
    "blood_oxygen_saturation": QuantityType("spo2", "spo2", {"%": 1.0}),
    "step_count": QuantityType(STEPS_KIND, "steps", {"count": 1.0, "steps": 1.0}, interval=True),
    "active_energy": QuantityType(ACTIVE_ENERGY_KIND, "energy", ENERGY_TO_KCAL, interval=True),
}
HAE_SLEEP = "sleep_analysis"
HAE_SLEEP_STAGES: Mapping[str, str] = {
    "in bed": "in_bed",
    "inbed": "in_bed",
    "asleep": "asleep_unspecified",
    "unspecified": "asleep_unspecified",
    "core": "core",
    "deep": "deep",
    "rem": "rem",
    "awake": "awake",
}


def normalize_health_auto_export(document: object) -> NormalizedBatch:
    """A Health Auto Export JSON document: `{"data": {"metrics": [...], "workouts": [...]}}`."""
    metrics, workouts = _hae_sections(document)
    builder = BatchBuilder(DEVICE)
    instants = InstantCache()
    for index, metric in enumerate(metrics):
        _hae_metric(builder, instants, index, metric)
    for index, workout in enumerate(workouts):
        builder.batch.records_seen += 1
        _hae_workout(builder, instants, index, workout)
    return builder.batch


def _hae_sections(document: object) -> tuple[list[Any], list[Any]]:
    data = document.get("data", document) if isinstance(document, dict) else None
    if not isinstance(data, dict) or not ({"metrics", "workouts"} & data.keys()):
        raise PayloadError(
            'not a Health Auto Export document: expected {"data": {"metrics": [...], '
            '"workouts": [...]}}'
        )
    metrics, workouts = data.get("metrics"), data.get("workouts")
    metrics = [] if metrics is None else metrics
    workouts = [] if workouts is None else workouts
    if not isinstance(metrics, list) or not isinstance(workouts, list):
        raise PayloadError("Health Auto Export: data.metrics and data.workouts must be lists")
    return metrics, workouts


def _hae_metric(builder: BatchBuilder, instants: InstantCache, index: int, metric: Any) -> None:
    if not isinstance(metric, dict) or not isinstance(metric.get("data", []), list):
        builder.reject(f"metrics[{index}]", "a metric must be an object with a data list")
        return
    name, units, points = metric.get("name"), metric.get("units"), metric.get("data") or []
    builder.batch.records_seen += len(points)
    mapping = HAE_METRICS.get(name) if isinstance(name, str) else None
    for position, point in enumerate(points):
        ref = f"{name}[{position}]"
        if not isinstance(point, dict):
            builder.reject(ref, f"{name}: a data point must be an object")
        elif name == HAE_SLEEP:
            _hae_sleep(builder, instants, ref, units, point)
        elif mapping is not None:
            _hae_point(builder, instants, ref, mapping, units, point)
        # Metrics we have no canonical name for are counted and left out.


def _hae_number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _hae_point(
    builder: BatchBuilder,
    instants: InstantCache,
    ref: str,
    mapping: QuantityType,
    units: object,
    point: dict[str, Any],
) -> None:
    factor = mapping.units.get(units) if isinstance(units, str) else None
    if factor is None:
        builder.reject(ref, f"{mapping.target}: unit {units!r} is not {', '.join(mapping.units)}")
        return
    try:
        moment, key = instants.parse(_text(point.get("date"), "date"))
        # heart_rate points carry Min/Avg/Max (lower-case in old versions), the rest qty.
        raw = next((point[k] for k in ("qty", "Avg", "avg") if point.get(k) is not None), None)
        value = _hae_number(raw)
    except ValueError as exc:
        builder.reject(ref, f"{mapping.target}: {exc}")
        return
    if value is None:
        builder.skip(ref, f"{mapping.target}: no value")
        return
    value *= factor
    if mapping.target == "spo2" and value <= 1.0:
        value *= 100  # a fraction, as HealthKit itself stores it
    identity = f"apple:hae:{mapping.code}:{key}"
    if mapping.interval:
        # Auto Export sends totals per period, already de-duplicated across sources by
        # HealthKit. Kept as instantaneous samples of a low-ranked source, they count on
        # their day unless raw samples from the Watch or iPhone cover the same moment.
        problem = interval_problem(moment, moment, value)
        if problem is not None:
            builder.reject(ref, f"{mapping.target}: {problem}")
            return
        builder.interval(RawInterval(mapping.target, moment, moment, value, HAE_SOURCE, identity))
    else:
        builder.add(mapping.target, value, day=moment.date(), identity=identity, timestamp=moment)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} {value!r} is not a timestamp string")
    return value


def _hae_sleep(
    builder: BatchBuilder, instants: InstantCache, ref: str, units: object, point: dict[str, Any]
) -> None:
    try:
        if "value" in point and "startDate" in point:
            _hae_sleep_stage(builder, instants, point)
        else:
            _hae_sleep_night(builder, instants, units, point)
    except ValueError as exc:
        builder.reject(ref, f"sleep_analysis: {exc}")


def _hae_sleep_stage(builder: BatchBuilder, instants: InstantCache, point: dict[str, Any]) -> None:
    """One stage sample (the export's "aggregate sleep data" switched off)."""
    stage = HAE_SLEEP_STAGES.get(str(point.get("value", "")).strip().lower())
    if stage is None:
        raise ValueError(f"unknown sleep stage {point.get('value')!r}")
    start, start_key = instants.parse(_text(point.get("startDate"), "startDate"))
    end, end_key = instants.parse(_text(point.get("endDate"), "endDate"))
    problem = interval_problem(start, end, stage)
    if problem is not None:
        raise ValueError(problem)
    named = point.get("source")
    source = named if isinstance(named, str) and named else HAE_SOURCE
    # The same identity as the sample read from export.xml: the two feeds de-duplicate.
    identity = sample_identity("sleep", source, start_key, end_key)
    builder.interval(RawInterval(SLEEP_KIND, start, end, stage, source, identity))


def _hae_sleep_night(
    builder: BatchBuilder, instants: InstantCache, units: object, point: dict[str, Any]
) -> None:
    """A whole night already summed up by the app (hours, by default)."""
    factor = TIME_TO_S.get(units) if isinstance(units, str) else None
    if factor is None:
        raise ValueError(f"unit {units!r} is not one of {', '.join(TIME_TO_S)}")
    span = _hae_night_span(instants, point)
    day = span[1].date() if span is not None else _hae_day(instants, point.get("date"))
    hours = {k: _hae_number(point.get(k)) for k in ("core", "deep", "rem", "awake", "inBed")}
    staged = sum(hours[k] or 0.0 for k in ("core", "deep", "rem"))
    total = _hae_number(point.get("totalSleep"))
    if total is None:
        total = (_hae_number(point.get("asleep")) or 0.0) + staged
    identity = f"apple:hae:sleep:{day.isoformat()}"

    def add(metric: str, amount: float | None) -> None:
        if amount is not None:
            builder.add(metric, amount * factor, day=day, identity=identity)

    add("sleep_duration", total if total > 0 else None)
    in_bed = hours["inBed"]
    if in_bed:
        add("time_in_bed", in_bed)
    elif span is not None:
        builder.add("time_in_bed", (span[1] - span[0]).total_seconds(), day=day, identity=identity)
    if staged > 0:
        add("sleep_light_duration", hours["core"])
        add("sleep_deep_duration", hours["deep"])
        add("sleep_rem_duration", hours["rem"])
        add("sleep_awake_duration", hours["awake"])


def _hae_night_span(
    instants: InstantCache, point: dict[str, Any]
) -> tuple[datetime, datetime] | None:
    start = point.get("inBedStart") or point.get("sleepStart")
    end = point.get("inBedEnd") or point.get("sleepEnd")
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    return instants.parse(start)[0], instants.parse(end)[0]


def _hae_day(instants: InstantCache, value: object) -> date:
    text = _text(value, "date")
    return parse_day(text) if len(text) == 10 else instants.parse(text)[0].date()


def _hae_workout(builder: BatchBuilder, instants: InstantCache, index: int, workout: Any) -> None:
    ref = f"workouts[{index}]"
    if not isinstance(workout, dict):
        builder.reject(ref, "a workout must be an object")
        return
    try:
        start, start_key = instants.parse(_text(workout.get("start"), "start"))
        end, end_key = instants.parse(_text(workout.get("end"), "end"))
    except ValueError as exc:
        builder.reject(ref, f"workout: {exc}")
        return
    workout_id = workout.get("id")
    identity = (
        f"apple:hae:workout:{workout_id}"
        if isinstance(workout_id, str) and workout_id
        else f"apple:hae:workout:{start_key}:{end_key}"
    )
    add = WorkoutAdder(builder, identity, start, ref)
    add("workout_duration", lambda: _hae_workout_duration(workout, start, end))
    add(
        "workout_energy",
        lambda: _hae_quantity(workout, ("activeEnergyBurned", "activeEnergy"), ENERGY_TO_KCAL),
    )
    add("workout_distance", lambda: _hae_quantity(workout, ("distance",), LENGTH_TO_M))
    add("workout_average_heart_rate", lambda: _hae_heart_rate(workout, "avg"))
    add("workout_max_heart_rate", lambda: _hae_heart_rate(workout, "max"))


def _hae_workout_duration(workout: dict[str, Any], start: datetime, end: datetime) -> float:
    # Version 2 workouts (those with an id) give the duration in seconds, pauses excluded;
    # version 1's unit is not documented, so there the span is used.
    duration = _hae_number(workout.get("duration")) if "id" in workout else None
    return duration if duration is not None else (end - start).total_seconds()


def _hae_quantity(
    holder: Mapping[str, Any], names: tuple[str, ...], factors: Mapping[str, float]
) -> float | None:
    for name in names:
        field = holder.get(name)
        if isinstance(field, dict) and field.get("qty") is not None:
            amount = _hae_number(field.get("qty"))
            unit = field.get("units")
            factor = factors.get(unit) if isinstance(unit, str) else None
            if factor is None:
                raise ValueError(f"unit {unit!r} is not one of {', '.join(factors)}")
            return None if amount is None else amount * factor
    return None


def _hae_heart_rate(workout: dict[str, Any], which: str) -> float | None:
    # Version 2: heartRate {min, avg, max}; version 1: avgHeartRate / maxHeartRate.
    nested = workout.get("heartRate")
    if isinstance(nested, dict) and isinstance(nested.get(which), dict):
        return _hae_quantity(nested, (which,), BPM)
    return _hae_quantity(workout, (f"{which}HeartRate",), BPM)
