"""Manual entries: local times with an IANA time zone, unit spellings, and whose they are."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from auren_graphs.canonical import PayloadError
from auren_graphs.ingestion.normalizers import normalize as normalize_any
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.normalizers.manual import normalize

CTX = NormalizeContext(user_id="user-alice")


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "entry_id": "e-1",
        "metric": "heart_rate",
        "value": 61,
        "unit": "bpm",
        "measured_at": "2026-11-02T07:30:00",
        "timezone": "America/Los_Angeles",
    }
    return {k: v for k, v in (base | fields).items() if v is not None}


def stored(**fields: Any) -> tuple[date, datetime]:
    batch = normalize({"entries": [entry(**fields)]}, CTX)
    assert batch.rejections == [], batch.rejections
    [obs] = batch.observations
    assert obs.timestamp is not None
    return obs.day, obs.timestamp


def refused(**fields: Any) -> str:
    batch = normalize({"entries": [entry(**fields)]}, CTX)
    assert batch.observations == []
    [rejection] = batch.rejections
    return rejection.reason


# --- local times in a zone ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "zone", "instant_utc", "day"),
    [
        # Winter and summer time in the same zone: the offset follows the date.
        ("2026-01-15T07:30:00", "America/Los_Angeles", "2026-01-15T15:30:00", "2026-01-15"),
        ("2026-07-15T07:30:00", "America/Los_Angeles", "2026-07-15T14:30:00", "2026-07-15"),
        # Just before and after the spring-forward hour (2026-03-08 02:00 -> 03:00).
        ("2026-03-08T01:59:00", "America/Los_Angeles", "2026-03-08T09:59:00", "2026-03-08"),
        ("2026-03-08T03:00:00", "America/Los_Angeles", "2026-03-08T10:00:00", "2026-03-08"),
        # Late evening: the local day, not the UTC one.
        ("2026-11-01T23:30:00", "America/New_York", "2026-11-02T04:30:00", "2026-11-01"),
        ("2026-11-02T00:30:00", "Asia/Tokyo", "2026-11-01T15:30:00", "2026-11-02"),
        # A zone with a half-hour offset.
        ("2026-11-02T07:30:00", "Asia/Kolkata", "2026-11-02T02:00:00", "2026-11-02"),
    ],
)
def test_a_local_time_and_a_zone_give_the_instant_and_the_local_day(
    local: str, zone: str, instant_utc: str, day: str
) -> None:
    got_day, timestamp = stored(measured_at=local, timezone=zone)
    assert timestamp.astimezone(UTC) == datetime.fromisoformat(instant_utc).replace(tzinfo=UTC)
    assert got_day == date.fromisoformat(day)
    assert timestamp.replace(tzinfo=None) == datetime.fromisoformat(local)  # kept as local


def test_a_time_the_clocks_skipped_is_refused() -> None:
    reason = refused(measured_at="2026-03-08T02:30:00")
    assert "did not happen in America/Los_Angeles" in reason


def test_a_time_the_clocks_passed_twice_is_the_first_of_the_two() -> None:
    _, timestamp = stored(measured_at="2026-11-01T01:30:00")
    assert timestamp.utcoffset() == timedelta(hours=-7)  # still PDT


def test_an_offset_gives_the_instant_and_the_zone_its_local_day() -> None:
    day, timestamp = stored(measured_at="2026-11-02T15:30:00Z", timezone="Asia/Tokyo")
    assert timestamp == datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    assert day == date(2026, 11, 3)


def test_a_daily_value_with_a_date_ignores_the_zone() -> None:
    batch = normalize(
        {"entries": [entry(metric="resting_heart_rate", measured_at=None, date="2026-11-02")]},
        CTX,
    )
    [obs] = batch.observations
    assert (obs.day, obs.timestamp) == (date(2026, 11, 2), None)


@pytest.mark.parametrize(
    ("zone", "reason"),
    [
        ("Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("../../etc/passwd", "is not an IANA time zone name"),
        ("/etc/localtime", "is not an IANA time zone name"),
        (-8, "is not an IANA time zone name"),
        ("x" * 200, "is not an IANA time zone name"),
    ],
)
def test_an_unknown_zone_is_refused_with_a_reason(zone: object, reason: str) -> None:
    assert reason in refused(timezone=zone)


def test_a_local_time_without_a_zone_is_refused_and_says_how_to_fix_it() -> None:
    reason = refused(timezone=None)
    assert "no UTC offset" in reason and "timezone" in reason


def test_an_offset_without_a_zone_still_works() -> None:
    day, timestamp = stored(measured_at="2026-11-02T07:30:00-08:00", timezone=None)
    assert timestamp == datetime(2026, 11, 2, 7, 30, tzinfo=timezone(timedelta(hours=-8)))
    assert day == date(2026, 11, 2)


# --- unit spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "unit",
    ["bpm", "BPM", "beats/min", "Beats / Min", "count/min", "beats per minute", "/min"],
)
def test_heart_rate_spellings_are_bpm(unit: str) -> None:
    batch = normalize({"entries": [entry(unit=unit)]}, CTX)
    assert [o.value for o in batch.observations] == [61.0], batch.rejections


@pytest.mark.parametrize("unit", ["breaths/min", "count/min", "breaths per minute"])
def test_breathing_rate_spellings(unit: str) -> None:
    batch = normalize(
        {"entries": [entry(metric="respiratory_rate", value=14, unit=unit, date="2026-11-02")]},
        CTX,
    )
    [obs] = batch.observations
    assert obs.value == 14.0


@pytest.mark.parametrize(
    ("metric", "value", "unit", "expected"),
    [
        ("sleep_duration", 7.5, "hours", 27_000.0),
        ("sleep_duration", 90, "minutes", 5_400.0),
        ("steps", 8000, "steps", 8000.0),
        ("active_energy", 418.4, "kilojoules", 100.0),
        ("workout_distance", 2, "miles", 3218.688),
    ],
)
def test_common_word_spellings_convert(
    metric: str, value: float, unit: str, expected: float
) -> None:
    batch = normalize(
        {"entries": [entry(metric=metric, value=value, unit=unit, date="2026-11-02")]}, CTX
    )
    [obs] = batch.observations
    assert obs.value == pytest.approx(expected)


# --- whose entries ------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["", "   "])
def test_a_payload_naming_no_user_is_refused_when_the_call_names_none(user: str) -> None:
    with pytest.raises(PayloadError, match="names no user and neither does the call"):
        normalize({"entries": [entry()]}, NormalizeContext(user_id=user))


@pytest.mark.parametrize(
    "payload",
    [
        {"entries": [entry(user_id="user-mallory")]},
        {"user_id": "user-mallory", "entries": [entry()]},
    ],
)
def test_a_user_named_in_the_payload_never_stands_in_for_the_caller(
    payload: dict[str, Any],
) -> None:
    with pytest.raises(PayloadError, match="never from the payload"):
        normalize(payload, NormalizeContext(user_id=""))


def test_the_refusal_reaches_every_caller_of_the_dispatcher() -> None:
    with pytest.raises(PayloadError, match="nothing was stored"):
        normalize_any("manual", {"entries": [entry()]}, NormalizeContext(user_id=""))
