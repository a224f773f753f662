"""§0 and §2 constants of the method, the validity test of §1, and its tunable options."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Final, TypeGuard

METHOD_VERSION: Final = "1.0.0"

Value = float | int | str | bool | None
Row = dict[str, Value]

# §2 windows and minimum valid counts (calendar days, never record counts).
WEEK_DAYS: Final = 7  # W7(t) = t-6 … t
REFERENCE_DAYS: Final = 60  # R(t) = t-60 … t-1
SLEEP_DEBT_DAYS: Final = 14  # t-13 … t (§5)
MIN_MEAN7: Final = 3  # Plews 2014
MIN_CV7: Final = 5  # Flatt & Esco 2015
MIN_SLEEP_NIGHTS: Final = 7  # §5, E (Q4)
SLEEP_MIN_HOURS: Final = 7.0  # §5, Watson 2015
MONOTONY_CAP: Final = 10.0  # §6, Runalyze
MONOTONY_HIGH: Final = 2.0  # §6, Runalyze "critical"
DECIMALS: Final = 6  # §9

BELOW: Final = "below_normal"
WITHIN: Final = "within_normal"
ABOVE: Final = "above_normal"
INSUFFICIENT: Final = "insufficient_data"
TREND_DOWN: Final = "down"
TREND_UP: Final = "up"
TREND_FLAT: Final = "flat"


def is_number(value: object) -> TypeGuard[numbers.Real]:
    """§1: a finite real number, and not a bool."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@dataclass(frozen=True, slots=True)
class MethodOptions:
    """Tunable constants. The defaults are the brief's values; with them the output is §9.

    * `swc_multiplier`: half-width of the HRV/RHR normal band in reference SDs; also the
      SWC for `hrv_trend` (§3, §4).
    * `acute_multiplier`: SDs for Kiviniemi's acute rule (`hrv_acute_low`) and the SD arm
      of `rhr_elevated` (§3, §4).
    * `default_sleep_need_hours`: need when a record gives none (§5).
    * `rhr_elevated_min_bpm`: the bpm floor of `rhr_elevated` (§4).
    * `min_reference_days`: valid days needed in R(t) for a normal range (§2, Q2).
    * `alert_after_days`: consecutive `below_normal` days before the graph raises an
      alert (Q3). `assess` does not use it; the graph's findings do.
    """

    swc_multiplier: float = 0.5
    acute_multiplier: float = 1.0
    default_sleep_need_hours: float = 8.0
    rhr_elevated_min_bpm: float = 3.0
    min_reference_days: int = 28
    alert_after_days: int = 1

    def __post_init__(self) -> None:
        for name in (
            "swc_multiplier",
            "acute_multiplier",
            "default_sleep_need_hours",
            "rhr_elevated_min_bpm",
        ):
            value = getattr(self, name)
            if not is_number(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        # A sample SD needs two values; the reference cannot be longer than R(t).
        if not 2 <= self.min_reference_days <= REFERENCE_DAYS:
            raise ValueError(f"min_reference_days must be in [2, {REFERENCE_DAYS}]")
        if self.alert_after_days < 1:
            raise ValueError("alert_after_days must be >= 1")


DEFAULT_OPTIONS: Final = MethodOptions()


def resolve_options(options: MethodOptions | None) -> MethodOptions:
    return DEFAULT_OPTIONS if options is None else options
