"""Health Auto Export (an iOS app) JSON, as it posts it.

`{"data": {"metrics": [...], "workouts": [...]}}`, each metric
`{"name": "heart_rate", "units": "count/min", "data": [{"date": ..., ...}]}`
(https://help.healthyapps.dev/en/health-auto-export/export-format/health-metrics).
Each data point and each workout is a record; metrics AUREN has no name for are ignored
by name. Steps and active energy become `RawInterval`s like export.xml's samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from auren_graphs.canonical import BatchBuilder, NormalizedBatch, PayloadError, RawInterval
from auren_graphs.ingestion.normalizers.apple_types import (
    ACTIVE_ENERGY_KIND,
    BPM,
    DEVICE,
    ENERGY_TO_KCAL,
    LENGTH_TO_M,
    SLEEP_KIND,
    STEPS_KIND,
    TIME_TO_S,
    InstantCache,
    QuantityType,
    interval_problem,
    sample_identity,
)
from auren_graphs.ingestion.normalizers.apple_workouts import WorkoutAdder
from auren_graphs.ingestion.normalizers.common import parse_day

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
        _hae_workout(builder, instants, index, workout)
        builder.end_record(ref=f"workouts[{index}]")
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
        builder.end_record()
        return
    name, units, points = metric.get("name"), metric.get("units"), metric.get("data") or []
    mapping = HAE_METRICS.get(name) if isinstance(name, str) else None
    for position, point in enumerate(points):
        ref = f"{name}[{position}]"
        if not isinstance(point, dict):
            builder.reject(ref, f"{name}: a data point must be an object")
        elif name == HAE_SLEEP:
            _hae_sleep(builder, instants, ref, units, point)
        elif mapping is None:
            # Metrics we have no canonical name for are counted and left out.
            builder.end_record(ignored=str(name))
            continue
        else:
            _hae_point(builder, instants, ref, mapping, units, point)
        builder.end_record(ref=ref)


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
