"""The canonical metric vocabulary and the records every normalizer produces.

The vocabulary is `shared/brief/metrics.md`: a metric's name fixes its unit. Normalizers
convert on the way in and emit `Observation`s; the storage layer merges them into the
store. Plausibility bounds live here so every device is held to the same limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from auren_contract import METRICS as CONTRACT_METRICS
from auren_contract import OUTCOMES, MetricKind
from auren_contract import Device as Device  # re-exported: normalizers type with it
from auren_contract import Rejection as Rejection  # re-exported: what normalizers refuse

Kind = MetricKind
Combine = Literal["replace", "sum", "best"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A canonical metric: its fixed unit, how it is keyed, and its plausible range."""

    name: str
    unit: str
    kind: Kind
    low: float
    high: float


_DAY_S = 86_400.0
#: Plausible ranges by unit (the vocabulary itself, names and units, is the contract's),
#: with the metrics whose range is narrower than their unit's.
_RANGE_OF_UNIT: dict[str, tuple[float, float]] = {
    "bpm": (20, 250),
    "ms": (1, 500),
    "s": (0, _DAY_S),
    "percent": (0, 100),
    "score": (0, 100),
    "strain_0_21": (0, 21),
    "count": (0, 200_000),
    # An additive daily load (sRPE x minutes, TRIMP) in arbitrary units, for Foster
    # monotony; WHOOP strain is logarithmic and never feeds it.
    "au": (0, 100_000),
    "kcal": (0, 20_000),
    "breaths/min": (2, 60),
    "degC": (20, 45),
    "m": (0, 1_000_000),
}
_RANGE_OF_METRIC: dict[str, tuple[float, float]] = {
    "resting_heart_rate": (20, 150),
    "heart_rate_daily_min": (20, 150),
    "temperature_deviation": (-10, 10),
}
METRICS: dict[str, MetricSpec] = {
    metric.name: MetricSpec(
        metric.name,
        metric.unit,
        metric.kind,
        *_RANGE_OF_METRIC.get(metric.name, _RANGE_OF_UNIT[metric.unit]),
    )
    for metric in CONTRACT_METRICS.values()
}


# Not frozen: a frozen dataclass costs 4x more to create, and millions are made per
# export; nothing mutates one after the normalizer built it.
@dataclass(slots=True, unsafe_hash=True)
class Observation:
    """One canonical value, ready to store.

    `identity` names the source record (and metric) so that a second delivery of the
    same data is recognised: `oura:sleep:<document id>`, `whoop:recovery:<cycle id>`.
    Within one (metric, day, device), values combine by `combine`:
    `replace` keeps one value per identity (a sample, or a daily value); `sum` adds the
    contributions of several records (naps); `best` keeps the contribution with the
    highest `rank` (the main sleep among several long sleeps). `stamp` is `timestamp` as
    ISO 8601 text when the normalizer has it for nothing (Apple's own text, sliced), so
    storage need not format the datetime again.
    """

    metric: str
    value: float
    day: date
    device: Device
    identity: str
    timestamp: datetime | None = None
    combine: Combine = "replace"
    rank: float = 0.0
    stamp: str | None = field(default=None, compare=False, hash=False)


@dataclass(slots=True, unsafe_hash=True)
class RawInterval:
    """A raw interval kept for derivations that span deliveries (Apple steps, sleep).

    `kind` names the derivation (`apple_steps`, `apple_active_energy`, `apple_sleep`);
    `value` is the interval's amount (steps, kcal) or, for sleep, a stage code.
    """

    kind: str
    start: datetime
    end: datetime
    value: float | str
    source: str
    identity: str


#: Storage's verdict on one value or interval (0: not written).
DUPLICATE, UPDATED, ACCEPTED = 1, 2, 3
_CODE_OUTCOMES = {ACCEPTED: "accepted", UPDATED: "updated", DUPLICATE: "duplicate"}
#: Distinct ignored types a report names; more are counted together.
MAX_IGNORED_TYPES = 64
OTHER_TYPES = "(other types)"


@dataclass(slots=True)
class RecordLedger:
    """Which record each value came from, kept cheaply enough for millions of records.

    A record that produced exactly one value (most of them) needs no entry: storage's
    verdict on the value is the record's. `multi` holds the value ranges of records that
    produced several ((observation start, end, interval start, end)): such a record is
    accepted when any of its values was new, else updated when any changed, else a
    duplicate. Records that produced no value are counted here directly.
    """

    multi: list[tuple[int, int, int, int]] = field(default_factory=list)
    rejected: int = 0
    skipped: int = 0
    ignored: dict[str, int] = field(default_factory=dict)

    def ignore(self, kind: str, count: int = 1) -> None:
        name = printable(kind[:120]) or "(no type)"
        if name not in self.ignored and len(self.ignored) >= MAX_IGNORED_TYPES:
            name = OTHER_TYPES
        self.ignored[name] = self.ignored.get(name, 0) + count

    def extend(self, other: RecordLedger, observations: int, intervals: int) -> None:
        """Add `other`, whose values follow this batch's `observations` and `intervals`."""
        self.multi.extend(
            (a + observations, b + observations, c + intervals, d + intervals)
            for a, b, c, d in other.multi
        )
        self.rejected += other.rejected
        self.skipped += other.skipped
        for kind, count in other.ignored.items():
            self.ignore(kind, count)

    def outcomes(
        self, observation_codes: Sequence[int], interval_codes: Sequence[int]
    ) -> dict[str, int]:
        """Records by outcome, from storage's verdict on each value (`DUPLICATE`...)."""
        counts = {
            code: observation_codes.count(code) + interval_codes.count(code)
            for code in _CODE_OUTCOMES
        }
        for a, b, c, d in self.multi:
            codes = [*observation_codes[a:b], *interval_codes[c:d]]
            for code in codes:
                counts[code] -= 1
            counts[max(codes)] += 1
        result = {name: counts[code] for code, name in _CODE_OUTCOMES.items()}
        result |= {
            "rejected": self.rejected,
            "skipped": self.skipped,
            "ignored": sum(self.ignored.values()),
        }
        return {outcome: result[outcome] for outcome in OUTCOMES}


