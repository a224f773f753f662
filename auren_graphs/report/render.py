"""The report page: one self-contained HTML file with no script and no network request.

Every text that comes from users, vendors or the store (user id, finding texts and
values, device ids, statuses) goes through `html.escape`; and the page's
Content-Security-Policy forbids scripts, so even a text that escaped escaping could not
run. Charts are inline SVG (`charts.py`); styles are inline.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from auren_graphs.report import charts
from auren_graphs.report.gather import ReportData
from auren_graphs.report.style import CSS

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
SEVERITIES = ("alert", "watch", "info")


def e(value: Any) -> str:
    """Text made safe for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return ", ".join(_num(v) for v in value) or "none"
    return str(value)


def _age(day: date, end: date) -> str:
    age = (end - day).days
    if age == 0:
        return "the last day shown"
    if age == 1:
        return "1 day before the last day shown"
    return f"{age} days before the last day shown"


def _cmd(*words: str) -> str:
    return f"<code>{e(' '.join(shlex.quote(w) for w in words))}</code>"


def _figure(chart_id: str, title: str, caption: str, svg: str) -> str:
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{e(title)}" ', 1)
    return (
        f'<figure class="chart" id="chart-{e(chart_id)}" data-chart="{e(chart_id)}">'
        f"<h3>{e(title)}</h3>{labelled}<figcaption>{caption}</figcaption></figure>"
    )


def _note(chart_id: str, title: str, text: str) -> str:
    return f'<div class="chart-note" id="note-{e(chart_id)}"><h3>{e(title)}</h3><p>{text}</p></div>'


def _any(values: Iterable[float | None]) -> bool:
    return any(v is not None for v in values)


def _hrv(data: ReportData) -> list[str]:
    s, days = data.series, data.days
    title = "HRV: lnRMSSD, 7-day mean and normal range"
    if _any(s["ln_rmssd"]):
        svg = charts.baseline_chart(
            "hrv",
            days,
            s["ln_rmssd"],
            s["hrv_mean7"],
            s["hrv_band_low"],
            s["hrv_band_high"],
            daily_label="lnRMSSD (daily)",
            ylabel="lnRMSSD",
        )
        caption = (
            "Natural log of the nightly rMSSD; the 7-day mean needs 3 valid days of 7, the "
            "normal range 28 valid days in the 60 before (Plews 2014; HRV4Training). Grey: "
            "days without an HRV value."
        )
        return [_figure("hrv", title, caption, svg)]
    out = []
    if _any(s["hrv_sdnn"]):
        why = (
            "Your HRV comes as Apple's SDNN from spot checks. SDNN spot checks are not "
            "comparable with the overnight rMSSD baseline the HRV rules use, so HRV is not "
            "analysed; resting heart rate and sleep are. The spot checks are shown as they are."
        )
        out.append(_note("hrv", "HRV not analysed", e(why)))
        svg = charts.sdnn_chart(days, s["hrv_sdnn"])
        out.append(
            _figure(
                "sdnn",
                "HRV as SDNN spot checks (not analysed)",
                "Daily mean of the day's SDNN readings. Grey: days without one.",
                svg,
            )
        )
        return out
    return [_note("hrv", title, "No HRV (rMSSD) in these days.")]


def _rhr(data: ReportData) -> str:
    s = data.series
    title = "Resting heart rate, 7-day mean and normal range"
    if not _any(s["resting_hr"]):
        return _note("rhr", title, "No resting heart rate in these days.")
    svg = charts.baseline_chart(
        "rhr",
        data.days,
        s["resting_hr"],
        s["rhr_mean7"],
        s["rhr_band_low"],
        s["rhr_band_high"],
        daily_label="resting HR (daily, bpm)",
        ylabel="bpm",
    )
    caption = (
        "Same windows and band as HRV, in beats per minute (Plews 2013; Radin 2020). Grey: "
        "days without a resting heart rate."
    )
    return _figure("rhr", title, caption, svg)


def _sleep(data: ReportData) -> str:
    s = data.series
    title = "Sleep against need, and the running sleep debt"
    if not _any(s["sleep_hours"]):
        return _note("sleep", title, "No sleep in these days.")
    svg = charts.sleep_chart(
        data.days, s["sleep_hours"], s["sleep_need_hours"], s["sleep_debt_hours"]
    )
    caption = (
        f"Need {_num(data.options.default_sleep_need_hours)} h unless the device gives one. "
        "Debt: the shortfall summed over the last 14 nights, no credit for over-sleep, shown "
        "once 7 of them have data (Van Dongen 2003; Belenky 2003). Grey: nights without data."
    )
    return _figure("sleep", title, caption, svg)


def _training(data: ReportData) -> str:
    s = data.series
    title = "Training load and monotony"
    if not _any(s["training_load"]):
        return _note(
            "training",
            title,
            (
                "No training load in these days. It is an additive daily load (sRPE × minutes, "
                "TRIMP) in au, sent as manual entries (metric <code>training_load</code>)."
            ),
        )
    from auren_graphs.analysis.method import MONOTONY_HIGH

    svg = charts.training_chart(
        data.days, s["training_load"], s["training_monotony"], MONOTONY_HIGH
    )
    caption = (
        "Monotony is the week's mean daily load over its SD, days without a load counting as "
        f"rest (Foster 1998); above {MONOTONY_HIGH:g} is high (Runalyze). Grey: days without "
        "a recorded load."
    )
    return _figure("training", title, caption, svg)


