"""Findings: what the method's rows say, with the numbers, rule, source grade and day.

Pure functions over assessed rows (section 9 fields), so they are unit-tested without a
server. Every finding names the rule it comes from and that rule's grade: P
(peer-reviewed), V (vendor documentation) or E (our own engineering choice). An E rule is
never presented as science.

Every finding carries the `day` of the row it states (`latest.analyzer_findings` picks
the rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auren_graphs.analysis.method import FIELD_SOURCES, FieldSource, MethodOptions

Row = Mapping[str, Any]
Finding = dict[str, Any]

GRADE_WORDS = {
    "P": "a peer-reviewed rule",
    "V": "a vendor's published rule",
    "E": "our own engineering choice, not a published rule",
}

_STATUS_WORDS = {
    "below_normal": "below your normal range",
    "within_normal": "within your normal range",
    "above_normal": "above your normal range",
}


# Rules of the findings that are not output fields of the method.
FINDING_SOURCES: Mapping[str, FieldSource] = {
    "hrv_sdnn_not_comparable": FieldSource(
        "P",
        "the HRV rules are defined on nightly or morning rMSSD (method §1, §3: Plews 2012, "
        "2013); SDNN depends on the length and conditions of the recording, and SDNN from "
        "recordings of different durations must not be compared: Task Force of the ESC and "
        "NASPE, Circulation 1996",
        "§1",
        (),
    ),
}


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def finding(
    row: Row,
    *,
    id: str,
    analyzer: str,
    rule: str,
    title: str,
    summary: str,
    severity: str = "info",
    values: Mapping[str, Any] | None = None,
    confidence: float = 1.0,
) -> Finding:
    source = FIELD_SOURCES[rule] if rule in FIELD_SOURCES else FINDING_SOURCES[rule]
    return {
        "id": id,
        "analyzer": analyzer,
        "day": str(row["day"]),
        "title": title,
        "summary": summary,
        "severity": severity,
        "values": dict(values or {}),
        "rule": rule,
        "source": source.citation,
        "grade": source.grade,
        "grade_words": GRADE_WORDS[source.grade],
        "confidence": round(confidence, 3),
    }


def days_words(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _coverage(row: Row, n7: str, ref_n: str, options: MethodOptions) -> float:
    week = min(1.0, (row.get(n7) or 0) / 7)
    reference = min(1.0, (row.get(ref_n) or 0) / max(options.min_reference_days, 1))
    return round((week + reference) / 2, 3)


def _baseline_finding(
    row: Row, analyzer: str, prefix: str, label: str, options: MethodOptions
) -> Finding:
    status = row[f"{prefix}_status"]
    coverage = _coverage(row, f"{prefix}_n7", f"{prefix}_ref_n", options)
    if status == "insufficient_data":
        return finding(
            row,
            id=f"{prefix}_status",
            analyzer=analyzer,
            rule="baseline_warmup",
            title=f"Not enough {label} history yet",
            summary=(
                f"{label}: {row[f'{prefix}_ref_n']} of {options.min_reference_days} reference days "
                f"and {row[f'{prefix}_n7']} of 7 recent days have data."
            ),
            values={"ref_n": row[f"{prefix}_ref_n"], "n7": row[f"{prefix}_n7"]},
            confidence=coverage,
        )
    low, high, mean7 = row[f"{prefix}_band_low"], row[f"{prefix}_band_high"], row[f"{prefix}_mean7"]
    flagged = (status == "below_normal") if prefix == "hrv" else (status == "above_normal")
    return finding(
        row,
        id=f"{prefix}_status",
        analyzer=analyzer,
        rule=f"{prefix}_status",
        title=f"{label} {_STATUS_WORDS[status]}",
        summary=(
            f"Your 7-day {label} average is {_fmt(mean7)}, {_STATUS_WORDS[status]} "
            f"({_fmt(low)} to {_fmt(high)})."
        ),
        severity="watch" if flagged else "info",
        values={"mean7": mean7, "band_low": low, "band_high": high, "status": status},
        confidence=coverage,
    )


def hrv_findings(row: Row, options: MethodOptions) -> list[Finding]:
    out = [_baseline_finding(row, "hrv", "hrv", "HRV (lnRMSSD)", options)]
    if row["hrv_acute_low"]:
        out.append(
            finding(
                row,
                id="hrv_acute_low",
                analyzer="hrv",
                rule="hrv_acute_low",
                severity="watch",
                title="HRV that night well below your normal",
                summary=f"On {row['day']} your lnRMSSD {_fmt(row['ln_rmssd'])} was more than one "
                f"SD below your reference mean {_fmt(row['hrv_ref_mean'])}.",
                values={
                    "ln_rmssd": row["ln_rmssd"],
                    "ref_mean": row["hrv_ref_mean"],
                    "ref_sd": row["hrv_ref_sd"],
                },
            )
        )
    if row["hrv_trend"] in ("down", "up"):
        out.append(
            finding(
                row,
                id="hrv_trend",
                analyzer="hrv",
                rule="hrv_trend",
                title=f"HRV trending {row['hrv_trend']}",
                summary=f"Your 7-day HRV average moved {_fmt(row['hrv_week_delta'], 3)} in a week, "
                "more than the smallest worthwhile change.",
                values={"week_delta": row["hrv_week_delta"], "trend": row["hrv_trend"]},
            )
        )
    days_below = row["hrv_days_below_normal"] or 0
    if days_below >= options.alert_after_days:
        out.append(
            finding(
                row,
                id="hrv_alert",
                analyzer="hrv",
                rule="alert_persistence",
                severity="alert",
                title="HRV below normal for several days",
                summary=f"HRV has been below your normal range for {days_words(days_below)} "
                f"in a row; the alert threshold is {options.alert_after_days}.",
                values={
                    "days_below_normal": days_below,
                    "alert_after_days": options.alert_after_days,
                },
            )
        )
    return out


def rhr_findings(row: Row, options: MethodOptions) -> list[Finding]:
    out = [_baseline_finding(row, "rhr", "rhr", "resting heart rate", options)]
    if row["rhr_elevated"]:
        out.append(
            finding(
                row,
                id="rhr_elevated",
                analyzer="rhr",
                rule="rhr_elevated",
                severity="watch",
                title="Resting heart rate elevated",
                summary=f"On {row['day']} your resting heart rate {_fmt(row['resting_hr'])} bpm "
                f"was {_fmt(row['rhr_delta'])} bpm above your reference mean.",
                values={"resting_hr": row["resting_hr"], "delta": row["rhr_delta"]},
            )
        )
    return out


def sleep_findings(row: Row, options: MethodOptions) -> list[Finding]:
    out: list[Finding] = []
    if row["sleep_debt_hours"] is not None:
        out.append(
            finding(
                row,
                id="sleep_debt",
                analyzer="sleep",
                rule="sleep_debt",
                severity="watch" if row["sleep_debt_hours"] >= 7 else "info",
                title="Sleep debt over the last 14 days",
                summary=f"Over {row['sleep_n14']} nights you slept "
                f"{_fmt(row['sleep_debt_hours'], 1)} h less in total than your "
                f"{_fmt(row['sleep_need_hours'], 1)} h nightly need.",
                values={
                    "debt_hours": row["sleep_debt_hours"],
                    "need_hours": row["sleep_need_hours"],
                    "nights": row["sleep_n14"],
                },
                confidence=min(1.0, (row["sleep_n14"] or 0) / 14),
            )
        )
    if row["sleep_mean7"] is not None:
        short = bool(row["sleep_insufficient"])
        out.append(
            finding(
                row,
                id="sleep_duration",
                analyzer="sleep",
                rule="sleep_short",
                severity="watch" if short else "info",
                title="Sleeping less than 7 hours" if short else "Sleeping 7 hours or more",
                summary=f"Your 7-day sleep average is {_fmt(row['sleep_mean7'], 1)} h; adults "
                "should sleep 7 h or more regularly.",
                values={"mean7_hours": row["sleep_mean7"]},
            )
        )
    return out


def training_findings(row: Row, options: MethodOptions) -> list[Finding]:
    if row["training_monotony"] is None:
        return []
    high = bool(row["monotony_high"])
    return [
        finding(
            row,
            id="training_monotony",
            analyzer="training",
            rule="training_monotony",
            severity="watch" if high else "info",
            title="Training is monotonous" if high else "Training load varies enough",
            summary=f"Weekly load {_fmt(row['training_load_7d'], 1)}, monotony "
            f"{_fmt(row['training_monotony'])}, strain {_fmt(row['training_strain'], 1)}.",
            values={
                "load_7d": row["training_load_7d"],
                "monotony": row["training_monotony"],
                "strain": row["training_strain"],
            },
        )
    ]


def _words(label: str) -> str:
    return label.replace("_", " ")


BANDS = (
    ("recovery_zone", "WHOOP recovery zone"),
    ("readiness_band", "Oura readiness band"),
    ("strain_band", "WHOOP strain band"),
)


def band_findings(row: Row, options: MethodOptions) -> list[Finding]:
    return [
        finding(
            row,
            id=field,
            analyzer="bands",
            rule=field,
            title=f"{label}: {_words(row[field])}",
            summary=f"The vendor's own score puts {row['day']} in its {_words(row[field])} band.",
            values={"band": row[field]},
        )
        for field, label in BANDS
        if row[field] is not None
    ]


_INSIGHTS = (
    ("insight_recovery_suppressed", "Recovery is suppressed", "alert"),
    ("insight_hrv_trending_down", "HRV trending down below normal", "watch"),
    ("insight_sleep_debt", "Sleep debt", "watch"),
)


def insight_findings(row: Row) -> list[Finding]:
    out = [
        finding(
            row,
            id=field,
            analyzer="composite",
            rule=field,
            title=title,
            severity=severity,
            summary=f"{title}: the combined rule holds on {row['day']}.",
            values={field: True},
        )
        for field, title, severity in _INSIGHTS
        if row.get(field) is True
    ]
    ready = row.get("insight_ready_to_train")
    if ready is not None:
        out.append(
            finding(
                row,
                id="insight_ready_to_train",
                analyzer="composite",
                rule="insight_ready_to_train",
                title="Ready to train" if ready else "Keep intensity low",
                summary=f"On {row['day']} HRV was within your normal range with no acute drop."
                if ready
                else f"On {row['day']} HRV was outside your normal range or dropped sharply.",
                values={"ready": ready},
            )
        )
    return out


ANALYZERS: Mapping[str, Callable[[Row, MethodOptions], list[Finding]]] = {
    "hrv": hrv_findings,
    "rhr": rhr_findings,
    "sleep": sleep_findings,
    "training": training_findings,
    "bands": band_findings,
}
