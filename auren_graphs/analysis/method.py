"""Daily biometric insights from published rules: the reference method, version 1.0.0.

The method is `shared/brief/analysis-method.md`; comments cite its sections as "§n".
Everything here is pure: no I/O, no server, no model. `assess` turns the daily input
records (§1) into one output row per calendar day (§9). The graph may instead call the
pieces itself: `prepare` once, then each analyzer (`assess_hrv`, `assess_rhr`,
`assess_sleep`, `assess_training`, `assess_bands`) in its own branch, then `combine`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, NamedTuple, TypeGuard

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


def _is_number(value: object) -> TypeGuard[numbers.Real]:
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
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        # A sample SD needs two values; the reference cannot be longer than R(t).
        if not 2 <= self.min_reference_days <= REFERENCE_DAYS:
            raise ValueError(f"min_reference_days must be in [2, {REFERENCE_DAYS}]")
        if self.alert_after_days < 1:
            raise ValueError("alert_after_days must be >= 1")


DEFAULT_OPTIONS: Final = MethodOptions()


@dataclass(frozen=True, slots=True)
class FieldSource:
    """Where a rule comes from (§0 grading): P peer-reviewed, V vendor, E engineering."""

    grade: str
    citation: str
    section: str
    fields: tuple[str, ...]


FIELD_SOURCES: Final[Mapping[str, FieldSource]] = {
    "baseline_warmup": FieldSource(
        "P",
        "4 baseline weeks before HRV-guided training: Vesterinen 2016; Javaloyes 2019. "
        "Exact number is open (Q2); Garmin uses 3 weeks, Oura up to 2 (V)",
        "§2",
        ("hrv_ref_n", "rhr_ref_n"),
    ),
    "hrv_transform": FieldSource(
        "P", "lnRMSSD: Plews 2012, 2013; Buchheit 2014", "§3", ("ln_rmssd",)
    ),
    "hrv_mean7": FieldSource(
        "P",
        "7-day rolling lnRMSSD: Plews 2012, 2013; >= 3 valid days per week: Plews 2014",
        "§3",
        ("hrv_n7", "hrv_mean7"),
    ),
    "hrv_cv7": FieldSource(
        "P", "CV of lnRMSSD over >= 5 days: Plews 2012; Flatt & Esco 2015, 2016", "§3", ("hrv_cv7",)
    ),
    "hrv_reference": FieldSource(
        "V",
        "normal values from the past 60 days: HRV4Training",
        "§3",
        ("hrv_ref_mean", "hrv_ref_sd"),
    ),
    "hrv_status": FieldSource(
        "P",
        "7-day lnRMSSD vs SWC band (0.5 SD): Plews/Laursen; Vesterinen 2016; Javaloyes 2019; "
        "HRV4Training (V)",
        "§3",
        ("hrv_band_low", "hrv_band_high", "hrv_status"),
    ),
    "hrv_z7": FieldSource(
        "E",
        "7-day mean vs the 60-day baseline in SD units (no published source)",
        "§3",
        ("hrv_z7",),
    ),
    "hrv_acute_low": FieldSource(
        "P",
        "daily value below reference mean - SD: Kiviniemi 2007 (60-day reference, not 10-day)",
        "§3",
        ("hrv_acute_low",),
    ),
    "hrv_week_delta": FieldSource(
        "P", "weekly comparison: Plews 2013, 2014", "§3", ("hrv_week_delta",)
    ),
    "hrv_trend": FieldSource(
        "P", "change judged against the SWC: Buchheit 2014", "§3", ("hrv_trend",)
    ),
    "hrv_days_below_normal": FieldSource(
        "V",
        'act on "sustained suppression, several days below my normal range": Altini',
        "§3",
        ("hrv_days_below_normal",),
    ),
    "alert_persistence": FieldSource(
        "E",
        "days below normal before alerting: Altini says 'several days', no number (Q3)",
        "§13",
        (),
    ),
    "rhr_mean7": FieldSource(
        "P",
        "1-week averaged RHR beats single-day RHR: Plews 2013 IJSPP; HRV4Training normal values "
        "(V); the >= 3 of 7 minimum is applied by analogy (E)",
        "§4",
        ("resting_hr", "rhr_n7", "rhr_mean7", "rhr_ref_n", "rhr_ref_mean", "rhr_ref_sd"),
    ),
    "rhr_status": FieldSource(
        "P",
        "weekly RHR above mean + 0.5 SD as abnormal: Radin 2020 (thresholds via a secondary "
        "summary, Q9)",
        "§4",
        ("rhr_band_low", "rhr_band_high", "rhr_status"),
    ),
    "rhr_elevated": FieldSource(
        "E",
        "SD arm mirrors Kiviniemi 2007 (P); 3 bpm floor from Oura's RHR contributor (V); "
        "combining the two is our choice (E)",
        "§4",
        ("rhr_delta", "rhr_elevated"),
    ),
    "sleep_need": FieldSource(
        "E",
        "8.0 h is the midpoint of the 7-9 h adult range (NSF 2015; Oura V); Van Dongen 2003 "
        "implies ~8.16 h (P)",
        "§5",
        ("sleep_need_hours",),
    ),
    "sleep_debt": FieldSource(
        "P",
        "14-day cumulative deficit, no credit for over-sleep: Van Dongen 2003; Belenky 2003; "
        "Oura sleep balance (V); 7-night minimum is E (Q4)",
        "§5",
        ("sleep_n14", "sleep_debt_hours"),
    ),
    "sleep_balance": FieldSource(
        "V", "signed 14-day balance: Oura sleep balance", "§5", ("sleep_balance_hours",)
    ),
    "sleep_mean7": FieldSource(
        "E",
        "7-day mean sleep, >= 3 nights (minimum borrowed from Plews 2014)",
        "§5",
        ("sleep_mean7",),
    ),
    "sleep_short": FieldSource(
        "P",
        "adults should sleep 7 or more hours regularly: Watson 2015 (AASM/SRS)",
        "§5",
        ("sleep_hours", "short_sleep_night", "sleep_insufficient"),
    ),
    "training_monotony": FieldSource(
        "P",
        "monotony = mean/SD over a week, strain = load x monotony: Foster 1998; population SD, "
        "missing days = 0, cap 10: Runalyze (V)",
        "§6",
        ("training_load_7d", "training_monotony", "training_strain"),
    ),
    "monotony_high": FieldSource(
        "V", "monotony > 2.0 'critical': Runalyze", "§6", ("monotony_high",)
    ),
    "recovery_zone": FieldSource(
        "V", "WHOOP Recovery zones (red <= 33, green >= 67)", "§7", ("recovery_zone",)
    ),
    "readiness_band": FieldSource(
        "V", "Oura Readiness Score bands (85 / 70 / 60)", "§7", ("readiness_band",)
    ),
    "strain_band": FieldSource("V", "WHOOP Strain bands (10 / 14 / 18)", "§7", ("strain_band",)),
    "insight_hrv_suppressed": FieldSource(
        "P",
        "7-day lnRMSSD below the SWC band: Plews; Vesterinen 2016; Javaloyes 2019",
        "§8",
        ("insight_hrv_suppressed",),
    ),
    "insight_hrv_trending_down": FieldSource(
        "E",
        "weekly fall beyond the SWC (Buchheit 2014, P) and level below normal; the conjunction "
        "is our choice",
        "§8",
        ("insight_hrv_trending_down",),
    ),
    "insight_recovery_suppressed": FieldSource(
        "V",
        "chronic HRV rule, or acute HRV drop with acute RHR rise (HRV and HR read together, "
        "as HRV4Training does)",
        "§8",
        ("insight_recovery_suppressed",),
    ),
    "insight_sleep_debt": FieldSource(
        "P", "7-day mean sleep under 7 h: Watson 2015 (AASM/SRS)", "§8", ("insight_sleep_debt",)
    ),
    "insight_ready_to_train": FieldSource(
        "P",
        "hard sessions only within the SWC: Vesterinen 2016; Javaloyes 2019; none on an acute "
        "drop: Kiviniemi 2007",
        "§8",
        ("insight_ready_to_train",),
    ),
}

# §9: the output fields, in order.
HRV_FIELDS: Final = (
    "ln_rmssd",
    "hrv_n7",
    "hrv_mean7",
    "hrv_cv7",
    "hrv_ref_n",
    "hrv_ref_mean",
    "hrv_ref_sd",
    "hrv_band_low",
    "hrv_band_high",
    "hrv_status",
    "hrv_z7",
    "hrv_acute_low",
    "hrv_week_delta",
    "hrv_trend",
    "hrv_days_below_normal",
)
RHR_FIELDS: Final = (
    "resting_hr",
    "rhr_n7",
    "rhr_mean7",
    "rhr_ref_n",
    "rhr_ref_mean",
    "rhr_ref_sd",
    "rhr_band_low",
    "rhr_band_high",
    "rhr_status",
    "rhr_delta",
    "rhr_elevated",
)
SLEEP_FIELDS: Final = (
    "sleep_hours",
    "sleep_need_hours",
    "sleep_n14",
    "sleep_debt_hours",
    "sleep_balance_hours",
    "sleep_mean7",
    "short_sleep_night",
    "sleep_insufficient",
)
TRAINING_FIELDS: Final = (
    "training_load_7d",
    "training_monotony",
    "training_strain",
    "monotony_high",
)
BAND_FIELDS: Final = ("recovery_zone", "readiness_band", "strain_band")
INSIGHT_FIELDS: Final = (
    "insight_hrv_suppressed",
    "insight_hrv_trending_down",
    "insight_recovery_suppressed",
    "insight_sleep_debt",
    "insight_ready_to_train",
)
OUTPUT_FIELDS: Final = (
    "day",
    "record_present",
    *HRV_FIELDS,
    *RHR_FIELDS,
    *SLEEP_FIELDS,
    *TRAINING_FIELDS,
    *BAND_FIELDS,
    *INSIGHT_FIELDS,
)


# ---------------------------------------------------------------------------
# §1 input


@dataclass(frozen=True, slots=True)
class Series:
    """Valid inputs aligned on every calendar day from the first record to the last (§2).

    `ln_rmssd` is already log-transformed (§3). Invalid or absent values are None (§1).
    """

    days: tuple[date, ...]
    record_present: tuple[bool, ...]
    ln_rmssd: tuple[float | None, ...]
    resting_hr: tuple[float | None, ...]
    sleep_hours: tuple[float | None, ...]
    sleep_need_hours: tuple[float | None, ...]
    training_load: tuple[float | None, ...]
    strain: tuple[float | None, ...]
    recovery_score: tuple[float | None, ...]
    readiness_score: tuple[float | None, ...]

    def __len__(self) -> int:
        return len(self.days)


def _valid(
    value: object, low: float | None = None, high: float | None = None, *, low_open: bool = False
) -> float | None:
    """The value as a float if it passes §1 validity and the bounds, else None (missing)."""
    if not _is_number(value):
        return None
    v = float(value)
    if low is not None and (v <= low if low_open else v < low):
        return None
    if high is not None and v > high:
        return None
    return v


def _parse_day(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"day must be a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"day must be an ISO date string YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"day is not an ISO date YYYY-MM-DD: {value!r}") from exc


def prepare(records: Iterable[Mapping[str, Any]]) -> Series:
    """§1-§2: validate the records, order them, and align them on calendar days.

    Raises ValueError on a missing or malformed `day` or a duplicate day.
    """
    by_day: dict[date, Mapping[str, Any]] = {}
    for record in records:
        if "day" not in record:
            raise ValueError(f"record without a day: {record!r}")
        day = _parse_day(record["day"])
        if day in by_day:
            raise ValueError(f"duplicate day: {day.isoformat()}")
        by_day[day] = record
    if not by_day:
        return Series((), (), (), (), (), (), (), (), (), ())
    first, last = min(by_day), max(by_day)
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    recs = [by_day.get(d, {}) for d in days]

    def column(
        key: str, low: float | None = None, high: float | None = None, *, low_open: bool = False
    ) -> tuple[float | None, ...]:
        return tuple(_valid(r.get(key), low, high, low_open=low_open) for r in recs)

    rmssd = column("rmssd_ms", 0.0, low_open=True)  # §1: > 0
    return Series(
        days=days,
        record_present=tuple(d in by_day for d in days),
        ln_rmssd=tuple(None if v is None else math.log(v) for v in rmssd),  # §3
        resting_hr=column("resting_hr", 0.0, low_open=True),  # §1: > 0
        sleep_hours=column("sleep_hours", 0.0, 24.0),  # §1: [0, 24]
        # §5 says "if valid" without bounds; a need must be a positive duration within a day.
        sleep_need_hours=column("sleep_need_hours", 0.0, 24.0, low_open=True),
        training_load=column("training_load", 0.0),  # §1: >= 0
        strain=column("strain"),
        recovery_score=column("recovery_score"),
        readiness_score=column("readiness_score"),
    )


# ---------------------------------------------------------------------------
# statistics helpers (values are already valid floats)


def _present(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _mean(values: Sequence[float]) -> float:
    if min(values) == max(values):  # identical values: exactly that value
        return values[0]
    return math.fsum(values) / len(values)


def _sd(values: Sequence[float], *, sample: bool) -> float:
    """Sample (n-1) or population (n) SD; exactly 0 for identical values."""
    if min(values) == max(values):
        return 0.0
    m = _mean(values)
    ss = math.fsum((v - m) ** 2 for v in values)
    return math.sqrt(ss / (len(values) - 1 if sample else len(values)))


def _week(values: Sequence[float | None], i: int) -> list[float]:
    """§2: valid values in W7(t) = t-6 … t."""
    return _present(values[max(0, i - WEEK_DAYS + 1) : i + 1])


def _reference(values: Sequence[float | None], i: int) -> list[float]:
    """§2: valid values in R(t) = t-60 … t-1 (today never enters its own reference)."""
    return _present(values[max(0, i - REFERENCE_DAYS) : i])


def _round(value: float | None) -> float | None:
    """§9: 6 decimals; -0.0 becomes 0.0."""
    return None if value is None else round(value, DECIMALS) + 0.0


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


# §8 Kleene three-valued logic: None is "cannot tell".
def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _lt(a: float | None, b: float) -> bool | None:
    return None if a is None else a < b


# ---------------------------------------------------------------------------
# §3-§4 shared normal-range logic


class _Baseline(NamedTuple):
    n7: int
    mean7: float | None
    ref_n: int
    ref_mean: float | None
    ref_sd: float | None
    low: float | None
    high: float | None
    status: str


def _baseline(values: Sequence[float | None], i: int, options: MethodOptions) -> _Baseline:
    week = _week(values, i)
    mean7 = _mean(week) if len(week) >= MIN_MEAN7 else None  # §2: >= 3 of 7
    ref = _reference(values, i)
    if len(ref) < options.min_reference_days:  # §2: >= 28 valid days in R(t)
        return _Baseline(len(week), mean7, len(ref), None, None, None, None, INSUFFICIENT)
    ref_mean, ref_sd = _mean(ref), _sd(ref, sample=True)  # §3: sample SD of daily values
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
    return _Baseline(len(week), mean7, len(ref), ref_mean, ref_sd, low, high, status)


def _options(options: MethodOptions | None) -> MethodOptions:
    return DEFAULT_OPTIONS if options is None else options


# ---------------------------------------------------------------------------
# analyzers: each returns one dict per day with only its own fields


def assess_hrv(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§3 HRV on lnRMSSD."""
    opts = _options(options)
    x = series.ln_rmssd
    bases = [_baseline(x, i, opts) for i in range(len(series))]
    rows: list[Row] = []
    run = 0
    for i, b in enumerate(bases):
        today = x[i]
        week = _week(x, i)
        cv7 = None
        if len(week) >= MIN_CV7:  # §2: CV needs >= 5 valid days
            m = _mean(week)
            cv7 = None if m == 0 else 100.0 * _sd(week, sample=True) / m
        z7 = acute_low = trend = None
        if b.ref_mean is not None and b.ref_sd is not None:
            if b.mean7 is not None and b.ref_sd > 0:  # §3: z7 only when ref_sd > 0
                z7 = (b.mean7 - b.ref_mean) / b.ref_sd
            # §3 Kiviniemi: today below ref_mean - 1 SD; null if today is missing.
            acute_low = _lt(today, b.ref_mean - opts.acute_multiplier * b.ref_sd)
        # §3: mean7(t) - mean7(t-7), both must exist.
        week_delta = _sub(b.mean7, bases[i - WEEK_DAYS].mean7 if i >= WEEK_DAYS else None)
        if week_delta is not None and b.ref_sd is not None:  # §3: needs the reference
            swc = opts.swc_multiplier * b.ref_sd
            if week_delta < -swc:
                trend = TREND_DOWN
            elif week_delta > swc:
                trend = TREND_UP
            else:
                trend = TREND_FLAT
        run = run + 1 if b.status == BELOW else 0  # §3: consecutive below_normal days
        rows.append(
            {
                "ln_rmssd": _round(today),
                "hrv_n7": b.n7,
                "hrv_mean7": _round(b.mean7),
                "hrv_cv7": _round(cv7),
                "hrv_ref_n": b.ref_n,
                "hrv_ref_mean": _round(b.ref_mean),
                "hrv_ref_sd": _round(b.ref_sd),
                "hrv_band_low": _round(b.low),
                "hrv_band_high": _round(b.high),
                "hrv_status": b.status,
                "hrv_z7": _round(z7),
                "hrv_acute_low": acute_low,
                "hrv_week_delta": _round(week_delta),
                "hrv_trend": trend,
                "hrv_days_below_normal": run,
            }
        )
    return rows


