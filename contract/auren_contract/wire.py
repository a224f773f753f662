"""What travels between server and client, written once for both sides: the ingestion
graph's input, and the shapes of what the server answers.

The shapes are standard-library dataclasses. The server returns them from its routes and graphs, and
pydantic validates and documents them there (FastAPI response models, graph state),
taking each field's description from the docstring under it (`__pydantic_config__`).
The client builds the same classes from the JSON it receives, with `from_dict`, which
raises `ValueError` (or `KeyError`, `TypeError`) for an answer that does not fit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any, Final, Literal, TypeGuard, cast, get_args

# Read by pydantic only (a plain dict, so this module needs nothing beyond the stdlib).
_DESCRIBED: Final = {"use_attribute_docstrings": True}

#: A run's input is checkpointed with the thread's history (and the dev server keeps
#: every run's input in memory), so a payload larger than this, as compact JSON, is
#: staged in the store under `uploads_namespace(user)` and the run gets its key.
INLINE_LIMIT: Final = 16 * 1024
#: An upload's `encoding` when its payload is the document's bytes, zlib-compressed,
#: in base64 (about a tenth of an export's size); without it the payload is the document.
PACKED_ENCODING: Final = "zlib+base64"

#: What can become of a record examined in a payload; every record gets exactly one.
OUTCOMES: Final[tuple[str, ...]] = (
    "accepted", "duplicate", "updated", "rejected", "skipped", "ignored",
)  # fmt: skip
ConnectionStatus = Literal["connected", "needs_reauth", "disconnected"]


def ingestion_input(
    user_id: str,
    device: str,
    *,
    payload: Any = None,
    uploads: Iterable[str] = (),
    deletions: Iterable[str] = (),
    backfill: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ingestion graph's input with every key: the thread outlives the run, and a key
    left out keeps the previous run's value (an inline payload after an upload would
    still carry that upload's keys)."""
    return {
        "user_id": user_id, "device": device, "payload": payload, "uploads": list(uploads),
        "deletions": list(deletions), "backfill": dict(backfill) if backfill else None,
    }  # fmt: skip


def upload_item(
    device: str, payload: Any, *, records: int | None = None, packed: bool = False
) -> dict[str, Any]:
    """A payload staged under `uploads_namespace(user)` for a run to read by key:
    the document itself, or (`packed`) its bytes in `PACKED_ENCODING`."""
    item = {"device": device, "payload": payload, "records": records}
    return {**item, "encoding": PACKED_ENCODING} if packed else item


def fits_inline(payload: object) -> bool:
    """Whether a JSON value, as compact UTF-8 JSON, is small enough for a run's input
    (TypeError or ValueError for one that is not JSON)."""
    if isinstance(payload, str) and len(payload) > INLINE_LIMIT:
        return False  # every character encodes to at least one byte
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-8")) <= INLINE_LIMIT


