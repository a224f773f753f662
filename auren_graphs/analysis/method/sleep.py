"""§5 sleep: need, 14-day debt and balance, 7-day mean, short nights."""

from __future__ import annotations

import math

from auren_graphs.analysis.method.inputs import Series
from auren_graphs.analysis.method.options import (
    MIN_MEAN7,
    MIN_SLEEP_NIGHTS,
    SLEEP_DEBT_DAYS,
    SLEEP_MIN_HOURS,
    MethodOptions,
    Row,
    resolve_options,
)
from auren_graphs.analysis.method.windows import lt, mean_of, round6, week_values


def assess_sleep(series: Series, options: MethodOptions | None = None) -> list[Row]:
    """§5 sleep need, 14-day debt and balance, 7-day mean, short nights."""
    opts = resolve_options(options)
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
        week = week_values(sleep, i)
        mean7 = mean_of(week) if len(week) >= MIN_MEAN7 else None
        rows.append(
            {
                "sleep_hours": round6(sleep[i]),
                "sleep_need_hours": round6(need[i]),
                "sleep_n14": len(nights),
                "sleep_debt_hours": round6(debt),
                "sleep_balance_hours": round6(balance),
                "sleep_mean7": round6(mean7),
                "short_sleep_night": lt(sleep[i], SLEEP_MIN_HOURS),  # §5: < 7.0 h
                "sleep_insufficient": lt(mean7, SLEEP_MIN_HOURS),
            }
        )
    return rows