@dataclass(slots=True, unsafe_hash=True)
class NormalizedBatch:
    """What a normalizer made of one payload.

    `rejections` are bad records or values, each with its reason. `skipped` are records
    that carry no value yet (a WHOOP `PENDING_SCORE`, an Oura score of null): not an
    error, nothing stored, stored once a later delivery carries the value.
    `records_seen` counts the records examined and `ledger` what became of each.
    """

    observations: list[Observation] = field(default_factory=list)
    intervals: list[RawInterval] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[Rejection] = field(default_factory=list)
    records_seen: int = 0
    ledger: RecordLedger = field(default_factory=RecordLedger, compare=False, hash=False)

    def extend(self, other: NormalizedBatch) -> None:
        self.ledger.extend(other.ledger, len(self.observations), len(self.intervals))
        self.observations.extend(other.observations)
        self.intervals.extend(other.intervals)
        self.rejections.extend(other.rejections)
        self.skipped.extend(other.skipped)
        self.records_seen += other.records_seen


class PayloadError(ValueError):
    """The payload as a whole is invalid: nothing from it may be stored."""


def plausibility_error(metric: str, value: object) -> str | None:
    """Why `value` cannot be stored as `metric`, or None when it can."""
    spec = METRICS.get(metric)
    if spec is None:
        return f"unknown metric {metric!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{metric}: value {value!r} is not a number"
    if not math.isfinite(value):
        return f"{metric}: value {value!r} is not finite"
    if not spec.low <= value <= spec.high:
        bounds = f"[{spec.low:g}, {spec.high:g}]"
        return f"{metric}: {value:g} {spec.unit} is outside the plausible range {bounds}"
    return None


def printable(text: str) -> str:
    """`text` with NUL spelled out: Postgres text and jsonb cannot hold U+0000."""
    return text.replace("\x00", "\\u0000")


class BatchBuilder:
    """Collects observations for one payload, checking each against the vocabulary."""

    def __init__(self, device: Device) -> None:
        self.device: Device = device
        self.batch = NormalizedBatch()
        self._mark = (0, 0, 0, 0)

    def end_record(self, *, ignored: str | None = None, ref: str = "") -> None:
        """Close one record examined: everything added since the last call came from it.

        `ignored` names the type of a record AUREN does not store. A record that gave
        no value, no reason and is not ignored is skipped as carrying no value, so that
        every record is accounted for.
        """
        batch, ledger = self.batch, self.batch.ledger
        o0, i0, r0, s0 = self._mark
        o, i = len(batch.observations), len(batch.intervals)
        values = o - o0 + i - i0
        if ignored is not None:
            ledger.ignore(ignored)
        elif values > 1:
            ledger.multi.append((o0, o, i0, i))
        elif values == 1:
            pass  # storage's verdict on the value is the record's
        elif len(batch.rejections) > r0:
            ledger.rejected += 1
        else:
            if len(batch.skipped) == s0:
                self.skip(ref or f"record {batch.records_seen + 1}", "carries no value to store")
            ledger.skipped += 1
        batch.records_seen += 1
        self._mark = (o, i, len(batch.rejections), len(batch.skipped))

    def take(self) -> NormalizedBatch:
        """The batch built so far; the builder goes on with an empty one."""
        batch, self.batch, self._mark = self.batch, NormalizedBatch(), (0, 0, 0, 0)
        return batch

    def add(
        self,
        metric: str,
        value: object,
        *,
        day: date,
        identity: str,
        timestamp: datetime | None = None,
        combine: Combine = "replace",
        rank: float = 0.0,
        stamp: str | None = None,
    ) -> bool:
        """Add one value; a missing value (None) is skipped, an implausible one rejected."""
        if value is None:
            return False
        spec = METRICS.get(metric)
        # The common case checked inline (NaN fails the comparison); the rest says why.
        if not (type(value) is float and spec is not None and spec.low <= value <= spec.high):
            problem = plausibility_error(metric, value)
            if problem is not None:
                self.reject(identity, problem)
                return False
        assert isinstance(value, int | float)
        if "\x00" in identity:
            self.reject(identity, f"{metric}: the record's identity holds a NUL character")
            return False
        if timestamp is not None and timestamp.tzinfo is None:
            self.reject(identity, f"{metric}: the timestamp has no UTC offset")
            return False
        self.batch.observations.append(
            Observation(
                metric,
                float(value),
                day,
                self.device,
                f"{identity}:{metric}",
                timestamp,
                combine,
                rank,
                stamp,
            )
        )
        return True

    def reject(self, ref: str, reason: str) -> None:
        self.batch.rejections.append(Rejection(printable(ref), printable(reason)))

    def skip(self, ref: str, reason: str) -> None:
        self.batch.skipped.append(Rejection(printable(ref), printable(reason)))

    def interval(self, interval: RawInterval) -> None:
        if "\x00" in interval.identity + interval.source + str(interval.value):
            self.reject(interval.identity, f"{interval.kind}: the interval holds a NUL character")
            return
        self.batch.intervals.append(interval)
