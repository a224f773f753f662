"""Where every rule comes from (§0 grading) and the §9 output fields, in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


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
