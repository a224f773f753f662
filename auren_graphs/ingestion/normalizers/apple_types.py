"""What Apple Health records mean to AUREN: types, units, instants and identities.

Shared by the export.xml reader (`apple_xml`), its workouts (`apple_workouts`) and
Health Auto Export (`apple_hae`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from auren_graphs.canonical import Device
from auren_graphs.ingestion.normalizers.common import parse_instant

DEVICE: Device = "apple_health"

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


# --- instants and identities ---------------------------------------------------------------


class InstantCache:
    """Parses timestamps into (aware datetime, identity key), remembering the last one.

    Consecutive step, energy and sleep samples usually abut (one ends where the next
    starts) and a heart rate starts and ends at the same instant, so one remembered
    timestamp saves most repeated parses for one string comparison.
    """

    def __init__(self) -> None:
        # None until the first parse: any text, even "\x00", must be parsed once.
        self._last_text: str | None = None
        self._last: tuple[datetime, str] = (datetime.min, "")

    def parse(self, text: str) -> tuple[datetime, str]:
        """The aware datetime and its identity key (epoch seconds); ValueError if unusable."""
        if text == self._last_text:
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


def apple_iso(text: str) -> str | None:
    """Apple's "2026-11-02 07:30:00 -0800" as `datetime.isoformat()` writes it
    ("2026-11-02T07:30:00-08:00"), by slicing; None for any other shape (or "-0000",
    which isoformat writes "+00:00"). Only for text `_aware` has parsed."""
    if len(text) != 25 or text[10] != " " or text[19] != " " or text[20] not in "+-":
        return None
    if text[20:] == "-0000":
        return None
    return f"{text[:10]}T{text[11:19]}{text[20:23]}:{text[23:]}"


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


def interval_problem(start: datetime, end: datetime, value: float | str) -> str | None:
    """Why an interval cannot be kept, or None."""
    if end < start:
        return f"ends ({end.isoformat()}) before it starts ({start.isoformat()})"
    if isinstance(value, float) and not (math.isfinite(value) and value >= 0):
        return f"value {value!r} is not a finite non-negative number"
    return None
