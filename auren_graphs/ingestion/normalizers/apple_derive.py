"""Daily values derived from Apple's raw intervals (steps, active energy, sleep stages).

Apple Health keeps every sample from every source: a walk is counted by the Watch and by
the iPhone, a night by the Watch and by a sleep app, and one night's stages can arrive
in several deliveries. The storage layer keeps the raw intervals and calls these pure
functions to recompute a day whenever its intervals change.

Source priority follows Apple's own rule (its Health app ranks data sources and, where
samples overlap, counts only the top-ranked one). We cannot see the user's ranking, so
we use Apple's default order as a heuristic, from the source name:

    a name containing "Watch"  >  a name containing "iPhone"  >  any other app

Sources of the same tier are ordered by name, so the choice is the same in every
recomputation. Intervals are compared as instants (aware datetimes), so a night that
crosses a DST change has its true length.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise

from auren_graphs.canonical import RawInterval

# A gap between two stage intervals longer than this starts a new sleep session: an
# hour awake in the night is still the same night, a two-hour afternoon gap is not.
SESSION_GAP = timedelta(minutes=60)

ASLEEP_STAGES = frozenset({"asleep_unspecified", "core", "deep", "rem"})
STAGED_STAGES = frozenset({"core", "deep", "rem"})
SLEEP_STAGES = ASLEEP_STAGES | {"in_bed", "awake"}

_WATCH, _IPHONE, _OTHER = 3, 2, 1

#: What `derive_sleep` gives per day.
SLEEP_METRICS = (
    "time_in_bed",
    "sleep_duration",
    "sleep_light_duration",
    "sleep_deep_duration",
    "sleep_rem_duration",
    "sleep_awake_duration",
    "nap_duration",
)


def source_priority(source: str) -> int:
    """Apple's default source order: Watch (3) above iPhone (2) above other apps (1)."""
    folded = source.casefold()
    if "watch" in folded:
        return _WATCH
    if "iphone" in folded:
        return _IPHONE
    return _OTHER


def _source_order(sources: Iterable[str]) -> dict[str, int]:
    """Rank 0 is the most trusted source; ties in tier are broken by name."""
    ordered = sorted(set(sources), key=lambda name: (-source_priority(name), name))
    return {name: rank for rank, name in enumerate(ordered)}


def _unique(intervals: Sequence[RawInterval]) -> list[RawInterval]:
    """One interval per identity: a sample delivered twice counts once (the last wins)."""
    return list({interval.identity: interval for interval in intervals}.values())


def _single_kind(intervals: Sequence[RawInterval]) -> None:
    kinds = {interval.kind for interval in intervals}
    if len(kinds) > 1:
        raise ValueError(f"intervals of several kinds cannot be combined: {sorted(kinds)}")


# --- steps and active energy -------------------------------------------------------------


@dataclass(slots=True)
class _Span:
    """A positive-length sample as epoch seconds, with its amount per second, and the
    local day it starts on (`crosses`: it runs past that day's midnight)."""

    start: float
    end: float
    density: float
    rank: int
    zone: tzinfo
    day: date
    crosses: bool


def derive_interval_totals(intervals: Sequence[RawInterval]) -> dict[date, float]:
    """Steps or active energy per local calendar day, overlapping sources counted once.

    The timeline is cut at every sample boundary and at local midnight. In each piece the
    best-ranked source covering it counts, pro-rata to the overlap with its samples; a
    sample crossing midnight is thereby split between the two days. Two overlapping
    samples of the same source are duplicates: the piece counts once, at the larger rate.
    An instantaneous sample (start == end) cannot be pro-rated: it counts in full unless
    the same or a better-ranked source covers that instant.
    """
    _single_kind(intervals)
    samples = [
        (s, amount)
        for s in _unique(intervals)
        if s.end >= s.start and (amount := _amount(s)) is not None
    ]
    ranks = _source_order(s.source for s, _ in samples)
    spans = [_span(s, amount, ranks[s.source]) for s, amount in samples if s.end > s.start]
    totals: dict[date, float] = defaultdict(float)
    pieces = _best_pieces(spans)
    for piece_start, piece_end, span in pieces:
        day = span.day if not span.crosses else _day_of(piece_start, span.zone)
        totals[day] += span.density * (piece_end - piece_start)
    points = [s for s, _ in samples if s.end == s.start]
    for point in _uncovered_points(points, ranks, pieces):
        totals[point.start.date()] += _amount_or_zero(point)
    return dict(totals)


