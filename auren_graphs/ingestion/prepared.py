"""A normalized batch turned into what the store keeps, before the store is touched.

Storage merges rows and packed intervals into day items; building them (timestamps as
ISO text, intervals packed, everything grouped by item) needs no store at all. Doing it
here, as plain data, lets the server do it in a worker process next to the normalizer:
the result pickles cheaply, and the server's own loop is left with the merging and I/O.

- `observations`: (metric, day) → entries `(index, identity, new)`, where `new` is the
  row a `replace` observation stores, or the part `[value, device, combine, rank]` a
  combined one contributes; `index` is the observation's place in the batch.
- `intervals`: (kind, start day) → entries `(index, identity, packed, days)`, `packed`
  being `[start, end, value, source]` as stored and `days` the local days it touches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from auren_graphs.canonical import Observation, RawInterval

ObservationEntry = tuple[int, str, Any]
IntervalEntry = tuple[int, str, list[Any], list[str]]


@dataclass(slots=True)
class PreparedBatch:
    """What a batch writes, grouped by the store item it goes to (see the module)."""

    observations: dict[tuple[str, str], list[ObservationEntry]] = field(default_factory=dict)
    observation_count: int = 0
    intervals: dict[tuple[str, str], list[IntervalEntry]] = field(default_factory=dict)
    interval_count: int = 0


def prepare_batch(
    observations: Sequence[Observation], intervals: Sequence[RawInterval]
) -> PreparedBatch:
    return PreparedBatch(
        prepare_observations(observations),
        len(observations),
        prepare_intervals(intervals),
        len(intervals),
    )


def prepare_observations(
    observations: Sequence[Observation],
) -> dict[tuple[str, str], list[ObservationEntry]]:
    groups: dict[tuple[str, date], list[ObservationEntry]] = defaultdict(list)
    for index, obs in enumerate(observations):
        if obs.combine == "replace":
            stamp = obs.stamp or (obs.timestamp.isoformat() if obs.timestamp else None)
            new: Any = {
                "value": obs.value,
                "device": obs.device,
                "timestamp": stamp,
                "id": obs.identity,
            }
        else:
            new = [obs.value, obs.device, obs.combine, obs.rank]
        groups[(obs.metric, obs.day)].append((index, obs.identity, new))
    return {(metric, day.isoformat()): entries for (metric, day), entries in groups.items()}


def prepare_intervals(
    intervals: Sequence[RawInterval],
) -> dict[tuple[str, str], list[IntervalEntry]]:
    groups: dict[tuple[str, str], list[IntervalEntry]] = defaultdict(list)
    iso = _IsoCache()
    for index, interval in enumerate(intervals):
        start, end = interval.start, interval.end
        first, last = start.date(), end.date()
        day = first.isoformat()
        days = [day] if first == last else [d.isoformat() for d in days_between(first, last)]
        packed = [iso(start), iso(end), interval.value, interval.source]
        groups[(interval.kind, day)].append((index, interval.identity, packed, days))
    return dict(groups)


class _IsoCache:
    """ISO text of instants; abutting samples share an instant (one ends as the next
    starts), and the normalizer hands out the same object for it."""

    def __init__(self) -> None:
        self._last: datetime | None = None
        self._text = ""

    def __call__(self, moment: datetime) -> str:
        if moment is not self._last:
            self._last, self._text = moment, moment.isoformat()
        return self._text


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