def _finding(f: Mapping[str, Any], end: date) -> str:
    severity = f.get("severity") if f.get("severity") in SEVERITIES else "info"
    day = str(f.get("day", ""))
    try:
        when = f'{e(day)} <span class="age">({e(_age(date.fromisoformat(day), end))})</span>'
    except ValueError:
        when = e(day)
    values = f.get("values") or {}
    numbers = (
        "".join(f"<dt>{e(k)}</dt><dd>{e(_num(v))}</dd>" for k, v in values.items())
        if isinstance(values, Mapping)
        else ""
    )
    grade = str(f.get("grade", ""))
    return (
        f'<article class="finding {severity}" data-finding="{e(f.get("id", ""))}">'
        f'<p class="when">Describes {when} <span class="badge">{e(severity)}</span></p>'
        f"<h3>{e(f.get('title', ''))}</h3><p>{e(f.get('summary', ''))}</p>"
        + (f'<dl class="numbers">{numbers}</dl>' if numbers else "")
        + f'<p class="source">Rule <code>{e(f.get("rule", ""))}</code>, grade '
        f'<strong class="grade grade-{e(grade)}">{e(grade)}</strong>: '
        f"{e(f.get('grade_words', ''))}. Source: {e(f.get('source', ''))}.</p></article>"
    )


def _findings(data: ReportData) -> str:
    if not data.findings:
        body = (
            "<p>No analysis has been remembered for these days. Run one, for example "
            f"{_cmd('auren', 'analyze', data.user_id)}, and open the report again.</p>"
        )
    else:
        body = "".join(_finding(f, data.end) for f in data.findings)
    return f'<section id="findings"><h2>Findings</h2>{body}</section>'


def _when(value: Any) -> str:
    """A moment as "YYYY-MM-DD HH:MM UTC" (datetimes and ISO texts), else as given."""
    moment: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value or "never"
    if moment is None:
        return "never" if value is None else str(value)
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], table_id: str) -> str:
    cells = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def _devices(data: ReportData) -> str:
    if data.connections:
        connections = _table(
            ["Vendor", "Account", "Status", "Last sync"],
            (
                [
                    e(c.get("device", "")),
                    e(c.get("vendor_user_id", "")),
                    e(c.get("status", "")),
                    e(_when(c.get("last_sync_at"))),
                ]
                for c in data.connections
            ),
            "connections",
        )
    else:
        connections = '<p id="connections">No device connections.</p>'
    fresh = _table(
        [
            "Metric",
            "Newest day",
            "Age",
            f"Days with data (of {data.history_read_days} read)",
            "Device",
        ],
        (
            [
                e(m.label),
                e(m.newest_day.isoformat()) if m.newest_day else "none",
                e(_age(m.newest_day, data.end)) if m.newest_day else "",
                e(m.days_with_data),
                e(", ".join(m.devices)),
            ]
            for m in data.freshness
        ),
        "freshness",
    )
    if not data.has_any_data:  # nothing anywhere: the table would be all "none"
        fresh = '<p id="freshness">No data for any metric.</p>'
    return (
        '<section id="devices"><h2>Devices and data freshness</h2>'
        f"<h3>Connections</h3>{connections}<h3>Newest data per metric</h3>{fresh}</section>"
    )


def _empty(data: ReportData) -> str:
    user = data.user_id
    if data.has_any_data:
        lead = (
            f"<p>There is no data for <strong>{e(user)}</strong> between {e(data.start)} and "
            f"{e(data.end)}. Older data exists: widen the period (<code>--days</code>) or "
            "ingest newer data.</p>"
        )
    else:
        lead = f"<p>There is no data yet for <strong>{e(user)}</strong>.</p>"
    how = (
        "<h3>How to add data</h3><ol>"
        "<li>Ingest a vendor's own document or export: "
        f"{_cmd('auren', 'ingest', user, 'oura', 'sleep.json')}, "
        f"{_cmd('auren', 'ingest', user, 'apple_health', 'export.xml')} (Oura and WHOOP pages, "
        "Apple Health export.xml or Health Auto Export JSON, manual entries).</li>"
        f"<li>Or connect a device so its data arrives by webhook: "
        f"{_cmd('auren', 'connect', user, 'whoop', '--vendor-user-id', 'ID')}.</li>"
        "<li>Then make this report again.</li></ol>"
    )
    heading = "No data in this period" if data.has_any_data else "No data yet"
    return f'<section id="empty" class="empty"><h2>{heading}</h2>{lead}{how}</section>'


def _stale(data: ReportData) -> str:
    newest = data.newest_day
    if newest is None or (data.end - newest).days <= 1:
        return ""
    return (
        f'<p id="stale" class="stale">As of {e(newest)}: the newest data is '
        f"{e((data.end - newest).days)} days older than {e(data.end)}; nothing newer has "
        "arrived.</p>"
    )


def render_report(data: ReportData) -> str:
    """The report as one self-contained HTML page (no script, no network request)."""
    if data.is_empty:
        main = _empty(data) + _devices(data)
    else:
        charts_html = [*_hrv(data), _rhr(data), _sleep(data), _training(data)]
        main = (
            _stale(data)
            + f'<section id="charts"><h2>Trends</h2>{"".join(charts_html)}</section>'
            + _findings(data)
            + _devices(data)
        )
    title = f"AUREN report: {data.user_id}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>AUREN report</h1><p>User <strong>{e(data.user_id)}</strong>: "
        f"{e(data.start)} to {e(data.end)} ({e(len(data.days))} days). Generated "
        f"{e(_when(data.generated_at))}, method {e(data.method_version)}.</p></header>"
        f"<main>{main}</main>"
        "<footer><p>Grades: <strong>P</strong> a peer-reviewed rule, <strong>V</strong> a "
        "vendor's published rule, <strong>E</strong> our own engineering choice, not a "
        "published rule. This page runs no script and loads nothing from the network.</p>"
        "</footer></body></html>\n"
    )