def _amount(interval: RawInterval) -> float | None:
    value = interval.value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _amount_or_zero(interval: RawInterval) -> float:
    return _amount(interval) or 0.0


def _span(sample: RawInterval, amount: float, rank: int) -> _Span:
    begin = sample.start
    start, end = begin.timestamp(), sample.end.timestamp()
    zone = begin.tzinfo
    assert zone is not None, "intervals carry aware datetimes"
    day = begin.date()  # its local day: the datetime is in its own offset
    crosses = end > _next_midnight(day, zone)
    return _Span(start, end, amount / (end - start), rank, zone, day, crosses)


@lru_cache(maxsize=8192)
def _next_midnight(day: date, zone: tzinfo) -> float:
    """Epoch seconds of the midnight that ends `day` in `zone`."""
    return datetime.combine(day + timedelta(days=1), time(), zone).timestamp()


def _day_of(instant: float, zone: tzinfo) -> date:
    return datetime.fromtimestamp(instant, zone).date()


def _local_midnights(span: _Span) -> list[float]:
    """Epoch seconds of each local midnight strictly inside the span, in its own offset."""
    midnights: list[float] = []
    day = span.day
    while (instant := _next_midnight(day, span.zone)) < span.end:
        midnights.append(instant)
        day += timedelta(days=1)
    return midnights


Piece = tuple[float, float, _Span]


def _best_pieces(spans: list[_Span]) -> list[Piece]:
    """Cut the timeline into pieces; for each covered piece, the span that counts there.

    Spans are taken in clusters that overlap one another; a span that overlaps nothing
    (most of them: one source, one sample after the other) is a piece of its own, cut
    at local midnight, and only real overlaps go through the sweep.
    """
    by_start = sorted(spans, key=lambda span: span.start)
    pieces: list[Piece] = []
    first, count = 0, len(by_start)
    while first < count:
        last, reach = first + 1, by_start[first].end
        while last < count and by_start[last].start < reach:
            reach = max(reach, by_start[last].end)
            last += 1
        if last == first + 1:
            pieces.extend(_whole(by_start[first]))
        else:
            pieces.extend(_sweep(by_start[first:last]))
        first = last
    return pieces


def _whole(span: _Span) -> list[Piece]:
    if not span.crosses:
        return [(span.start, span.end, span)]
    cuts = [span.start, *_local_midnights(span), span.end]
    return [(start, end, span) for start, end in pairwise(cuts)]


def _sweep(by_start: list[_Span]) -> list[Piece]:
    """Overlapping spans (sorted by start): in each piece the best-ranked span counts,
    the denser of two of the same rank."""
    bounds: set[float] = set()
    for span in by_start:
        bounds.add(span.start)
        bounds.add(span.end)
        if span.crosses:
            bounds.update(_local_midnights(span))
    pieces: list[Piece] = []
    active: list[_Span] = []
    next_index, count = 0, len(by_start)
    for piece_start, piece_end in pairwise(sorted(bounds)):
        while next_index < count and by_start[next_index].start <= piece_start:
            active.append(by_start[next_index])
            next_index += 1
        # Every boundary is in `bounds`, so a span still running at the piece's start
        # covers the whole piece.
        active = [span for span in active if span.end > piece_start]
        if active:
            best_rank = min(span.rank for span in active)
            best = max((s for s in active if s.rank == best_rank), key=lambda s: s.density)
            pieces.append((piece_start, piece_end, best))
    return pieces


def _uncovered_points(
    points: list[RawInterval], ranks: dict[str, int], pieces: list[Piece]
) -> list[RawInterval]:
    """Instantaneous samples that no better-or-equal source covers, one per source and instant."""
    piece_starts = [piece[0] for piece in pieces]
    kept: dict[tuple[str, float], RawInterval] = {}
    for point in points:
        instant, rank = point.start.timestamp(), ranks[point.source]
        index = bisect_right(piece_starts, instant) - 1
        if index >= 0:
            piece_start, piece_end, span = pieces[index]
            if piece_start <= instant < piece_end and span.rank <= rank:
                continue
        key = (point.source, instant)
        if key not in kept or _amount_or_zero(point) > _amount_or_zero(kept[key]):
            kept[key] = point
    return list(kept.values())


# --- sleep --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Night:
    """What one sleep session adds up to, from its chosen source."""

    day: date
    asleep: float
    in_bed: float
    light: float
    deep: float
    rem: float
    awake: float
    staged: bool
    has_awake: bool
    end: datetime


