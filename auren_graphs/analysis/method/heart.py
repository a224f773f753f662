"""§3 HRV on lnRMSSD and §4 resting heart rate: 7-day means against a 60-day normal range."""

from __future__ import annotations

from auren_graphs.analysis.method.inputs import Series
from auren_graphs.analysis.method.options import (
    BELOW,
    MIN_CV7,
    TREND_DOWN,
    TREND_FLAT,
    TREND_UP,
    WEEK_DAYS,
    MethodOptions,
    Row,
    resolve_options,
)
from auren_graphs.analysis.method.windows import (
    baseline,
    lt,
    mean_of,
    round6,
    sd_of,
    sub,
    week_values,
)


def assess_hrv(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§3 HRV on lnRMSSD."""
    opts = resolve_options(options)
    x = series.ln_rmssd
    bases = [baseline(x, i, opts) for i in range(len(series))]
    rows: list[Row] = []
    run = 0
    for i, b in enumerate(bases):
        today = x[i]
        week = week_values(x, i)
        cv7 = None
        if len(week) >= MIN_CV7:  # §2: CV needs >= 5 valid days
            m = mean_of(week)
            cv7 = None if m == 0 else 100.0 * sd_of(week, sample=True) / m
        z7 = acute_low = trend = None
        if b.ref_mean is not None and b.ref_sd is not None:
            if b.mean7 is not None and b.ref_sd > 0:  # §3: z7 only when ref_sd > 0
                z7 = (b.mean7 - b.ref_mean) / b.ref_sd
            # §3 Kiviniemi: today below ref_mean - 1 SD; null if today is missing.
            acute_low = lt(today, b.ref_mean - opts.acute_multiplier * b.ref_sd)
        # §3: mean7(t) - mean7(t-7), both must exist.
        week_delta = sub(b.mean7, bases[i - WEEK_DAYS].mean7 if i >= WEEK_DAYS else None)
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
                "ln_rmssd": round6(today),
                "hrv_n7": b.n7,
                "hrv_mean7": round6(b.mean7),
                "hrv_cv7": round6(cv7),
                "hrv_ref_n": b.ref_n,
                "hrv_ref_mean": round6(b.ref_mean),
                "hrv_ref_sd": round6(b.ref_sd),
                "hrv_band_low": round6(b.low),
                "hrv_band_high": round6(b.high),
                "hrv_status": b.status,
                "hrv_z7": round6(z7),
                "hrv_acute_low": acute_low,
                "hrv_week_delta": round6(week_delta),
                "hrv_trend": trend,
                "hrv_days_below_normal": run,
            }
        )
    return rows


def assess_rhr(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§4 resting heart rate: same windows, minimums and band as HRV, on bpm."""
    opts = resolve_options(options)
    hr = series.resting_hr
    rows: list[Row] = []
    for i in range(len(series)):
        b = baseline(hr, i, opts)
        delta = sub(hr[i], b.ref_mean)  # §4: rhr(t) - ref_mean
        elevated = None
        if delta is not None and b.ref_sd is not None:
            # §4: SD arm (Kiviniemi, P) AND bpm floor (Oura, V); null if today missing.
            elevated = delta > opts.acute_multiplier * b.ref_sd and (
                delta >= opts.rhr_elevated_min_bpm
            )
        rows.append(
            {
                "resting_hr": round6(hr[i]),
                "rhr_n7": b.n7,
                "rhr_mean7": round6(b.mean7),
                "rhr_ref_n": b.ref_n,
                "rhr_ref_mean": round6(b.ref_mean),
                "rhr_ref_sd": round6(b.ref_sd),
                "rhr_band_low": round6(b.low),
                "rhr_band_high": round6(b.high),
                "rhr_status": b.status,
                "rhr_delta": round6(delta),
                "rhr_elevated": elevated,
            }
        )
    return rows
