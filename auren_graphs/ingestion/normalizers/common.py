"""Helpers every normalizer shares: decoding a payload, reading instants and days."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auren_graphs.canonical import PayloadError

MAX_JSON_DEPTH = 64


@dataclass(frozen=True, slots=True)
class NormalizeContext:
    """Who the payload belongs to: our user, and the vendor account connected for them."""

    user_id: str
    vendor_user_id: str | None = None


def _reject_constant(name: str) -> float:
    raise PayloadError(f"payload is not valid JSON: {name} is not a number JSON allows")


def load_json(payload: object) -> Any:
    """The payload as parsed JSON; text is parsed, bytes must be UTF-8."""
    if isinstance(payload, bytes | bytearray):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(
                f"payload is not valid UTF-8 ({exc.reason} at byte {exc.start})"
            ) from exc
    if isinstance(payload, str):
        try:
            payload = json.loads(payload, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise PayloadError(
                f"payload is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        except RecursionError as exc:
            raise PayloadError("payload is not valid JSON: nested too deeply") from exc
    _check_depth(payload)
    return payload


def _check_depth(value: object) -> None:
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise PayloadError(f"payload is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise PayloadError(f"payload contains a non-finite number ({item!r})")


def parse_instant(text: object) -> datetime:
    """An aware datetime from ISO 8601 (`Z` or an offset) or Apple's `2026-11-02 07:30:00 -0800`.

    Raises ValueError when the text has no offset: a local time without one cannot be
    placed on a user's calendar day reliably.
    """
    value = _timestamp_text(text)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise ValueError(f"timestamp {text!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return parsed


def _timestamp_text(text: object) -> str:
    """The text of a timestamp, stripped, with `Z` spelled as the offset it means."""
    if not isinstance(text, str):
        raise ValueError(f"timestamp {text!r} is not a string")
    value = text.strip()
    return value[:-1] + "+00:00" if value.endswith("Z") else value


_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}")


def zone_named(name: object) -> ZoneInfo:
    """The IANA time zone `name` ("America/Los_Angeles"); ValueError when there is none."""
    if not isinstance(name, str) or len(name) > 64 or not _ZONE_NAME.fullmatch(name.strip()):
        raise ValueError(f"{name!r} is not an IANA time zone name such as 'Europe/Paris'")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_local_instant(text: object, zone: ZoneInfo) -> datetime:
    """An aware datetime in `zone` from a local time there (`2026-11-02T07:30:00`), or
    from an instant with its own offset, which is then expressed in `zone`.

    A local time the zone's clocks skipped (the hour lost to DST) raises ValueError; one
    they passed twice is the earlier of the two instants.
    """
    value = _timestamp_text(text)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not ISO 8601") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(zone)
    aware = parsed.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != parsed:
        raise ValueError(
            f"{text!r} did not happen in {zone.key}: the clocks skipped that hour (DST)"
        )
    return aware


def parse_day(text: object) -> date:
    """A calendar day from `YYYY-MM-DD`."""
    if not isinstance(text, str):
        raise ValueError(f"day {text!r} is not a string")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"day {text!r} is not YYYY-MM-DD") from None


def number(value: object) -> float | None:
    """A finite number, or None when the vendor sent null or nothing."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not finite")
    return float(value)