def _instant(raw: object) -> datetime | None:
    return datetime.fromisoformat(str(raw)) if raw else None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record, or one value of a record, that was refused, and why."""

    __pydantic_config__ = _DESCRIBED

    ref: str
    """Which record or value (vendor id, entry id, element)."""
    reason: str
    """Why it was refused."""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Rejection:
        return cls(ref=str(raw.get("ref", "")), reason=str(raw.get("reason", "")))


@dataclass(frozen=True)
class RecordOutcomes:
    """Every record examined, by what became of it; the six add up to `total`.

    A record that gave several values (a workout, a WHOOP cycle) counts once: accepted
    when any of its values was new, else updated when any changed, else a duplicate.
    A record refused whole is rejected; one with no value yet is skipped; one of a type
    AUREN does not store is ignored (the report's `ignored` names the types).
    """

    __pydantic_config__ = _DESCRIBED

    accepted: int = 0
    """Records that stored at least one new value."""
    duplicate: int = 0
    """Records whose values were all stored already."""
    updated: int = 0
    """Records that corrected a stored value."""
    rejected: int = 0
    """Records refused whole (reasons in the report's `rejected`)."""
    skipped: int = 0
    """Records with no value yet (reasons in the report's `skipped`)."""
    ignored: int = 0
    """Records of types AUREN does not store."""

    @property
    def total(self) -> int:
        return sum(self.to_dict().values())

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RecordOutcomes:
        """From counts by outcome; a missing one is 0, one that is no number a ValueError."""
        counts = {name: raw.get(name) or 0 for name in OUTCOMES}
        if wrong := {k: v for k, v in counts.items() if not isinstance(v, int | float)}:
            raise ValueError(f"record outcomes that are not numbers: {wrong!r}")
        return cls(**{name: int(count) for name, count in counts.items()})

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def __add__(self, other: RecordOutcomes) -> RecordOutcomes:
        if not isinstance(other, RecordOutcomes):
            return NotImplemented
        return RecordOutcomes(**{k: getattr(self, k) + getattr(other, k) for k in OUTCOMES})


class Rejections(list[Rejection]):
    """The reasons, that also act as their count.

    Callers read ``report.rejected`` two ways: as the reasons
    (``report.rejected[0].reason``) and as a number (``report.rejected == 2``,
    ``report.rejected > 0``). A list that compares with an ``int`` by its count
    serves both without a second, easily confused attribute.

    ``total`` is the server's count, which may exceed the reasons it listed (it caps
    the list for a payload with millions of bad records); comparisons use it.
    """

    def __init__(self, items: Iterable[Rejection] = (), total: int | None = None) -> None:
        super().__init__(items)
        self.total = len(self) if total is None else max(total, len(self))

    @classmethod
    def __get_pydantic_core_schema__(cls, _: object, handler: Callable[[object], Any]) -> Any:
        # For pydantic (the server): a plain list of rejections; the report wraps it.
        return handler(list[Rejection])

    # Comparing with an int compares the count; anything else is a plain list comparison.
    def __eq__(self, other: object) -> bool:
        return self.total == other if _is_int(other) else super().__eq__(other)

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
        return Rejections([*self, *other], total=self.total + _count(other))

    def __repr__(self) -> str:
        return f"Rejections(total={self.total}, {list.__repr__(self)})"


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int, but `report.rejected == True` is not a meaningful question.
    return isinstance(value, int) and not isinstance(value, bool)


def _as_list(value: object) -> list[Rejection]:
    if isinstance(value, list):
        return value
    raise TypeError(f"cannot compare Rejections with {type(value).__name__}")


def _count(reasons: list[Rejection]) -> int:
    return reasons.total if isinstance(reasons, Rejections) else len(reasons)


def _number(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key) or 0
    if not isinstance(value, int | float):
        raise ValueError(f"{key!r} is not a number: {value!r}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class IngestReport:
    """What an ingestion did; reports add up with ``+`` (an export ingested in runs).

    ``accepted``, ``duplicates``, ``updated`` and ``deleted`` count values (a workout
    gives several); ``outcomes`` accounts for every one of the ``records`` examined.
    ``rejected`` and ``skipped`` list reasons (the server keeps up to its report limit)
    and also compare as their counts, ``rejected_count`` and ``skipped_count``.
    """

    __pydantic_config__ = _DESCRIBED

    accepted: int = 0
    """Values new to the store."""
    deleted: int = 0
    """Values removed (records the vendor deleted)."""
    duplicates: int = 0
    """Values already stored (a redelivery)."""
    updated: int = 0
    """Values the vendor corrected since last time."""
    records: int = 0
    """Records examined in the payload."""
    rejected: Rejections = field(default_factory=Rejections)
    """Refused records and values, with reasons (at most the report limit listed)."""
    rejected_count: int = 0
    """How many were refused."""
    skipped: Rejections = field(default_factory=Rejections)
    """Records with no value yet (pending vendor scores), with reasons."""
    skipped_count: int = 0
    """How many records carried no value yet."""
    outcomes: RecordOutcomes = field(default_factory=RecordOutcomes)
    """Every record examined, by outcome; adds up to `records`."""
    ignored: dict[str, int] = field(default_factory=dict)
    """Records of types AUREN does not store, by type (at most 64 types named)."""

    def __post_init__(self) -> None:
        # One count per list: the larger of the count given and the list's own.
        for name in ("rejected", "skipped"):
            reasons: list[Rejection] = getattr(self, name)
            total = max(getattr(self, f"{name}_count"), _count(reasons))
            object.__setattr__(self, name, Rejections(reasons, total=total))
            object.__setattr__(self, f"{name}_count", total)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IngestReport:
        """A report as the ingestion graph's state holds it."""
        reasons = {
            name: [Rejection.from_dict(r) for r in raw.get(name) or [] if isinstance(r, Mapping)]
            for name in ("rejected", "skipped")
        }
        counts = ("accepted", "deleted", "duplicates", "updated", "records")
        ignored = dict(raw.get("ignored") or {})
        return cls(
            **{name: _number(raw, name) for name in counts},
            rejected=Rejections(reasons["rejected"]),
            rejected_count=_number(raw, "rejected_count"),
            skipped=Rejections(reasons["skipped"]),
            skipped_count=_number(raw, "skipped_count"),
            outcomes=RecordOutcomes.from_dict(raw.get("outcomes") or {}),
            ignored={str(kind): _number(ignored, kind) for kind in ignored},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as the ingestion graph's state holds it."""
        data = asdict(self)
        return {**data, "rejected": list(data["rejected"]), "skipped": list(data["skipped"])}

    def __add__(self, other: IngestReport) -> IngestReport:
        if not isinstance(other, IngestReport):
            return NotImplemented
        ignored = dict(self.ignored)
        for kind, count in other.ignored.items():
            ignored[kind] = ignored.get(kind, 0) + count
        counts = ("accepted", "deleted", "duplicates", "updated", "records")
        return IngestReport(
            **{name: getattr(self, name) + getattr(other, name) for name in counts},
            rejected=self.rejected + other.rejected,
            skipped=self.skipped + other.skipped,
            outcomes=self.outcomes + other.outcomes,
            ignored=ignored,
        )

    def __radd__(self, other: object) -> IngestReport:
        # Lets sum(reports) start from its default 0.
        return self if other == 0 else NotImplemented


@dataclass(frozen=True)
class MetricRow:
    """One stored value of a canonical metric.

    Fields are attributes, and also readable as ``row["value"]`` (so a row can stand in
    where a dict was expected).
    """

    __pydantic_config__ = _DESCRIBED

    metric: str
    """Canonical metric name."""
    value: float
    """The value, in the metric's fixed unit."""
    unit: str
    """The metric's unit."""
    day: date
    """The user's local calendar day of the value."""
    timestamp: datetime | None
    """The instant of a sample (timezone-aware); None for a daily value."""
    device: str
    """The device the value came from."""

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.keys() else default

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MetricRow:
        """A row as the metrics route sends it (dates and instants in ISO 8601)."""
        return cls(
            metric=str(raw["metric"]),
            value=float(raw["value"]),
            unit=str(raw["unit"]),
            day=date.fromisoformat(str(raw["day"])),
            timestamp=_instant(raw.get("timestamp")),
            device=str(raw.get("device", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates and instants as ISO 8601 strings."""
        stamp = self.timestamp.isoformat() if self.timestamp else None
        return {**asdict(self), "day": self.day.isoformat(), "timestamp": stamp}


@dataclass(frozen=True)
class DeviceConnection:
    """A device connected to a user, as anyone may see it: never a token."""

    __pydantic_config__ = _DESCRIBED

    user_id: str
    """The AUREN user it belongs to."""
    device: str
    """The device (vendor)."""
    vendor_user_id: str | None
    """The user's account id at the vendor."""
    status: ConnectionStatus
    """needs_reauth: the vendor refused the stored tokens, connect again."""
    connected_at: datetime
    """When it was connected (again)."""
    updated_at: datetime
    """When it last changed."""
    last_sync_at: datetime | None = None
    """When data last arrived from the vendor."""
    last_sync_status: str | None = None
    """How the last sync ended."""
    last_error: str | None = None
    """Why the connection stopped working, if it did."""
    has_api_token: bool = False
    """The server holds vendor API tokens for it."""
    has_ingest_token: bool = False
    """The device pushes with an ingest token."""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DeviceConnection:
        """A connection as the devices routes send it."""
        status = str(raw["status"])
        if status not in get_args(ConnectionStatus):
            raise ValueError(f"unknown connection status {status!r}")
        return cls(
            user_id=str(raw["user_id"]),
            device=str(raw["device"]),
            vendor_user_id=raw.get("vendor_user_id"),
            status=cast(ConnectionStatus, status),
            connected_at=datetime.fromisoformat(str(raw["connected_at"])),
            updated_at=datetime.fromisoformat(str(raw["updated_at"])),
            last_sync_at=_instant(raw.get("last_sync_at")),
            last_sync_status=raw.get("last_sync_status"),
            last_error=raw.get("last_error"),
            has_api_token=bool(raw.get("has_api_token")),
            has_ingest_token=bool(raw.get("has_ingest_token")),
        )