def derive_sleep(intervals: Sequence[RawInterval]) -> dict[date, dict[str, float]]:
    """Per local day: the main sleep's duration and stages, and the naps, in seconds.

    Stage intervals are grouped into sessions, split where the gap to the next interval
    exceeds SESSION_GAP. A session belongs to the local date of its end. Within a session
    only the best-ranked source that recorded sleep counts (a Watch and a sleep app
    recording the same night are not added up). Per day, the session with the most time
    asleep is the main sleep; the others' time asleep is `nap_duration`.

    Keys are the canonical metric names. Stage durations are given only for a session
    with stage data (Apple's "Core" is light sleep); a legacy "asleep" night has none.
    `time_in_bed` follows Apple's definition: the union of the session's
    `HKCategoryValueSleepAnalysisInBed` samples, from the best-ranked source that
    recorded any (usually the iPhone's bedtime, while the Watch records the stages);
    only a session without them falls back to the span of the chosen source's samples.
    """
    _single_kind(intervals)
    stages = sorted(
        (i for i in _unique(intervals) if i.value in SLEEP_STAGES and i.end > i.start),
        key=lambda interval: interval.start,
    )
    nights_by_day: dict[date, list[_Night]] = defaultdict(list)
    for session in _sessions(stages):
        night = _summarise(_best_source_intervals(session), _in_bed_samples(session))
        nights_by_day[night.day].append(night)
    return {day: _day_metrics(nights) for day, nights in sorted(nights_by_day.items())}


def _sessions(stages: list[RawInterval]) -> list[list[RawInterval]]:
    sessions: list[list[RawInterval]] = []
    session_end: datetime | None = None
    for interval in stages:
        if session_end is None or interval.start - session_end > SESSION_GAP:
            sessions.append([])
            session_end = interval.end
        sessions[-1].append(interval)
        session_end = max(session_end, interval.end)
    return sessions


def _best_source_intervals(session: list[RawInterval]) -> list[RawInterval]:
    """The intervals of the best-ranked source that recorded sleep (else of the best one)."""
    sleepers = {i.source for i in session if i.value in ASLEEP_STAGES}
    candidates = sleepers or {i.source for i in session}
    ranks = _source_order(candidates)
    best = min(candidates, key=ranks.__getitem__)
    return [interval for interval in session if interval.source == best]


def _in_bed_samples(session: list[RawInterval]) -> list[RawInterval]:
    """The session's in-bed samples from the best-ranked source that recorded any."""
    in_bed = [interval for interval in session if interval.value == "in_bed"]
    if not in_bed:
        return []
    ranks = _source_order(interval.source for interval in in_bed)
    best = min(ranks, key=ranks.__getitem__)
    return [interval for interval in in_bed if interval.source == best]


def _summarise(intervals: list[RawInterval], in_bed: list[RawInterval]) -> _Night:
    def union(stages: Iterable[str]) -> float:
        wanted = set(stages)
        return _union_seconds([(i.start, i.end) for i in intervals if i.value in wanted])

    end = max(intervals, key=lambda interval: interval.end).end
    start = min(interval.start for interval in intervals)
    bed = _union_seconds([(i.start, i.end) for i in in_bed])
    return _Night(
        day=end.date(),
        asleep=union(ASLEEP_STAGES),
        in_bed=bed if in_bed else (end - start).total_seconds(),
        light=union(["core"]),
        deep=union(["deep"]),
        rem=union(["rem"]),
        awake=union(["awake"]),
        staged=any(i.value in STAGED_STAGES for i in intervals),
        has_awake=any(i.value == "awake" for i in intervals),
        end=end,
    )


def _union_seconds(spans: list[tuple[datetime, datetime]]) -> float:
    """Length of the union of spans: overlapping or repeated intervals count once."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def _day_metrics(nights: list[_Night]) -> dict[str, float]:
    main = max(nights, key=lambda night: (night.asleep, night.in_bed, night.end))
    metrics: dict[str, float] = {"time_in_bed": main.in_bed}
    if main.asleep > 0:
        metrics["sleep_duration"] = main.asleep
    if main.staged:
        metrics["sleep_light_duration"] = main.light
        metrics["sleep_deep_duration"] = main.deep
        metrics["sleep_rem_duration"] = main.rem
    if main.staged or main.has_awake:
        metrics["sleep_awake_duration"] = main.awake
    naps = sum(night.asleep for night in nights if night is not main)
    if naps > 0:
        metrics["nap_duration"] = naps
    return metrics
