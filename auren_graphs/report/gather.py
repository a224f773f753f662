"""What a user's report shows, read from the store and computed with the published method.

The series is read exactly as the analysis graph reads it (`analysis.series`), over the
report's days plus the method's 60-day reference and one week before them, so the normal
band exists from the first day shown. `assess` gives the per-day rows the charts draw
(7-day means, normal bands, sleep debt, monotony). Findings are the ones the analysis
graph remembered under `auren_contract.findings_namespace(user)`. Device connections come from the
caller (`connections`), since they live outside the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from langgraph.store.base import BaseStore, Item, SearchOp

from auren_contract import findings_namespace, user_namespace
from auren_graphs.analysis import method
from auren_graphs.analysis.series import read_rows, sdnn_summary, to_records

MAX_DAYS: Final = 730
# Days read before the first day shown: the 60-day reference and one week of means.
HISTORY_DAYS: Final = method.REFERENCE_DAYS + method.WEEK_DAYS

# The method row fields (§9) the charts draw, besides the inputs themselves.
CHART_FIELDS: Final = (
    "ln_rmssd",
    "hrv_mean7",
    "hrv_band_low",
    "hrv_band_high",
    "resting_hr",
    "rhr_mean7",
    "rhr_band_low",
    "rhr_band_high",
    "sleep_hours",
    "sleep_need_hours",
    "sleep_debt_hours",
    "training_load_7d",
    "training_monotony",
)

# The metrics whose freshness the report lists, with their words.
METRIC_LABELS: Final[Mapping[str, str]] = {
    "hrv_rmssd": "HRV (rMSSD)",
    "hrv_sdnn": "HRV (SDNN spot checks)",
    "resting_heart_rate": "Resting heart rate",
    "sleep_duration": "Sleep duration",
    "training_load": "Training load",
    "recovery_score": "WHOOP recovery",
    "strain": "WHOOP strain",
    "readiness_score": "Oura readiness",
}

Values = list[float | None]


@dataclass(frozen=True, slots=True)
class MetricFreshness:
    """The newest day of one metric in the days read, and how many days had it."""

    metric: str
    label: str
    newest_day: date | None
    days_with_data: int
    devices: tuple[str, ...]

    def age_days(self, end: date) -> int | None:
        return None if self.newest_day is None else (end - self.newest_day).days


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the page shows; plain values, so `render_report` is a pure function."""

    user_id: str
    start: date
    end: date
    generated_at: datetime
    days: tuple[date, ...]
    series: Mapping[str, Values]
    freshness: tuple[MetricFreshness, ...]
    findings: tuple[Mapping[str, Any], ...]
    connections: tuple[Mapping[str, Any], ...]
    input_devices: Mapping[str, str]
    hrv_sdnn: Mapping[str, Any] | None
    history_read_days: int
    has_any_data: bool
    method_version: str = method.METHOD_VERSION
    options: method.MethodOptions = field(default_factory=method.MethodOptions)

    @property
    def is_empty(self) -> bool:
        """No value of any charted metric in the days shown."""
        return not any(v is not None for values in self.series.values() for v in values)

    @property
    def newest_day(self) -> date | None:
        days = [f.newest_day for f in self.freshness if f.newest_day is not None]
        return max(days) if days else None


def _day_list(start: date, end: date) -> tuple[date, ...]:
    return tuple(start + timedelta(days=n) for n in range((end - start).days + 1))


