"""§2 windows and the statistics on them; §3-§4 shared normal-range logic; §8 Kleene logic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from auren_graphs.analysis.method.options import (
    ABOVE,
    BELOW,
    DECIMALS,
    INSUFFICIENT,
    MIN_MEAN7,
    REFERENCE_DAYS,
    WEEK_DAYS,
    WITHIN,
    MethodOptions,
)


def present(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def mean_of(values: Sequence[float]) -> float:
    if min(values) == max(values):  # identical values: exactly that value
        return values[0]
    return math.fsum(values) / len(values)


def sd_of(values: Sequence[float], *, sample: bool) -> float:
    """Sample (n-1) or population (n) SD; exactly 0 for identical values."""
    if min(values) == max(values):
        return 0.0
    m = mean_of(values)
    ss = math.fsum((v - m) ** 2 for v in values)
    return math.sqrt(ss / (len(values) - 1 if sample else len(values)))


def week_values(values: Sequence[float | None], i: int) -> list[float]:
    """§2: valid values in W7(t) = t-6 … t."""
    return present(values[max(0, i - WEEK_DAYS + 1) : i + 1])


def reference_values(values: Sequence[float | None], i: int) -> list[float]:
    """§2: valid values in R(t) = t-60 … t-1 (today never enters its own reference)."""
    return present(values[max(0, i - REFERENCE_DAYS) : i])


def round6(value: float | None) -> float | None:
    """§9: 6 decimals; -0.0 becomes 0.0."""
    return None if value is None else round(value, DECIMALS) + 0.0


def sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


# §8 Kleene three-valued logic: None is "cannot tell".
def and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def lt(a: float | None, b: float) -> bool | None:
    return None if a is None else a < b


# ---------------------------------------------------------------------------
# §3-§4 shared normal-range logic


class Baseline(NamedTuple):
    n7: int
    mean7: float | None
    ref_n: int
    ref_mean: float | None
    ref_sd: float | None
    low: float | None
    high: float | None
    status: str


def baseline(values: Sequence[float | None], i: int, options: MethodOptions) -> Baseline:
    week = week_values(values, i)
    mean7 = mean_of(week) if len(week) >= MIN_MEAN7 else None  # §2: >= 3 of 7
    ref = reference_values(values, i)
    if len(ref) < options.min_reference_days:  # §2: >= 28 valid days in R(t)
        return Baseline(len(week), mean7, len(ref), None, None, None, None, INSUFFICIENT)
    ref_mean, ref_sd = mean_of(ref), sd_of(ref, sample=True)  # §3: sample SD of daily values
    low = ref_mean - options.swc_multiplier * ref_sd  # §3 SWC band
    high = ref_mean + options.swc_multiplier * ref_sd
    if mean7 is None:
        status = INSUFFICIENT
    elif mean7 < low:  # strict on both sides (§3, §4)
        status = BELOW
    elif mean7 > high:
        status = ABOVE
    else:
        status = WITHIN
    return Baseline(len(week), mean7, len(ref), ref_mean, ref_sd, low, high, status)
