"""What the client returns: ingestion reports, and the contract's shapes read from JSON.

Metric rows, device connections, rejections and record outcomes are the contract's own
classes (`auren_contract.wire`), the ones the server answers with; the report adds what
a caller of the client needs on top of the server's (reasons that compare as their count,
reports that add up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard, TypeVar

from auren_contract import RecordOutcomes, Rejection

from ._errors import UnexpectedResponseError

T = TypeVar("T")


def parsed(build: Callable[[Mapping[str, Any]], T], raw: object, what: str) -> T:
    """`build(raw)` (a contract class's `from_dict`), or UnexpectedResponseError."""
    try:
        if not isinstance(raw, Mapping):
            raise TypeError(f"{type(raw).__name__}, not an object")
        return build(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnexpectedResponseError(f"the server sent a malformed {what}: {exc}") from exc


class Rejections(list[Rejection]):
    """The reasons, that also act as their count.

    Callers read ``report.rejected`` two ways: as the reasons
    (``report.rejected[0].reason``) and as a number (``report.rejected == 2``,
    ``report.rejected > 0``). A list that compares with an ``int`` by its count
    serves both without a second, easily confused attribute.

    ``total`` is the server's count, which may exceed the reasons it listed (a server
    may cap the list for a payload with millions of bad records); comparisons use it.
    """

    def __init__(self, items: Iterable[Rejection] = (), total: int | None = None) -> None:
        super().__init__(items)
        self.total = len(self) if total is None else max(total, len(self))

    # Comparing with an int compares the count; anything else is a plain list comparison.
    def __eq__(self, other: object) -> bool:
        if _is_int(other):
            return self.total == other
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: object) -> bool:
        return self.total < other if _is_int(other) else super().__lt__(_as_list(other))

    def __le__(self, other: object) -> bool:
        return self.total <= other if _is_int(other) else super().__le__(_as_list(other))

    def __gt__(self, other: object) -> bool:
        return self.total > other if _is_int(other) else super().__gt__(_as_list(other))

    def __ge__(self, other: object) -> bool:
        return self.total >= other if _is_int(other) else super().__ge__(_as_list(other))

    __hash__ = None  # mutable, like list

    def __int__(self) -> int:
        return self.total

    def __add__(self, other: list[Rejection]) -> Rejections:  # type: ignore[override]
        other_total = other.total if isinstance(other, Rejections) else len(other)
        return Rejections([*self, *other], total=self.total + other_total)

    def __repr__(self) -> str:
        return f"Rejections(total={self.total}, {list.__repr__(self)})"


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int, but `report.rejected == True` is not a meaningful question.
    return isinstance(value, int) and not isinstance(value, bool)


def _as_list(value: object) -> list[Rejection]:
    if isinstance(value, list):
        return value
    raise TypeError(f"cannot compare Rejections with {type(value).__name__}")


def _int(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key) or 0
    if not isinstance(value, int | float):
        raise UnexpectedResponseError(f"the server's report has a non-numeric {key!r}: {value!r}")
    return int(value)


def _reasons(raw: Mapping[str, Any], key: str) -> Rejections:
    items = raw.get(key) or []
    if isinstance(items, int):  # a server that sends only the count
        return Rejections((), total=items)
    count = raw.get(f"{key}_count")
    return Rejections(
        (Rejection.from_dict(item) for item in items if isinstance(item, Mapping)),
        total=count if isinstance(count, int) else None,
    )


def _types(raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): int(v) for k, v in raw.items() if isinstance(v, int | float)}


def _sum_types(first: Mapping[str, int], second: Mapping[str, int]) -> dict[str, int]:
    merged = dict(first)
    for kind, count in second.items():
        merged[kind] = merged.get(kind, 0) + count
    return merged


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion did.

    ``accepted`` new values were stored, ``duplicates`` were already there,
    ``updated`` replaced an earlier value (a vendor re-scored a day), ``rejected``
    records were invalid and ``skipped`` were not values (a score still pending).
    ``rejected`` and ``skipped`` list the reasons and also compare as their counts.
    These count values (a workout gives several); ``outcomes`` accounts for every one
    of the ``records`` examined, and ``ignored`` counts by type the records of types
    AUREN does not store. Reports add up with ``+`` (an export ingested in batches sums
    its runs).
    """

    accepted: int = 0
    duplicates: int = 0
    updated: int = 0
    rejected: Rejections = field(default_factory=Rejections)
    skipped: Rejections = field(default_factory=Rejections)
    records: int = 0
    outcomes: RecordOutcomes = field(default_factory=RecordOutcomes)
    ignored: Mapping[str, int] = field(default_factory=dict)

    @property
    def rejected_count(self) -> int:
        return self.rejected.total

    @property
    def skipped_count(self) -> int:
        return self.skipped.total

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IngestReport:
        """Build a report from the ingestion graph's ``report`` state value."""
        return cls(
            accepted=_int(raw, "accepted"),
            duplicates=_int(raw, "duplicates"),
            updated=_int(raw, "updated"),
            rejected=_reasons(raw, "rejected"),
            skipped=_reasons(raw, "skipped"),
            records=_int(raw, "records"),
            outcomes=parsed(RecordOutcomes.from_dict, raw.get("outcomes") or {}, "report"),
            ignored=_types(raw.get("ignored")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "rejected": [{"ref": r.ref, "reason": r.reason} for r in self.rejected],
            "rejected_count": self.rejected_count,
            "skipped": [{"ref": r.ref, "reason": r.reason} for r in self.skipped],
            "skipped_count": self.skipped_count,
            "records": self.records,
            "outcomes": self.outcomes.to_dict(),
            "ignored": dict(self.ignored),
        }

    def __add__(self, other: IngestReport) -> IngestReport:
        if not isinstance(other, IngestReport):
            return NotImplemented
        return IngestReport(
            accepted=self.accepted + other.accepted,
            duplicates=self.duplicates + other.duplicates,
            updated=self.updated + other.updated,
            rejected=self.rejected + other.rejected,
            skipped=self.skipped + other.skipped,
            records=self.records + other.records,
            outcomes=self.outcomes + other.outcomes,
            ignored=_sum_types(self.ignored, other.ignored),
        )

    def __radd__(self, other: object) -> IngestReport:
        # Lets sum(reports) start from its default 0.
        if other == 0:
            return self
        return NotImplemented