def _daily_means(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """A metric's value per day: the mean of the day's rows (SDNN spot checks)."""
    by_day: dict[str, list[float]] = {}
    for row in rows:
        by_day.setdefault(str(row["day"]), []).append(float(row["value"]))
    return {day: sum(v) / len(v) for day, v in by_day.items()}


def chart_series(
    records: Sequence[Mapping[str, Any]],
    rows_by_metric: Mapping[str, Sequence[Mapping[str, Any]]],
    days: Sequence[date],
    options: method.MethodOptions,
) -> dict[str, Values]:
    """The method's rows and the raw inputs, aligned on `days` (None where nothing is).

    The method's rows run from the first record read to the last; a day shown outside
    them has no value at all: nothing is carried forward or interpolated.
    """
    assessed = {row["day"]: row for row in method.assess(records, options)}
    by_day = {str(record["day"]): record for record in records}
    out: dict[str, Values] = {}
    for name in CHART_FIELDS:
        out[name] = [_number(assessed.get(d.isoformat(), {}).get(name)) for d in days]
    # The input itself (the method rows carry only the weekly load), and Apple's SDNN.
    out["training_load"] = [
        _number(by_day.get(d.isoformat(), {}).get("training_load")) for d in days
    ]
    sdnn = _daily_means(rows_by_metric.get("hrv_sdnn", ()))
    out["hrv_sdnn"] = [sdnn.get(d.isoformat()) for d in days]
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def metric_freshness(
    rows_by_metric: Mapping[str, Sequence[Mapping[str, Any]]],
) -> tuple[MetricFreshness, ...]:
    out = []
    for metric, label in METRIC_LABELS.items():
        rows = rows_by_metric.get(metric, ())
        days = sorted({str(row["day"]) for row in rows})
        out.append(
            MetricFreshness(
                metric=metric,
                label=label,
                newest_day=date.fromisoformat(days[-1]) if days else None,
                days_with_data=len(days),
                devices=tuple(sorted({str(row["device"]) for row in rows})),
            )
        )
    return tuple(out)


def latest_findings(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per analyzer, the findings of the newest day it described (its latest analysis).

    Older days of the same analyzer are history, not the current state: an alert that
    was not raised again by a newer analysis is not listed.
    """
    findings = [dict(item) for item in items if item.get("day") and item.get("analyzer")]
    newest: dict[str, str] = {}
    for f in findings:
        newest[f["analyzer"]] = max(newest.get(f["analyzer"], ""), str(f["day"]))
    chosen = [f for f in findings if str(f["day"]) == newest[f["analyzer"]]]
    severity = {"alert": 0, "watch": 1}
    chosen.sort(key=lambda f: (severity.get(f.get("severity", ""), 2), f["analyzer"], f["id"]))
    return chosen


async def read_findings(
    store: BaseStore, user_id: str, days: Sequence[date]
) -> list[dict[str, Any]]:
    """The findings remembered for the given days (one search per day, in one batch:
    finding items are keyed `day:id` and carry no number a range filter could use)."""
    namespace = findings_namespace(user_id)
    ops = [SearchOp(namespace, filter={"day": d.isoformat()}, limit=100) for d in days]
    results = await store.abatch(ops)
    return [
        dict(item.value)
        for found in results
        if isinstance(found, list)
        for item in found
        if isinstance(item, Item)
    ]


async def _has_any_data(store: BaseStore, user_id: str) -> bool:
    namespaces = await store.alist_namespaces(prefix=(*user_namespace(user_id), "metrics"), limit=1)
    return bool(namespaces)


async def gather(
    store: BaseStore,
    user_id: str,
    *,
    days: int = 90,
    end: date | None = None,
    connections: Iterable[Mapping[str, Any]] = (),
    options: method.MethodOptions | None = None,
) -> ReportData:
    """Read and compute a report of the `days` days ending `end` (default: today, UTC).

    `connections` are the user's device connections as plain dicts (`vendor`,
    `vendor_user_id`, `status`, `last_sync_at`), shown as given.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    end = end or datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    opts = options or method.MethodOptions()
    lookback = days - 1 + HISTORY_DAYS
    rows = await read_rows(store, user_id, end, lookback)
    records, input_devices = to_records(rows)
    shown = _day_list(start, end)
    remembered = await read_findings(store, user_id, shown)
    return ReportData(
        user_id=user_id,
        start=start,
        end=end,
        generated_at=datetime.now(UTC),
        days=shown,
        series=chart_series(records, rows, shown, opts),
        freshness=metric_freshness(rows),
        findings=tuple(latest_findings(remembered)),
        connections=tuple(dict(c) for c in connections),
        input_devices=input_devices,
        hrv_sdnn=sdnn_summary(rows),
        history_read_days=lookback + 1,
        has_any_data=bool(records) or any(rows.values()) or await _has_any_data(store, user_id),
        options=opts,
    )
