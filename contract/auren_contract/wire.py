"""The shapes of what the server answers, written once for both sides.

Standard-library dataclasses. The server returns them from its routes and graphs, and
pydantic validates and documents them there (FastAPI response models, graph state),
taking each field's description from the docstring under it (`__pydantic_config__`).
The client builds the same classes from the JSON it receives, with `from_dict`, which
raises `ValueError` (or `KeyError`, `TypeError`) for an answer that does not fit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any, Final, Literal, cast, get_args

# Read by pydantic only (a plain dict, so this module needs nothing beyond the stdlib).
_DESCRIBED: Final = {"use_attribute_docstrings": True}

#: What can become of a record examined in a payload; every record gets exactly one.
OUTCOMES: Final[tuple[str, ...]] = (
    "accepted", "duplicate", "updated", "rejected", "skipped", "ignored",
)  # fmt: skip
ConnectionStatus = Literal["connected", "needs_reauth", "disconnected"]


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
