"""Daily values derived from raw intervals: the type storage calls, and how a derivation
names the metrics it produces. Kept apart from the store so normalizers (and the
ingestion worker process) can use it without importing langgraph."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from auren_graphs.canonical import RawInterval

Derivation = Callable[[Sequence[RawInterval]], Mapping[date, Mapping[str, float]]]


@dataclass(frozen=True)
class Derives:
    """A derivation that says which metrics it produces, so that their day items can be
    read together with everything else a batch needs (any `Derivation` works; these
    save a round trip to the store per batch)."""

    function: Derivation
    metrics: tuple[str, ...]

    def __call__(self, intervals: Sequence[RawInterval]) -> Mapping[date, Mapping[str, float]]:
        return self.function(intervals)
