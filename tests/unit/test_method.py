"""Unit tests for the reference analysis method (shared/brief/analysis-method.md)."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import date, timedelta
from typing import Any

import pytest

from auren_graphs.analysis import method as m
from auren_graphs.analysis.method import (
    FIELD_SOURCES,
    METHOD_VERSION,
    OUTPUT_FIELDS,
    MethodOptions,
    assess,
    assess_bands,
    assess_hrv,
    assess_rhr,
    assess_sleep,
    assess_training,
    combine,
    insights,
    prepare,
)

D0 = date(2025, 1, 1)
LN40, LN50, LN70 = math.log(40), math.log(50), math.log(70)

# §9, copied independently of the module.
SECTION_9 = [
    "day",
    "record_present",
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
    "sleep_hours",
    "sleep_need_hours",
    "sleep_n14",
    "sleep_debt_hours",
    "sleep_balance_hours",
    "sleep_mean7",
    "short_sleep_night",
    "sleep_insufficient",
    "training_load_7d",
    "training_monotony",
    "training_strain",
    "monotony_high",
    "recovery_zone",
    "readiness_band",
    "strain_band",
    "insight_hrv_suppressed",
    "insight_hrv_trending_down",
    "insight_recovery_suppressed",
    "insight_sleep_debt",
    "insight_ready_to_train",
]


def day(i: int) -> str:
    return (D0 + timedelta(days=i)).isoformat()


def rec(i: int, **values: Any) -> dict[str, Any]:
    return {"day": day(i), **values}


def alternating(n: int, a: float, b: float, key: str = "rmssd_ms") -> list[dict[str, Any]]:
    """n daily records, `key` alternating a, b starting with a on day 0."""
    return [rec(i, **{key: a if i % 2 == 0 else b}) for i in range(n)]


def worked_example() -> list[dict[str, Any]]:
    """§11: 28 days alternating 50/70 ms, then 7 days at 40; sleep 6.5 h; load 0/100."""
    return [
        rec(
            i,
            rmssd_ms=(50 if i % 2 == 0 else 70) if i < 28 else 40,
            sleep_hours=6.5,
            training_load=0 if i % 2 == 0 else 100,
        )
        for i in range(35)
    ]


def only(rows: list[dict[str, Any]], i: int, *keys: str) -> tuple[Any, ...]:
    return tuple(rows[i][k] for k in keys)


# ---------------------------------------------------------------------------
# §11 worked example


def test_worked_example_day_28() -> None:
    r = assess(worked_example())[28]
    assert r["day"] == "2025-01-29"
    assert r["hrv_ref_n"] == 28
    assert r["hrv_ref_mean"] == pytest.approx((LN50 + LN70) / 2, abs=1e-6)
    assert r["hrv_ref_mean"] == pytest.approx(4.080259, abs=1e-4)
    assert r["hrv_ref_sd"] == pytest.approx(0.171323, abs=1e-4)
    assert r["hrv_ref_sd"] == pytest.approx(math.sqrt(28 * ((LN70 - LN50) / 2) ** 2 / 27), abs=1e-6)
    assert r["hrv_band_low"] == pytest.approx(3.994597, abs=1e-4)
    assert r["hrv_mean7"] == pytest.approx(4.024348, abs=1e-4)
    assert r["hrv_status"] == "within_normal"
    assert r["ln_rmssd"] == pytest.approx(3.688879, abs=1e-4)
    assert r["hrv_acute_low"] is True
    assert r["insight_ready_to_train"] is False


def test_worked_example_day_30() -> None:
    r = assess(worked_example())[30]
    assert r["hrv_mean7"] == pytest.approx(3.912525, abs=1e-4)
    assert r["hrv_band_low"] == pytest.approx(3.957747, abs=1e-4)
    assert r["hrv_status"] == "below_normal"
    assert r["hrv_week_delta"] == pytest.approx(-0.191768, abs=1e-4)
    assert r["hrv_ref_sd"] == pytest.approx(0.192840, abs=1e-4)
    assert r["hrv_trend"] == "down"
    assert r["insight_hrv_trending_down"] is True


def test_worked_example_day_34() -> None:
    r = assess(worked_example())[34]
    assert r["hrv_days_below_normal"] == 5
    assert r["hrv_cv7"] == 0.0
    assert r["sleep_debt_hours"] == pytest.approx(21.0, abs=1e-6)
    assert r["sleep_n14"] == 14
    assert r["training_load_7d"] == 300.0
    assert r["training_monotony"] == pytest.approx(0.866025, abs=1e-6)
    assert r["training_strain"] == pytest.approx(259.807621, abs=1e-6)
    assert r["monotony_high"] is False


# ---------------------------------------------------------------------------
# §9 output shape, §1 input handling


def test_output_fields_match_section_9_in_order() -> None:
    assert tuple(SECTION_9) == OUTPUT_FIELDS
    assert len(OUTPUT_FIELDS) == len(set(OUTPUT_FIELDS)) == 48
    for row in assess(worked_example()):
        assert list(row) == SECTION_9


def test_floats_are_rounded_to_six_decimals() -> None:
    for row in assess(worked_example()):
        for key, value in row.items():
            if isinstance(value, float):
                assert value == round(value, 6), key
                assert math.copysign(1.0, value) > 0 or value != 0, key  # no -0.0


def test_empty_input() -> None:
    assert assess([]) == []


def test_method_version() -> None:
    assert METHOD_VERSION == "1.0.0"


def test_duplicate_day_raises() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        assess([rec(0, rmssd_ms=50), rec(1), rec(0, rmssd_ms=60)])


@pytest.mark.parametrize("bad", [{}, {"day": None}, {"day": "2025-13-01"}, {"day": 20250101}])
def test_missing_or_malformed_day_raises(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="day"):
        assess([rec(0), bad])


def test_records_in_any_order() -> None:
    records = worked_example()
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    assert assess(shuffled) == assess(records)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rmssd_ms", True),
        ("rmssd_ms", math.nan),
        ("rmssd_ms", math.inf),
        ("rmssd_ms", -5.0),
        ("rmssd_ms", 0),
        ("rmssd_ms", "50"),
        ("resting_hr", 0.0),
        ("resting_hr", -60),
        ("resting_hr", False),
        ("sleep_hours", 25.0),
        ("sleep_hours", -0.1),
        ("sleep_hours", math.nan),
        ("training_load", -1),
        ("training_load", True),
        ("recovery_score", math.nan),
        ("readiness_score", True),
        ("strain", "12"),
    ],
)
def test_invalid_values_count_as_missing(field: str, value: Any) -> None:
    rows = assess([rec(0, **{field: value}), rec(1)])
    series = prepare([rec(0, **{field: value})])
    attr = "ln_rmssd" if field == "rmssd_ms" else field
    assert getattr(series, attr) == (None,)
    r = rows[0]
    assert r["record_present"] is True
    assert r["ln_rmssd"] is None
    assert r["hrv_n7"] == 0
    assert r["resting_hr"] is None
    assert r["sleep_hours"] is None
    assert r["sleep_n14"] == 0
    assert (r["recovery_zone"], r["readiness_band"], r["strain_band"]) == (None, None, None)


def test_boundary_values_are_valid() -> None:
    series = prepare(
        [
            rec(0, sleep_hours=0, training_load=0, rmssd_ms=1e-3, resting_hr=1),
            rec(1, sleep_hours=24, training_load=0.0),
        ]
    )
    assert series.sleep_hours == (0.0, 24.0)
    assert series.training_load == (0.0, 0.0)
    assert series.resting_hr == (1.0, None)
    assert series.ln_rmssd[0] == pytest.approx(math.log(1e-3))


# ---------------------------------------------------------------------------
# §2 windows, warm-up and gaps


def test_warmup_first_classified_day_is_index_28() -> None:
    rows = assess(alternating(40, 50, 70))
    statuses = [r["hrv_status"] for r in rows]
    assert all(s == "insufficient_data" for s in statuses[:28])
    assert statuses[28] == "within_normal"
    assert rows[27]["hrv_ref_n"] == 27
    assert rows[27]["hrv_ref_mean"] is None
    assert rows[27]["hrv_band_low"] is None
    assert rows[28]["hrv_ref_n"] == 28
    assert all(r["insight_ready_to_train"] is None for r in rows[:28])
    assert rows[28]["insight_ready_to_train"] is True
    # 7-day mean needs >= 3 valid days, CV >= 5.
    assert (rows[1]["hrv_mean7"], rows[2]["hrv_mean7"] is not None) == (None, True)
    assert (rows[3]["hrv_cv7"], rows[4]["hrv_cv7"] is not None) == (None, True)


def test_warmup_counts_valid_reference_days_only() -> None:
    records = alternating(40, 50, 70)
    records[5]["rmssd_ms"] = math.nan
    rows = assess(records)
    assert rows[28]["hrv_status"] == "insufficient_data"
    assert rows[28]["hrv_ref_n"] == 27
    assert rows[29]["hrv_status"] == "within_normal"


def test_reference_window_is_sixty_days_before_today() -> None:
    rows = assess(alternating(80, 50, 70))
    assert rows[59]["hrv_ref_n"] == 59
    assert rows[60]["hrv_ref_n"] == 60
    assert rows[79]["hrv_ref_n"] == 60
    # Today never enters its own reference: a spike today does not move the reference.
    records = alternating(61, 50, 70)
    records[60]["rmssd_ms"] = 500
    assert assess(records)[60]["hrv_ref_mean"] == rows[60]["hrv_ref_mean"]


def test_gaps_use_calendar_windows_and_get_rows() -> None:
    # Records on days 0..39, nothing on 40..49, records again on 50..55.
    records = [rec(i, rmssd_ms=50 if i % 2 == 0 else 70) for i in [*range(40), *range(50, 56)]]
    rows = assess(records)
    assert len(rows) == 56
    assert [r["day"] for r in rows] == [day(i) for i in range(56)]
    assert [r["record_present"] for r in rows[38:52]] == [True] * 2 + [False] * 10 + [True] * 2
    gap = rows[41]
    assert gap["ln_rmssd"] is None  # no carry-forward
    assert gap["hrv_n7"] == 5  # days 35..39 of the calendar window 35..41
    assert gap["hrv_status"] == "within_normal"  # a status on a gap day
    assert gap["hrv_acute_low"] is None  # today is missing
    assert gap["insight_ready_to_train"] is True  # a missing today does not block readiness
    assert rows[43]["hrv_n7"] == 3
    assert rows[43]["hrv_mean7"] is not None
    assert rows[44]["hrv_n7"] == 2
    assert rows[44]["hrv_mean7"] is None
    assert rows[44]["hrv_status"] == "insufficient_data"
    assert rows[45]["hrv_n7"] == 1
    assert rows[45]["hrv_cv7"] is None
    assert rows[52]["hrv_n7"] == 3  # 3 records in the window, not the last 7 records
    assert rows[52]["hrv_ref_n"] == 42  # days 0..39, 50, 51
    assert rows[45]["sleep_need_hours"] == 8.0


def test_week_delta_needs_both_means() -> None:
    rows = assess(alternating(20, 50, 70))
    assert rows[8]["hrv_week_delta"] is None  # mean7 of day 1 needs 3 values
    mean7_day9 = (4 * LN70 + 3 * LN50) / 7  # days 3..9
    mean7_day2 = (2 * LN50 + LN70) / 3  # days 0..2 (calendar window, partly before the data)
    assert rows[9]["hrv_week_delta"] == pytest.approx(mean7_day9 - mean7_day2, abs=1e-6)
    assert rows[9]["hrv_trend"] is None  # no reference yet


# ---------------------------------------------------------------------------
# §3 HRV


def test_sustained_drop() -> None:
    records = alternating(60, 50, 70) + [rec(i, rmssd_ms=35) for i in range(60, 75)]
    rows = assess(records)
    assert all(r["hrv_status"] == "within_normal" for r in rows[28:60])
    run = 0
    for r in rows:
        run = run + 1 if r["hrv_status"] == "below_normal" else 0
        assert r["hrv_days_below_normal"] == run
    assert rows[-1]["hrv_days_below_normal"] >= 10
    drop = rows[66]
    assert drop["hrv_status"] == "below_normal"
    assert drop["hrv_trend"] == "down"
    assert drop["insight_hrv_trending_down"] is True
    assert drop["insight_hrv_suppressed"] is True
    assert drop["insight_recovery_suppressed"] is True
    assert drop["insight_ready_to_train"] is False
    assert drop["hrv_z7"] < 0


def test_above_normal_is_not_ready() -> None:
    records = alternating(60, 50, 70) + [rec(i, rmssd_ms=100) for i in range(60, 67)]
    r = assess(records)[66]
    assert r["hrv_status"] == "above_normal"
    assert r["insight_ready_to_train"] is False
    assert r["insight_hrv_suppressed"] is False
    assert r["hrv_trend"] == "up"


def test_acute_dip_blocks_readiness_but_missing_today_does_not() -> None:
    records = [*alternating(60, 50, 70), rec(60, rmssd_ms=40), rec(61, resting_hr=55)]
    rows = assess(records)
    dip, missing = rows[60], rows[61]
    assert dip["hrv_status"] == "within_normal"
    assert dip["hrv_acute_low"] is True
    assert dip["insight_ready_to_train"] is False
    assert missing["ln_rmssd"] is None
    assert missing["hrv_status"] == "within_normal"
    assert missing["hrv_acute_low"] is None
    assert missing["insight_ready_to_train"] is True


def test_zero_reference_sd() -> None:
    rows = assess([rec(i, rmssd_ms=50) for i in range(40)])
    r = rows[30]
    assert r["hrv_ref_sd"] == 0.0
    assert r["hrv_z7"] is None
    assert r["hrv_band_low"] == r["hrv_band_high"] == r["hrv_ref_mean"]
    assert r["hrv_status"] == "within_normal"  # strict comparisons: equal is within
    assert r["hrv_acute_low"] is False
    assert r["hrv_cv7"] == 0.0
    assert r["hrv_trend"] == "flat"


def test_cv7_with_zero_mean_is_none() -> None:
    rows = assess([rec(i, rmssd_ms=1) for i in range(10)])
    assert rows[9]["hrv_mean7"] == 0.0
    assert rows[9]["hrv_cv7"] is None


# ---------------------------------------------------------------------------
# §4 RHR


def rhr_case(today: float | None, a: float = 59, b: float = 61) -> dict[str, Any]:
    records = alternating(60, a, b, key="resting_hr")
    records.append(rec(60) if today is None else rec(60, resting_hr=today))
    return assess(records)[60]


def test_rhr_elevated_needs_sd_arm_and_three_bpm() -> None:
    small_sd = rhr_case(63)  # ref mean exactly 60, SD ~1.008
    assert small_sd["rhr_ref_mean"] == 60.0
    assert small_sd["rhr_delta"] == 3.0
    assert small_sd["rhr_elevated"] is True  # >= 3 bpm, inclusive
    assert rhr_case(62.9)["rhr_elevated"] is False  # > 1 SD but < 3 bpm
    assert rhr_case(60.5)["rhr_elevated"] is False
    big_sd = rhr_case(65, 50, 70)  # SD ~10.08
    assert big_sd["rhr_delta"] == 5.0
    assert big_sd["rhr_elevated"] is False  # >= 3 bpm but not > 1 SD
    assert rhr_case(71, 50, 70)["rhr_elevated"] is True
    assert rhr_case(None)["rhr_elevated"] is None
    assert rhr_case(None)["rhr_delta"] is None


def test_rhr_status_and_band() -> None:
    records = alternating(60, 59, 61, key="resting_hr")
    records += [rec(i, resting_hr=64) for i in range(60, 67)]
    rows = assess(records)
    assert rows[59]["rhr_status"] == "within_normal"
    assert rows[66]["rhr_status"] == "above_normal"
    assert rows[66]["rhr_band_high"] == pytest.approx(
        rows[66]["rhr_ref_mean"] + 0.5 * rows[66]["rhr_ref_sd"], abs=2e-6
    )
    low = alternating(60, 59, 61, key="resting_hr") + [rec(i, resting_hr=56) for i in range(60, 67)]
    assert assess(low)[66]["rhr_status"] == "below_normal"
    assert rows[27]["rhr_status"] == "insufficient_data"


# ---------------------------------------------------------------------------
# §5 sleep


def test_sleep_debt_gives_no_credit_for_oversleep() -> None:
    rows = assess(alternating(14, 9.0, 6.0, key="sleep_hours"))
    r = rows[13]
    assert r["sleep_n14"] == 14
    assert r["sleep_debt_hours"] == pytest.approx(14.0)  # 7 nights x 2 h, no credit
    assert r["sleep_balance_hours"] == pytest.approx(-7.0)  # 7 x +1 + 7 x -2
    assert r["short_sleep_night"] is True
    assert rows[12]["short_sleep_night"] is False
    assert r["sleep_mean7"] == pytest.approx((3 * 9 + 4 * 6) / 7)
    assert r["sleep_insufficient"] is False
    assert r["insight_sleep_debt"] is False


def test_sleep_debt_needs_seven_valid_nights() -> None:
    records = [rec(i, sleep_hours=6.0 if i % 2 == 0 else None) for i in range(14)]
    rows = assess(records)
    assert rows[11]["sleep_n14"] == 6
    assert rows[11]["sleep_debt_hours"] is None
    assert rows[11]["sleep_balance_hours"] is None
    assert rows[12]["sleep_n14"] == 7
    assert rows[12]["sleep_debt_hours"] == pytest.approx(14.0)
    # the window is 14 calendar days: night 0 leaves it on day 14
    rows = assess([rec(i, sleep_hours=7.0 if i else 0.0) for i in range(16)])
    assert rows[13]["sleep_debt_hours"] == pytest.approx(8 + 13 * 1.0)
    assert rows[14]["sleep_debt_hours"] == pytest.approx(14 * 1.0)


def test_sleep_need_override_and_option() -> None:
    records = [rec(i, sleep_hours=7.0, sleep_need_hours=9.0) for i in range(7)]
    records[0]["sleep_need_hours"] = math.nan  # invalid: default applies
    records[1]["sleep_need_hours"] = 0  # invalid need (see module)
    rows = assess(records)
    assert rows[0]["sleep_need_hours"] == 8.0
    assert rows[2]["sleep_need_hours"] == 9.0
    assert rows[6]["sleep_debt_hours"] == pytest.approx(2 * 1.0 + 5 * 2.0)
    plain = [rec(i, sleep_hours=7.0) for i in range(7)]
    assert assess(plain)[6]["sleep_debt_hours"] == pytest.approx(7.0)
    short_need = assess(plain, MethodOptions(default_sleep_need_hours=7.5))[6]
    assert short_need["sleep_debt_hours"] == pytest.approx(3.5)
    assert short_need["sleep_need_hours"] == 7.5


def test_sleep_mean7_minimum_and_insufficient() -> None:
    rows = assess([rec(i, sleep_hours=6.0) for i in range(3)])
    assert rows[1]["sleep_mean7"] is None
    assert rows[1]["sleep_insufficient"] is None
    assert rows[1]["insight_sleep_debt"] is None
    assert rows[2]["sleep_mean7"] == 6.0
    assert rows[2]["sleep_insufficient"] is True
    assert rows[2]["insight_sleep_debt"] is True
    assert assess([rec(0, sleep_hours=7.0)])[0]["short_sleep_night"] is False


# ---------------------------------------------------------------------------
# §6 training load


def training(loads: list[float | None]) -> list[dict[str, Any]]:
    records = [rec(i) if v is None else rec(i, training_load=v) for i, v in enumerate(loads)]
    return assess(records)


def test_monotony_window_inside_span() -> None:
    rows = training([100.0] * 8)
    assert all(r["training_monotony"] is None for r in rows[:6])
    assert all(r["training_load_7d"] is None for r in rows[:6])
    assert rows[6]["training_load_7d"] == 700.0


def test_monotony_sd_zero_caps_at_ten() -> None:
    r = training([100.0] * 7)[6]
    assert r["training_monotony"] == 10.0
    assert r["training_strain"] == 7000.0
    assert r["monotony_high"] is True


def test_monotony_cap_applies_to_large_ratios() -> None:
    r = training([100.0] * 6 + [101.0])[6]
    assert r["training_monotony"] == 10.0


def test_monotony_mean_zero_is_none() -> None:
    r = training([0.0] * 7)[6]
    assert r["training_load_7d"] == 0.0
    assert r["training_monotony"] is None
    assert r["training_strain"] is None
    assert r["monotony_high"] is None


def test_monotony_needs_a_load_and_counts_missing_as_zero() -> None:
    rows = training([None] * 7 + [70.0])
    assert rows[6]["training_load_7d"] is None
    r = rows[7]
    assert r["training_load_7d"] == 70.0
    # loads 0 x 6, 70: mean 10, population SD sqrt(600)
    assert r["training_monotony"] == pytest.approx(10 / math.sqrt(600), abs=1e-6)
    assert r["training_strain"] == pytest.approx(70 * 10 / math.sqrt(600), abs=1e-6)
    assert r["monotony_high"] is False
    gaps = assess([rec(0, training_load=100), rec(6, training_load=100)])[6]
    assert gaps["training_load_7d"] == 200.0


# ---------------------------------------------------------------------------
# §7 vendor bands


@pytest.mark.parametrize(
    ("score", "zone"),
    [
        (0, "red"),
        (33, "red"),
        (33.5, "yellow"),
        (34, "yellow"),
        (66, "yellow"),
        (66.9, "yellow"),
        (67, "green"),
        (100, "green"),
    ],
)
def test_recovery_zone(score: float, zone: str) -> None:
    assert assess([rec(0, recovery_score=score)])[0]["recovery_zone"] == zone


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "pay_attention"),
        (59, "pay_attention"),
        (59.9, "pay_attention"),
        (60, "fair"),
        (69, "fair"),
        (69.5, "fair"),
        (70, "good"),
        (84, "good"),
        (84.5, "good"),
        (85, "optimal"),
        (100, "optimal"),
    ],
)
def test_readiness_band(score: float, band: str) -> None:
    assert assess([rec(0, readiness_score=score)])[0]["readiness_band"] == band


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "light"),
        (9.99, "light"),
        (10, "moderate"),
        (13.99, "moderate"),
        (14, "high"),
        (17.99, "high"),
        (18, "all_out"),
        (21, "all_out"),
    ],
)
def test_strain_band(score: float, band: str) -> None:
    assert assess([rec(0, strain=score)])[0]["strain_band"] == band


# ---------------------------------------------------------------------------
# §8 composites, Kleene logic


def composite(
    status: str, trend: str | None, acute: bool | None, elevated: bool | None
) -> dict[str, Any]:
    return insights(
        {
            "hrv_status": status,
            "hrv_trend": trend,
            "hrv_acute_low": acute,
            "rhr_elevated": elevated,
            "sleep_insufficient": None,
        }
    )


@pytest.mark.parametrize(
    ("status", "acute", "elevated", "expected"),
    [
        ("insufficient_data", True, True, True),  # null OR true = true
        ("insufficient_data", True, False, None),  # null OR false = null
        ("insufficient_data", None, False, None),
        ("within_normal", None, False, False),  # false OR (null AND false) = false
        ("within_normal", None, True, None),  # false OR (null AND true) = null
        ("within_normal", True, None, None),
        ("within_normal", False, None, False),
        ("within_normal", True, True, True),
        ("below_normal", None, None, True),
    ],
)
def test_recovery_suppressed_kleene(
    status: str, acute: bool | None, elevated: bool | None, expected: bool | None
) -> None:
    assert composite(status, None, acute, elevated)["insight_recovery_suppressed"] is expected


@pytest.mark.parametrize(
    ("status", "trend", "expected"),
    [
        ("within_normal", None, False),  # false AND null = false
        ("below_normal", None, None),
        ("below_normal", "down", True),
        ("below_normal", "flat", False),
        ("insufficient_data", "up", False),  # null AND false = false
        ("insufficient_data", "down", None),
    ],
)
def test_trending_down_kleene(status: str, trend: str | None, expected: bool | None) -> None:
    assert composite(status, trend, None, None)["insight_hrv_trending_down"] is expected


@pytest.mark.parametrize(
    ("status", "acute", "expected"),
    [
        ("within_normal", False, True),
        ("within_normal", None, True),  # a missing reading today does not block readiness
        ("within_normal", True, False),
        ("above_normal", False, False),
        ("below_normal", None, False),
        ("insufficient_data", False, None),
    ],
)
def test_ready_to_train(status: str, acute: bool | None, expected: bool | None) -> None:
    assert composite(status, None, acute, None)["insight_ready_to_train"] is expected


def test_recovery_suppressed_end_to_end() -> None:
    # HRV on days 0..59 and 65 only: on day 65 mean7 has 2 values (insufficient) but
    # the reference exists, so acute_low is known. RHR 59/61 then 64 on day 65.
    records = [
        rec(i, rmssd_ms=50 if i % 2 == 0 else 70, resting_hr=59 if i % 2 == 0 else 61)
        for i in range(60)
    ]
    records += [rec(i, resting_hr=60) for i in range(60, 65)]
    records.append(rec(65, rmssd_ms=30, resting_hr=64))
    r = assess(records)[65]
    assert r["hrv_status"] == "insufficient_data"
    assert r["insight_hrv_suppressed"] is None
    assert (r["hrv_acute_low"], r["rhr_elevated"]) == (True, True)
    assert r["insight_recovery_suppressed"] is True
    assert r["insight_ready_to_train"] is None


# ---------------------------------------------------------------------------
# options


def test_swc_multiplier_widens_band() -> None:
    default = assess(worked_example())[30]
    wide = assess(worked_example(), MethodOptions(swc_multiplier=1.0))[30]
    assert default["hrv_status"] == "below_normal"
    assert wide["hrv_band_low"] == pytest.approx(
        wide["hrv_ref_mean"] - wide["hrv_ref_sd"], abs=2e-6
    )
    assert wide["hrv_status"] == "within_normal"
    assert default["hrv_trend"] == "down"
    assert wide["hrv_trend"] == "flat"  # week_delta -0.191768 is not < -1.0 x 0.192840
    assert wide["insight_ready_to_train"] is False  # still acute low


def test_other_options() -> None:
    assert (
        assess(worked_example(), MethodOptions(acute_multiplier=3.0))[28]["hrv_acute_low"] is False
    )
    assert rhr_case(63)["rhr_elevated"] is True
    records = [*alternating(60, 59, 61, key="resting_hr"), rec(60, resting_hr=63)]
    strict = assess(records, MethodOptions(rhr_elevated_min_bpm=5.0))[60]
    assert strict["rhr_elevated"] is False
    early = assess(alternating(20, 50, 70), MethodOptions(min_reference_days=14))
    assert early[13]["hrv_status"] == "insufficient_data"
    assert early[14]["hrv_status"] == "within_normal"


def test_options_defaults_and_validation() -> None:
    opts = MethodOptions()
    assert (opts.swc_multiplier, opts.acute_multiplier, opts.default_sleep_need_hours) == (
        0.5,
        1.0,
        8.0,
    )
    assert (opts.rhr_elevated_min_bpm, opts.min_reference_days, opts.alert_after_days) == (
        3.0,
        28,
        1,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.swc_multiplier = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="min_reference_days"):
        MethodOptions(min_reference_days=1)
    with pytest.raises(ValueError, match="swc_multiplier"):
        MethodOptions(swc_multiplier=-0.5)
    with pytest.raises(ValueError, match="alert_after_days"):
        MethodOptions(alert_after_days=0)


# ---------------------------------------------------------------------------
# analyzers called separately, sources


def test_analyzers_separately_equal_assess() -> None:
    records = worked_example()
    series = prepare(records)
    parts = {
        "bands": assess_bands(series),
        "hrv": assess_hrv(series),
        "rhr": assess_rhr(series),
        "sleep": assess_sleep(series),
        "training": assess_training(series),
    }
    assert set(parts["hrv"][0]) == set(m.HRV_FIELDS)
    assert set(parts["rhr"][0]) == set(m.RHR_FIELDS)
    assert set(parts["sleep"][0]) == set(m.SLEEP_FIELDS)
    assert set(parts["training"][0]) == set(m.TRAINING_FIELDS)
    assert set(parts["bands"][0]) == set(m.BAND_FIELDS)
    assert combine(series, parts) == assess(records)
    assert combine(series, list(parts.values())) == assess(records)
    del parts["sleep"]
    with pytest.raises(ValueError, match="missing"):
        combine(series, parts)


def test_field_sources_cover_every_output_field() -> None:
    covered = {f for src in FIELD_SOURCES.values() for f in src.fields}
    assert covered == set(OUTPUT_FIELDS) - {"day", "record_present"}
    assert all(src.grade in {"P", "V", "E"} and src.citation for src in FIELD_SOURCES.values())
    assert FIELD_SOURCES["rhr_elevated"].grade == "E"


# ---------------------------------------------------------------------------
# §12 operating characteristics under stationarity


def test_simulation_matches_section_12() -> None:
    rng = random.Random(12345)
    records = [
        rec(
            i,
            rmssd_ms=math.exp(rng.gauss(4.0, 0.25)),
            resting_hr=rng.gauss(55.0, 1.6),
            sleep_hours=rng.gauss(7.5, 0.7),
        )
        for i in range(3060)
    ]
    rows = assess(records)[60:]

    def frac(key: str, value: Any) -> float:
        return sum(r[key] == value for r in rows) / len(rows)

    expected = {
        ("hrv_status", "below_normal"): (0.08, 0.03),
        ("hrv_status", "above_normal"): (0.08, 0.03),
        ("hrv_acute_low", True): (0.15, 0.04),
        ("hrv_trend", "down"): (0.18, 0.04),
        ("insight_hrv_trending_down", True): (0.06, 0.03),
        ("insight_recovery_suppressed", True): (0.08, 0.03),
        ("insight_ready_to_train", True): (0.72, 0.05),
        ("rhr_elevated", True): (0.03, 0.02),
        ("rhr_status", "above_normal"): (0.09, 0.03),
    }
    for (key, value), (target, tol) in expected.items():
        assert frac(key, value) == pytest.approx(target, abs=tol), (key, value)
    runs = sum(r["hrv_days_below_normal"] >= 3 for r in rows) / len(rows)
    assert runs == pytest.approx(0.03, abs=0.02)
