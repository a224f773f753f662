"""The report's charts: matplotlib figures saved as SVG and inlined in the page.

Static SVG needs no script and no network: the page opens offline in any browser and
carries a Content-Security-Policy that forbids scripts altogether. A day without data is
a gap: values are NaN there, so lines break and no bar is drawn, and the gap days are
shaded. Nothing is interpolated or carried forward; 7-day means and bands exist on a
day only where the method computes them.

matplotlib is imported when a chart is drawn, not at server start, and drawing holds a
lock (matplotlib does not promise thread safety; `build_report` draws in a thread).
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Values = Sequence[float | None]

_LOCK = threading.Lock()
WIDTH_IN = 9.0
COLORS = {
    "daily": "#4a6fa5",
    "mean": "#1b2a49",
    "band": "#9fd3a8",
    "gap": "#d9d9d9",
    "sleep": "#6c8ebf",
    "need": "#b85450",
    "debt": "#b85450",
    "load": "#d6a23c",
    "monotony": "#7a4f9e",
    "limit": "#b85450",
    "sdnn": "#8a8a8a",
}


@dataclass(frozen=True, slots=True)
class Chart:
    """One drawn chart: an id for the page, a title, a caption and the SVG markup."""

    id: str
    title: str
    caption: str
    svg: str


def _marker(days: Sequence[date]) -> float:
    """Marker size: dots for a few months, specks for a year."""
    return 3.0 if len(days) <= 120 else 1.6


def _nan(values: Values) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def gap_runs(present: Sequence[bool]) -> list[tuple[int, int]]:
    """Runs of consecutive days without data, as (first, last) index."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, ok in enumerate(present):
        if not ok and start is None:
            start = i
        if ok and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(present) - 1))
    return runs


def _day_numbers(days: Sequence[date]) -> list[float]:
    """matplotlib's numbers for days (its dates module has no type hints)."""
    from matplotlib import dates as mdates

    return [float(x) for x in mdates.date2num(list(days))]  # type: ignore[no-untyped-call]


def _date_axis(ax: Axes) -> None:
    from matplotlib import dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(href="#|url\(#)([^")]+)')


def _scoped(svg: str, prefix: str) -> str:
    """Every id of one SVG (and every reference to one) prefixed, so that several SVGs
    inlined in one page have no id in common (matplotlib numbers its ids per figure)."""
    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


class _Drawing:
    """A figure of one or more stacked panels sharing the day axis."""

    def __init__(self, chart_id: str, days: Sequence[date], panels: Sequence[float]) -> None:
        from matplotlib.figure import Figure

        self.id = chart_id
        self.x = _day_numbers(days)
        self.fig: Figure = Figure(figsize=(WIDTH_IN, sum(panels) + 0.6), layout="constrained")
        grid = self.fig.add_gridspec(len(panels), 1, height_ratios=list(panels))
        self.axes: list[Axes] = []
        for n in range(len(panels)):
            ax = self.fig.add_subplot(grid[n], sharex=self.axes[0] if self.axes else None)
            self._style(ax, last=n == len(panels) - 1)
            self.axes.append(ax)

    def _style(self, ax: Axes, *, last: bool) -> None:
        _date_axis(ax)
        ax.tick_params(labelsize=8, labelbottom=last)
        ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_xlim(self.x[0] - 0.5, self.x[-1] + 0.5)

    def gaps(self, present: Sequence[bool], *, label: str = "no data") -> None:
        """Shade the days without data on every panel (labelled once)."""
        for n, ax in enumerate(self.axes):
            for i, (first, last) in enumerate(gap_runs(present)):
                span = ax.axvspan(
                    self.x[first] - 0.5,
                    self.x[last] + 0.5,
                    color=COLORS["gap"],
                    alpha=0.5,
                    linewidth=0,
                    label=label if n == 0 and i == 0 else None,
                    zorder=0,
                )
                span.set_gid(f"gap-{n}-{i}")

    def line(self, panel: int, values: Values, name: str, **style: Any) -> None:
        (artist,) = self.axes[panel].plot(self.x, _nan(values), **style)
        artist.set_gid(name)

    def band(self, panel: int, low: Values, high: Values, name: str, **style: Any) -> None:
        artist = self.axes[panel].fill_between(self.x, _nan(low), _nan(high), **style)
        artist.set_gid(name)

    def bars(self, panel: int, values: Values, **style: Any) -> None:
        """One bar per day with a value (bars get no id: they are one element each)."""
        kept = [(x, v) for x, v in zip(self.x, values, strict=True) if v is not None]
        if not kept:
            return
        xs, heights = zip(*kept, strict=True)
        self.axes[panel].bar(xs, heights, width=0.8, **style)

    def svg(self, ylabels: Sequence[str]) -> str:
        for ax, label in zip(self.axes, ylabels, strict=True):
            ax.set_ylabel(label, fontsize=9)
        self.fig.legend(loc="outside upper left", ncols=6, fontsize=8, frameon=False)
        out = io.StringIO()
        self.fig.savefig(out, format="svg", metadata={"Date": None})
        text = out.getvalue()
        return _scoped(text[text.index("<svg") :], f"{self.id}-")  # no prolog inside HTML


