"""What each kind of WHOOP record yields: the metrics read from its `score`, in our
units, and where they go (`_Placement`: the day, the instant, and how they combine with
other records' values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from auren_graphs.canonical import Combine
from auren_graphs.ingestion.normalizers.common import number
from auren_graphs.ingestion.normalizers.whoop_days import _cycle_day, _instant, _Links, _span
from auren_graphs.ingestion.normalizers.whoop_records import Record, RecordKind, _RecordError

KJ_PER_KCAL = 4.184
MS_PER_S = 1000.0

Reader = Callable[[Record], float | None]


@dataclass(frozen=True, slots=True)
class _Field:
    metric: str
    read: Reader


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where a record's values go: day, instant, and how they combine with others."""

    day: date
    timestamp: datetime | None = None
    combine: Combine = "replace"
    rank: float = 0.0


@dataclass(frozen=True, slots=True)
class _Shape:
    place: Callable[[Record, _Links], _Placement]
    fields: tuple[_Field, ...]


def _same(value: float) -> float:
    return value


def _ms_to_s(value: float) -> float:
    return value / MS_PER_S


def _kj_to_kcal(value: float) -> float:
    return value / KJ_PER_KCAL


def _score(*path: str, convert: Callable[[float], float] = _same) -> Reader:
    """Reads the number at `score.<path>`; None when WHOOP left it out."""
    where = ".".join(("score", *path))

    def read(record: Record) -> float | None:
        value: Any = record.get("score")
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        try:
            found = number(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        return None if found is None else convert(found)

    return read


_LIGHT = _score("stage_summary", "total_light_sleep_time_milli", convert=_ms_to_s)
_DEEP = _score("stage_summary", "total_slow_wave_sleep_time_milli", convert=_ms_to_s)
_REM = _score("stage_summary", "total_rem_sleep_time_milli", convert=_ms_to_s)


def _asleep_seconds(record: Record) -> float | None:
    """Time asleep: light + slow wave + REM (WHOOP reports no total of its own)."""
    total = 0.0
    for stage in (_LIGHT, _DEEP, _REM):
        part = stage(record)
        if part is None:
            return None
        total += part
    return total


def _workout_seconds(record: Record) -> float | None:
    return (_instant(record, "end") - _instant(record, "start")).total_seconds()


def _rank_of_sleep(record: Record) -> float:
    try:
        return _asleep_seconds(record) or 0.0
    except ValueError:
        return 0.0  # the bad stage value is reported with its metric


def _place_sleep(record: Record, _links: _Links) -> _Placement:
    # Among several long sleeps ending on one day, the one with most time asleep is the
    # main sleep; all its values share that rank so they are kept or dropped together.
    _, end = _span(record, end_required=True)
    assert end is not None
    return _Placement(end.date(), combine="best", rank=_rank_of_sleep(record))


def _place_nap(record: Record, _links: _Links) -> _Placement:
    _, end = _span(record, end_required=True)
    assert end is not None
    return _Placement(end.date(), combine="sum")


def _place_workout(record: Record, _links: _Links) -> _Placement:
    start, _ = _span(record, end_required=True)
    return _Placement(start.date(), timestamp=start)


def _place_cycle(record: Record, _links: _Links) -> _Placement:
    start, _ = _span(record, end_required=False)
    return _Placement(_cycle_day(start))


def _place_recovery(record: Record, links: _Links) -> _Placement:
    return _Placement(links.recovery_day(record))


_SHAPES: dict[str, _Shape] = {
    "recovery": _Shape(
        _place_recovery,
        (
            _Field("recovery_score", _score("recovery_score")),
            _Field("resting_heart_rate", _score("resting_heart_rate")),
            _Field("hrv_rmssd", _score("hrv_rmssd_milli")),  # rMSSD, already in ms
            _Field("spo2", _score("spo2_percentage")),
            _Field("skin_temperature", _score("skin_temp_celsius")),
        ),
    ),
    "cycle": _Shape(
        _place_cycle,
        (
            _Field("strain", _score("strain")),
            _Field("total_energy", _score("kilojoule", convert=_kj_to_kcal)),
            _Field("average_heart_rate", _score("average_heart_rate")),
            _Field("max_heart_rate", _score("max_heart_rate")),
        ),
    ),
    "sleep": _Shape(
        _place_sleep,
        (
            _Field("sleep_duration", _asleep_seconds),
            _Field(
                "time_in_bed", _score("stage_summary", "total_in_bed_time_milli", convert=_ms_to_s)
            ),
            _Field("sleep_light_duration", _LIGHT),
            _Field("sleep_deep_duration", _DEEP),
            _Field("sleep_rem_duration", _REM),
            _Field(
                "sleep_awake_duration",
                _score("stage_summary", "total_awake_time_milli", convert=_ms_to_s),
            ),
            _Field("respiratory_rate", _score("respiratory_rate")),
            _Field("sleep_performance", _score("sleep_performance_percentage")),
            _Field("sleep_efficiency", _score("sleep_efficiency_percentage")),
        ),
    ),
    # A nap never counts as the night's sleep (metrics.md); naps on one day add up.
    "nap": _Shape(_place_nap, (_Field("nap_duration", _asleep_seconds),)),
    "workout": _Shape(
        _place_workout,
        (
            _Field("workout_duration", _workout_seconds),
            _Field("workout_energy", _score("kilojoule", convert=_kj_to_kcal)),
            _Field("workout_strain", _score("strain")),
            _Field("workout_average_heart_rate", _score("average_heart_rate")),
            _Field("workout_max_heart_rate", _score("max_heart_rate")),
            _Field("workout_distance", _score("distance_meter")),
        ),
    ),
}


def _shape_name(kind: RecordKind, record: Record) -> str:
    if kind != "sleep":
        return kind
    nap = record.get("nap", False)
    if not isinstance(nap, bool):
        raise _RecordError(f"nap is {nap!r}, not true or false")
    return "nap" if nap else "sleep"
