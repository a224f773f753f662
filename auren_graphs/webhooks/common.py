"""What every webhook route shares: refusals, bounded bodies, timestamps."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class RefusedError(Exception):
    """A request refused with a 4xx (or 503) and a reason for the sender; nothing stored.

    Messages name what is wrong, never a secret, a token or a signature value.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)

    @property
    def outcome(self) -> str:
        return "unavailable" if self.status >= 500 else "refused"


class DroppedError(RefusedError):
    """A delivery acknowledged (so the sender stops retrying) and dropped: nothing is
    recorded or stored (its vendor account was disconnected)."""

    def __init__(self, message: str) -> None:
        super().__init__(200, message)

    def response(self) -> JSONResponse:
        return JSONResponse({"status": "ignored", "reason": self.message})

    @property
    def outcome(self) -> str:
        return "ignored"


def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (`application/json` or `application/*+json`)."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    shown = media[:60] or "none"
    raise RefusedError(415, f"the body must be sent as application/json (content type: {shown})")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` bytes.

    A declared Content-Length over the limit is refused before reading anything; a body
    without one (chunked) is counted while it streams in, so at most `limit` bytes plus
    one chunk are ever held.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise RefusedError(400, "the Content-Length header is not a number")
        if int(declared) > limit:
            raise RefusedError(
                413, f"the body is {int(declared)} bytes; the limit is {limit} bytes"
            )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RefusedError(413, f"the body is larger than the limit of {limit} bytes")
    return bytes(body)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(body: bytes) -> Any:
    """The body as JSON, or a 400 that says where it is broken."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefusedError(400, f"the body is not valid UTF-8 (at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RefusedError(
            400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise RefusedError(400, f"the body is not valid JSON: {exc}") from None


def check_timestamp(raw: str | None, header: str, *, now: float, window: float) -> float:
    """The signed timestamp as Unix seconds; 401 when missing, malformed or outside
    `window` seconds of `now` either way (a replay, or a clock far off).

    Vendors differ in units (WHOOP milliseconds, Oura seconds); a value too large to be
    seconds in this era (over 10^11, year 5138) is taken as milliseconds.
    """
    if raw is None or not raw.strip():
        raise RefusedError(401, f"the {header} header is missing")
    try:
        value = float(raw.strip())
    except ValueError:
        raise RefusedError(401, f"the {header} header is not a Unix timestamp") from None
    if not math.isfinite(value) or value < 0:
        raise RefusedError(401, f"the {header} header is not a Unix timestamp")
    seconds = value / 1000.0 if value > 1e11 else value
    skew = seconds - now
    if abs(skew) > window:
        when = "in the future" if skew > 0 else "old"
        raise RefusedError(
            401,
            f"the signed timestamp is {abs(skew):.0f} s {when}; deliveries outside "
            f"{window:.0f} s are refused as replays",
        )
    return seconds