def baseline_chart(
    chart_id: str,
    days: Sequence[date],
    daily: Values,
    mean7: Values,
    low: Values,
    high: Values,
    *,
    daily_label: str,
    ylabel: str,
) -> str:
    """Daily values, their 7-day mean and the normal band (§3 HRV, §4 resting HR)."""
    with _LOCK:
        d = _Drawing(chart_id, days, [2.6])
        d.gaps([v is not None for v in daily])
        d.band(
            0,
            low,
            high,
            "band",
            color=COLORS["band"],
            alpha=0.6,
            linewidth=0,
            label="normal range (60-day mean ± 0.5 SD)",
        )
        d.line(
            0,
            daily,
            "daily",
            color=COLORS["daily"],
            marker="o",
            markersize=_marker(days),
            linewidth=0.8,
            label=daily_label,
        )
        d.line(0, mean7, "mean7", color=COLORS["mean"], linewidth=2, label="7-day mean")
        return d.svg([ylabel])


def sleep_chart(days: Sequence[date], sleep: Values, need: Values, debt: Values) -> str:
    """Nightly sleep against the need, and the running 14-day sleep debt (§5)."""
    with _LOCK:
        d = _Drawing("sleep", days, [2.2, 1.3])
        d.gaps([v is not None for v in sleep])
        d.bars(0, sleep, color=COLORS["sleep"], label="sleep (h)")
        shown_need = [n if s is not None else None for s, n in zip(sleep, need, strict=True)]
        d.line(
            0,
            shown_need,
            "need",
            color=COLORS["need"],
            linewidth=1.2,
            linestyle="--",
            drawstyle="steps-mid",
            label="need (h)",
        )
        d.line(
            1,
            debt,
            "debt",
            color=COLORS["debt"],
            linewidth=1.8,
            label="sleep debt, last 14 days (h)",
        )
        return d.svg(["hours asleep", "debt (h)"])


def training_chart(days: Sequence[date], load: Values, monotony: Values, high: float) -> str:
    """Daily training load, and Foster monotony over the week with its high line (§6)."""
    with _LOCK:
        d = _Drawing("training", days, [2.0, 1.4])
        d.gaps([v is not None for v in load], label="no load recorded (counted as rest)")
        d.bars(0, load, color=COLORS["load"], label="daily load (au)")
        d.line(
            1,
            monotony,
            "monotony",
            color=COLORS["monotony"],
            linewidth=1.8,
            marker="o",
            markersize=2,
            label="monotony (7 days)",
        )
        limit = d.axes[1].axhline(
            high,
            color=COLORS["limit"],
            linewidth=1,
            linestyle=":",
            label=f"high monotony (> {high:g})",
        )
        limit.set_gid("limit")
        return d.svg(["load (au)", "monotony"])


def sdnn_chart(days: Sequence[date], sdnn: Values) -> str:
    """Apple's SDNN spot checks as they are: shown, never analysed."""
    with _LOCK:
        d = _Drawing("sdnn", days, [2.0])
        d.gaps([v is not None for v in sdnn])
        d.line(
            0,
            sdnn,
            "daily",
            color=COLORS["sdnn"],
            marker="o",
            markersize=_marker(days),
            linewidth=0.8,
            label="SDNN, mean of the day's spot checks (ms)",
        )
        return d.svg(["SDNN (ms)"])