def assess_rhr(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§4 resting heart rate: same windows, minimums and band as HRV, on bpm."""
    opts = _options(options)
    hr = series.resting_hr
    rows: list[Row] = []
    for i in range(len(series)):
        b = _baseline(hr, i, opts)
        delta = _sub(hr[i], b.ref_mean)  # §4: rhr(t) - ref_mean
        elevated = None
        if delta is not None and b.ref_sd is not None:
            # §4: SD arm (Kiviniemi, P) AND bpm floor (Oura, V); null if today missing.
            elevated = delta > opts.acute_multiplier * b.ref_sd and (
                delta >= opts.rhr_elevated_min_bpm
            )
        rows.append(
            {
                "resting_hr": _round(hr[i]),
                "rhr_n7": b.n7,
                "rhr_mean7": _round(b.mean7),
                "rhr_ref_n": b.ref_n,
                "rhr_ref_mean": _round(b.ref_mean),
                "rhr_ref_sd": _round(b.ref_sd),
                "rhr_band_low": _round(b.low),
                "rhr_band_high": _round(b.high),
                "rhr_status": b.status,
                "rhr_delta": _round(delta),
                "rhr_elevated": elevated,
            }
        )
    return rows


def assess_sleep(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§5 sleep need, 14-day debt and balance, 7-day mean, short nights."""
    opts = _options(options)
    sleep = series.sleep_hours
    # §5: the record's need if valid, else the default (gap days get the default too).
    need = [opts.default_sleep_need_hours if n is None else n for n in series.sleep_need_hours]
    rows: list[Row] = []
    for i in range(len(series)):
        start = max(0, i - SLEEP_DEBT_DAYS + 1)
        nights = [(s, need[j]) for j, s in enumerate(sleep[start : i + 1], start) if s is not None]
        debt = balance = None
        if len(nights) >= MIN_SLEEP_NIGHTS:  # §5: null if fewer than 7 valid nights (Q4)
            debt = math.fsum(max(0.0, n - s) for s, n in nights)  # no credit for over-sleep
            balance = math.fsum(s - n for s, n in nights)  # signed, net
        week = _week(sleep, i)
        mean7 = _mean(week) if len(week) >= MIN_MEAN7 else None
        rows.append(
            {
                "sleep_hours": _round(sleep[i]),
                "sleep_need_hours": _round(need[i]),
                "sleep_n14": len(nights),
                "sleep_debt_hours": _round(debt),
                "sleep_balance_hours": _round(balance),
                "sleep_mean7": _round(mean7),
                "short_sleep_night": _lt(sleep[i], SLEEP_MIN_HOURS),  # §5: < 7.0 h
                "sleep_insufficient": _lt(mean7, SLEEP_MIN_HOURS),
            }
        )
    return rows


def assess_training(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§6 Foster monotony and strain over t-6 … t."""
    rows: list[Row] = []
    for i in range(len(series)):
        window = series.training_load[i - WEEK_DAYS + 1 : i + 1] if i >= WEEK_DAYS - 1 else ()
        load7 = monotony = strain = high = None
        # §6: the window lies inside the data span and holds at least one load.
        if any(v is not None for v in window):
            loads = [0.0 if v is None else v for v in window]  # missing = rest day = 0
            load7 = math.fsum(loads)
            mean = _mean(loads)
            sd = _sd(loads, sample=False)  # population SD (÷7, Runalyze)
            if mean > 0:  # mean 0: null
                monotony = MONOTONY_CAP if sd == 0 else min(MONOTONY_CAP, mean / sd)
                strain = load7 * monotony
                high = monotony > MONOTONY_HIGH
        rows.append(
            {
                "training_load_7d": _round(load7),
                "training_monotony": _round(monotony),
                "training_strain": _round(strain),
                "monotony_high": high,
            }
        )
    return rows


def _recovery_zone(score: float | None) -> str | None:
    """§7 WHOOP: green >= 67, yellow 33 < s < 67, red <= 33."""
    if score is None:
        return None
    if score >= 67:
        return "green"
    return "yellow" if score > 33 else "red"


def _readiness_band(score: float | None) -> str | None:
    """§7 Oura: optimal >= 85, good >= 70, fair >= 60, pay_attention < 60."""
    if score is None:
        return None
    if score >= 85:
        return "optimal"
    if score >= 70:
        return "good"
    return "fair" if score >= 60 else "pay_attention"


def _strain_band(score: float | None) -> str | None:
    """§7 WHOOP: light < 10, moderate < 14, high < 18, all_out >= 18."""
    if score is None:
        return None
    if score < 10:
        return "light"
    if score < 14:
        return "moderate"
    return "high" if score < 18 else "all_out"


def assess_bands(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§7 vendor score bands: classification only, never recomputed."""
    return [
        {
            "recovery_zone": _recovery_zone(rec),
            "readiness_band": _readiness_band(ready),
            "strain_band": _strain_band(strain),
        }
        for rec, ready, strain in zip(
            series.recovery_score, series.readiness_score, series.strain, strict=True
        )
    ]


# ---------------------------------------------------------------------------
# §8 composites and §9 assembly


def _status_is(status: Value, wanted: str) -> bool | None:
    """`hrv_status == wanted`, null when the status is insufficient_data."""
    return None if status in (None, INSUFFICIENT) else status == wanted


def _bool(value: Value) -> bool | None:
    return value if isinstance(value, bool) else None


def insights(row: Mapping[str, Value]) -> Row:
    """§8 composite insights from one day's analyzer fields, in Kleene logic."""
    status = row["hrv_status"]
    below = _status_is(status, BELOW)
    trend = row["hrv_trend"]
    trend_down = None if trend is None else trend == TREND_DOWN
    acute_low = _bool(row["hrv_acute_low"])
    within = _status_is(status, WITHIN)
    # Ready: within AND NOT acute_low; a missing reading today does not block readiness.
    ready = None if within is None else within and acute_low is not True
    return {
        "insight_hrv_suppressed": below,
        "insight_hrv_trending_down": _and(trend_down, below),
        "insight_recovery_suppressed": _or(below, _and(acute_low, _bool(row["rhr_elevated"]))),
        # sleep_mean7 < 7 h is exactly sleep_insufficient (§5), taken before rounding.
        "insight_sleep_debt": _bool(row["sleep_insufficient"]),
        "insight_ready_to_train": ready,
    }


def combine(
    series: Series,
    parts: Mapping[str, Sequence[Mapping[str, Value]]] | Sequence[Sequence[Mapping[str, Value]]],
    options: MethodOptions | None = None,
) -> list[Row]:
    """Merge the analyzers' per-day rows, add §8 insights, and order the fields as §9.

    `parts` holds each analyzer's output (as a mapping name -> rows, or a sequence of
    row lists); every day needs every §9 field. `options` is accepted for symmetry; the
    composites have no tunable constants.
    """
    del options
    groups = list(parts.values()) if isinstance(parts, Mapping) else list(parts)
    n = len(series)
    for group in groups:
        if len(group) != n:
            raise ValueError(f"analyzer output has {len(group)} rows, series has {n} days")
    out: list[Row] = []
    for i, day in enumerate(series.days):
        merged: Row = {"day": day.isoformat(), "record_present": series.record_present[i]}
        for group in groups:
            merged.update(group[i])
        missing = [f for f in OUTPUT_FIELDS if f not in merged and f not in INSIGHT_FIELDS]
        if missing:
            raise ValueError(f"fields missing from the analyzer outputs: {missing}")
        merged.update(insights(merged))
        out.append({f: merged[f] for f in OUTPUT_FIELDS})
    return out


def assess(records: Iterable[Mapping[str, Any]], options: MethodOptions | None = None) -> list[Row]:
    """§1-§9: one row per calendar day from the first record to the last."""
    series = prepare(records)
    parts = {
        "hrv": assess_hrv(series, options),
        "rhr": assess_rhr(series, options),
        "sleep": assess_sleep(series, options),
        "training": assess_training(series, options),
        "bands": assess_bands(series, options),
    }
    return combine(series, parts, options)
