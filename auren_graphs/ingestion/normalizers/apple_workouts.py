"""Apple workouts: the values one `<Workout>` of export.xml (or one Auto Export workout) gives.

Exports before iOS 16 carry totals as attributes of `<Workout>`; newer ones as
`<WorkoutStatistics>` children. Each value is computed on its own, so a value in a unit
we cannot read is rejected alone and the workout's other values are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from auren_graphs.canonical import BatchBuilder
from auren_graphs.ingestion.normalizers.apple_types import (
    BPM,
    ENERGY_TO_KCAL,
    LENGTH_TO_M,
    TIME_TO_S,
)

Attributes = Mapping[str, str]

_DISTANCE_STATISTIC_PREFIX = "HKQuantityTypeIdentifierDistance"
_ENERGY_STATISTIC = "HKQuantityTypeIdentifierActiveEnergyBurned"
_HEART_RATE_STATISTIC = "HKQuantityTypeIdentifierHeartRate"


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


def add_export_workout(
    add: WorkoutAdder,
    attrs: Attributes,
    statistics: Sequence[Attributes],
    start: datetime,
    end: datetime,
) -> None:
    """The five workout metrics of one export.xml `<Workout>`."""
    add("workout_duration", lambda: _duration(attrs, start, end))
    add("workout_energy", lambda: _energy(attrs, statistics))
    add("workout_distance", lambda: _distance(attrs, statistics))
    add("workout_average_heart_rate", lambda: _heart_rate(statistics, "average"))
    add("workout_max_heart_rate", lambda: _heart_rate(statistics, "maximum"))


def converted(amount: str | None, unit: str | None, factors: Mapping[str, float]) -> float | None:
    """`amount` in `unit` converted by `factors`; None when absent, ValueError when unusable."""
    if amount is None or amount == "":
        return None
    factor = factors.get(unit or "")
    if factor is None:
        raise ValueError(f"unit {unit!r} is not one of {', '.join(factors)}")
    return float(amount) * factor


def _duration(attrs: Attributes, start: datetime, end: datetime) -> float:
    # Apple's duration excludes pauses; without it the span is the best we have.
    duration = converted(attrs.get("duration"), attrs.get("durationUnit"), TIME_TO_S)
    return duration if duration is not None else (end - start).total_seconds()


def _energy(attrs: Attributes, statistics: Sequence[Attributes]) -> float | None:
    total = converted(
        attrs.get("totalEnergyBurned"), attrs.get("totalEnergyBurnedUnit"), ENERGY_TO_KCAL
    )
    if total is not None:
        return total
    for statistic in statistics:
        if statistic.get("type") == _ENERGY_STATISTIC:
            return converted(statistic.get("sum"), statistic.get("unit"), ENERGY_TO_KCAL)
    return None


def _distance(attrs: Attributes, statistics: Sequence[Attributes]) -> float | None:
    total = converted(attrs.get("totalDistance"), attrs.get("totalDistanceUnit"), LENGTH_TO_M)
    if total is not None:
        return total
    for statistic in statistics:
        if statistic.get("type", "").startswith(_DISTANCE_STATISTIC_PREFIX):
            return converted(statistic.get("sum"), statistic.get("unit"), LENGTH_TO_M)
    return None


def _heart_rate(statistics: Sequence[Attributes], field: str) -> float | None:
    for statistic in statistics:
        if statistic.get("type") == _HEART_RATE_STATISTIC:
            return converted(statistic.get(field), statistic.get("unit"), BPM)
    return None
