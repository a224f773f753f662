"""Which day each finding describes: the newest day on which its analyzer's own input
was recorded.

HRV that stopped arriving a week ago is reported as of that day, not as "not enough
history" on the newest day of some other metric; a vendor band comes from the newest
day the vendor scored. A user whose HRV is only Apple's SDNN gets a finding that says why
HRV is not analysed and what is analysed instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auren_graphs.analysis import findings
from auren_graphs.analysis.findings import Finding
from auren_graphs.analysis.method import MethodOptions, Row, Series

# Which input of the series each analyzer's findings speak about (bands: one per band).
_OWN_INPUTS: Mapping[str, tuple[str, ...]] = {
    "hrv": ("ln_rmssd",),
    "rhr": ("resting_hr",),
    "sleep": ("sleep_hours",),
    "training": ("training_load",),
    "recovery_zone": ("recovery_score",),
    "readiness_band": ("readiness_score",),
    "strain_band": ("strain",),
}

# Method inputs (series.INPUTS fields) in words, for "what is analysed instead".
ANALYSED_INPUTS: Mapping[str, str] = {
    "resting_hr": "resting heart rate",
    "sleep_hours": "sleep",
    "training_load": "training load",
    "recovery_score": "WHOOP recovery",
    "readiness_score": "Oura readiness",
    "strain": "WHOOP strain",
}


def newest_index(series: Series, inputs: Sequence[str]) -> int | None:
    """The index of the newest day on which one of `inputs` has a valid value, if any."""
    columns = [getattr(series, name) for name in inputs]
    for i in range(len(series) - 1, -1, -1):
        if any(column[i] is not None for column in columns):
            return i
    return None


def _dated(series: Series, rows: Sequence[Row], i: int) -> dict[str, Any]:
    return {"day": series.days[i].isoformat(), **rows[i]}


def analyzer_findings(
    name: str,
    series: Series,
    rows: Sequence[Row],
    options: MethodOptions,
    *,
    inputs: Mapping[str, Any] | None = None,
    hrv_sdnn: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """One analyzer's findings, each from the newest day its own input was recorded.

    `rows` are the analyzer's method rows, one per day of `series`. `inputs` are the
    method inputs the user has (as `series.to_records` reports them, field -> device),
    and `hrv_sdnn` a summary of Apple's SDNN when the user has any: with no rMSSD at all,
    the HRV analyzer then says why HRV is not analysed and what is instead.
    """
    if name == "bands":
        out: list[Finding] = []
        for field, _label in findings.BANDS:
            i = newest_index(series, _OWN_INPUTS[field])
            if i is not None:
                found = findings.band_findings(_dated(series, rows, i), options)
                out += [f for f in found if f["id"] == field]
        return out
    i = newest_index(series, _OWN_INPUTS[name])
    if i is not None:
        return findings.ANALYZERS[name](_dated(series, rows, i), options)
    if name == "hrv" and hrv_sdnn:
        return [sdnn_only_finding(hrv_sdnn, inputs or {})]
    return []


def sdnn_only_finding(hrv_sdnn: Mapping[str, Any], inputs: Mapping[str, Any]) -> Finding:
    """HRV that is only SDNN spot checks (Apple): why it is not analysed, what is instead."""
    instead = [words for field, words in ANALYSED_INPUTS.items() if field in inputs]
    if instead:
        then = f"Analysed instead: {', '.join(instead)}."
    else:
        then = (
            "Nothing else is analysed yet: resting heart rate and sleep are, as soon as they "
            "arrive (Apple Health exports carry both)."
        )
    days = int(hrv_sdnn.get("days") or 0)
    return findings.finding(
        {"day": hrv_sdnn["newest_day"]},
        id="hrv_not_analysed",
        analyzer="hrv",
        rule="hrv_sdnn_not_comparable",
        title="HRV not analysed: your HRV comes as SDNN spot checks",
        summary=f"Your HRV is Apple's SDNN from spot checks ({findings.days_words(days)}, newest "
        f"{hrv_sdnn['newest_day']}). SDNN spot checks are not comparable with the overnight "
        f"rMSSD baseline the HRV rules use, so HRV is not analysed. {then}",
        values={"sdnn_days": days, "analysed_instead": instead},
    )
