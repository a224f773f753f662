"""Stand-ins of the WHOOP and Oura APIs on 127.0.0.1, for the webhook and connection tests.

`VendorStandIn` serves documents put into it by path (`put`), only to a request whose bearer
token belongs to the document's owner (a 401 for an unknown, expired or revoked token, a 404
for someone else's or a missing document, as the real APIs answer). Documents come from the
vendors' schemas (tests/fixtures/whoop, tests/fixtures/oura) with ids and owners rewritten
per test. `mode` switches behaviour: `ok`, `fail` (500), `hang` (never answers), `drop`
(closes the connection mid-answer). `calls` records each API request's path and answer;
`requests` records every request (kind, method, path, query, status, monotonic time,
Retry-After) so a test can check that a client waited as long as it was told to.

`grant(token, user, expires_in=..., scopes=...)` makes a token valid (for a while, for some
scopes), `revoke(token)` ends it, `delete(path)` removes a document (the object of a
`*.deleted` webhook), `throttle(nth, retry_after=...)` makes the nth API call from now answer
429 with `Retry-After`.

`WhoopApiStandIn` and `OuraApiStandIn` add the vendors' profile endpoints, the paged
collections a backfill reads (documents generated from the fixtures, one per day for N days,
owned by one vendor user, with fresh ids) and, for Oura, the webhook subscription API. The
OAuth authorization servers that issue the tokens live in `tests.support.oauth_standins`.
What was checked in the vendors' documentation, and what is assumed, is written on each class.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import math
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from tests.support.server import free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Endpoint = Callable[[Request], Awaitable[Response]]


def fixture(vendor: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / vendor / f"{name}.json").read_text())
    return document


def serve_in_thread(app: ASGIApp, port: int) -> uvicorn.Server:
    """Runs `app` with uvicorn on 127.0.0.1:`port` in a daemon thread; returns once it listens."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"stand-in on port {port} did not start")
        time.sleep(0.02)
    return server


@dataclass
class Call:
    """One request a stand-in answered. `path` is the request's full path (prefix included);
    `status` is 0 when the stand-in dropped the connection; `at` is `time.monotonic()`."""

    kind: str  # "api", "oauth" (authorize, revoke), "token" or "webhook" (subscription API)
    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float
    retry_after: int | None = None


@dataclass
class _Throttle:
    kind: str
    first: int
    last: int
    retry_after: int


@dataclass
class _Entry:
    """A record of a paged collection: a stored document (by path) or a row (heart rate)."""

    owner: str
    key: datetime | date
    path: str | None = None
    row: dict[str, Any] | None = None


class _Dropped(StreamingResponse):
    """An answer whose connection the stand-in closes midway."""


class BadQueryError(ValueError):
    """A query the vendor would refuse with 400."""


@dataclass
class VendorStandIn:
    """`prefix` mimics the real base URL's path (WHOOP's API lives under /developer)."""

    prefix: str = ""
    port: int = field(default_factory=free_port)
    mode: str = "ok"
    tokens: dict[str, str] = field(default_factory=dict)
    documents: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    expiries: dict[str, float] = field(default_factory=dict)  # token -> time.time() deadline
    scopes: dict[str, frozenset[str]] = field(default_factory=dict)  # token -> granted scopes
    requests: list[Call] = field(default_factory=list)
    collections: dict[str, list[_Entry]] = field(default_factory=dict)
    _throttles: list[_Throttle] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{self.prefix}"

    def set(self, mode: str) -> None:
        self.mode = mode

    # ------------------------------------------------------------------ tokens

    def grant(
        self,
        token: str,
        vendor_user: str,
        *,
        expires_in: float | None = None,
        scopes: Iterable[str] | None = None,
    ) -> None:
        """`token` is a valid access token of `vendor_user`: for `expires_in` seconds when
        given, and only for endpoints that need one of `scopes` when given."""
        self.tokens[token] = vendor_user
        if expires_in is not None:
            self.expiries[token] = time.time() + expires_in
        if scopes is not None:
            self.scopes[token] = frozenset(scopes)

    def revoke(self, token: str) -> None:
        """`token` answers 401 from now on."""
        self.tokens.pop(token, None)
        self.expiries.pop(token, None)
        self.scopes.pop(token, None)

    def revoke_access(self, token: str) -> None:
        """What the vendor's own revocation endpoint does with a bearer token (overridden by
        the stand-ins with an authorization server: the whole grant goes)."""
        self.revoke(token)

    def required_scopes(self, path: str) -> frozenset[str] | None:
        """Scopes of which a token needs one for `path` (relative to the prefix); None: any."""
        return None

    def _bearer(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _user(self, request: Request, path: str) -> str | Response:
        """The vendor user of the request's bearer token, or the 401 the vendor answers."""
        token = self._bearer(request)
        user = self.tokens.get(token)
        if user is None:
            return JSONResponse({"error": "invalid token"}, status_code=401)
        deadline = self.expiries.get(token)
        if deadline is not None and time.time() >= deadline:
            return JSONResponse({"error": "token expired"}, status_code=401)
        granted, needed = self.scopes.get(token), self.required_scopes(path)
        if granted is not None and needed is not None and not granted & needed:
            body = {"error": "insufficient scope", "needs_one_of": sorted(needed)}
            return JSONResponse(body, status_code=401)
        return user

    # ------------------------------------------------------------------ documents

    def put(self, path: str, owner: str, document: dict[str, Any]) -> None:
        self.documents[path] = (owner, document)

    def delete(self, path: str) -> bool:
        """The document at `path` is gone (404 by id, absent from its collection)."""
        return self.documents.pop(path, None) is not None

    def index(
        self,
        collection: str,
        owner: str,
        key: datetime | date,
        *,
        path: str | None = None,
        row: dict[str, Any] | None = None,
    ) -> None:
        """Lists the document at `path` (or `row`) in `collection` under sort key `key`."""
        self.collections.setdefault(collection, []).append(_Entry(owner, key, path, row))

    def _live(self, collection: str, owner: str) -> list[tuple[datetime | date, dict[str, Any]]]:
        found = []
        for entry in self.collections.get(collection, []):
            if entry.owner != owner:
                continue
            if entry.row is not None:
                found.append((entry.key, entry.row))
            elif entry.path is not None and entry.path in self.documents:
                found.append((entry.key, self.documents[entry.path][1]))
        return found

    def calls_to(self, path: str) -> list[int]:
        return [status for called, status in self.calls if called == path]

    def requests_to(self, path: str, method: str | None = None) -> list[Call]:
        """Requests to `path` (with or without the prefix), optionally of one method."""
        return [
            call
            for call in self.requests
            if call.path in (path, self.prefix + path) and method in (None, call.method)
        ]

    # ------------------------------------------------------------------ 429s

    def throttle(
        self, nth: int = 1, *, retry_after: int = 1, times: int = 1, kind: str = "api"
    ) -> None:
        """The nth request of `kind` from now (1: the next) and the `times - 1` after it
        answer 429 with `Retry-After: retry_after` (seconds)."""
        done = self._counts.get(kind, 0)
        self._throttles.append(
            _Throttle(kind, done + nth, done + nth + times - 1, math.ceil(retry_after))
        )

    def throttle_headers(self, retry_after: int) -> dict[str, str]:
        return {"Retry-After": str(retry_after)}

    def retry_gaps(self, kind: str = "api") -> list[tuple[int, float | None]]:
        """Per 429 answered: (Retry-After, seconds until the next request to the same method
        and path, None when there was none)."""
        gaps: list[tuple[int, float | None]] = []
        for n, call in enumerate(self.requests):
            if call.kind != kind or call.status != 429 or call.retry_after is None:
                continue
            later = (
                c.at - call.at
                for c in self.requests[n + 1 :]
                if (c.method, c.path) == (call.method, call.path)
            )
            gaps.append((call.retry_after, next(later, None)))
        return gaps

    def _throttled(self, kind: str) -> tuple[Response, int] | None:
        count = self._counts[kind] = self._counts.get(kind, 0) + 1
        for rule in self._throttles:
            if rule.kind == kind and rule.first <= count <= rule.last:
                headers = self.throttle_headers(rule.retry_after)
                body = {"error": "Too Many Requests"}
                return JSONResponse(body, status_code=429, headers=headers), rule.retry_after
        return None

    # ------------------------------------------------------------------ serving

    async def _mode_answer(self) -> Response | None:
        if self.mode == "fail":
            return JSONResponse({"error": "stand-in failure"}, status_code=500)
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "drop":
            return _Dropped(_dropping(), media_type="application/json")
        return None

    def _wrap(self, kind: str, endpoint: Endpoint) -> Endpoint:
        """`endpoint` with 429s, the API's mode (for kind "api") and the call records."""

        async def handle(request: Request) -> Response:
            retry_after = None
            throttled = self._throttled(kind)
            response: Response | None = None
            if throttled is not None:
                response, retry_after = throttled
            elif kind == "api":
                response = await self._mode_answer()
            if response is None:
                response = await endpoint(request)
            status = 0 if isinstance(response, _Dropped) else response.status_code
            path = request.url.path
            if kind == "api":
                relative = path[len(self.prefix) :] if path.startswith(self.prefix) else path
                self.calls.append((relative, status))
            query = dict(request.query_params)
            self.requests.append(
                Call(kind, request.method, path, query, status, time.monotonic(), retry_after)
            )
            return response

        return handle

    async def _document(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        user = self._user(request, path)
        if isinstance(user, Response):
            return user
        found = self.documents.get(path)
        if found is None or found[0] != user:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(found[1])

    def _routes(self) -> list[BaseRoute]:
        """Specific routes of subclasses go before this catch-all of documents by path."""
        return [
            Route(
                f"{self.prefix}/{{path:path}}", self._wrap("api", self._document), methods=["GET"]
            )
        ]

    def start(self) -> None:
        self._server = serve_in_thread(Starlette(routes=self._routes()), self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


async def _dropping() -> AsyncIterator[bytes]:
    yield b'{"records": ['
    raise ConnectionResetError("stand-in drops the connection")


# ------------------------------------------------------------------ paging helpers


def _encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError as error:
        raise BadQueryError("invalid next token") from error
    if not isinstance(state, dict):
        raise BadQueryError("invalid next token")
    return state


def _page(
    query: dict[str, str],
    token_param: str,
    bounds: tuple[str, ...],
    collection: str,
) -> tuple[dict[str, str | None], int]:
    """The range parameters (`bounds`) of a paged request and its offset. A next token
    carries the range it was issued for: repeating the range is optional, changing it is 400."""
    given = {name: query.get(name) for name in bounds}
    token = query.get(token_param)
    if token is None:
        return given, 0
    state = _decode_token(token)
    if state.get("c") != collection or not isinstance(state.get("o"), int):
        raise BadQueryError("next token of another query")
    issued: dict[str, str | None] = state.get("q", {})
    for name in bounds:
        if given[name] is not None and given[name] != issued.get(name):
            raise BadQueryError(f"{name} differs from the query the next token belongs to")
    return issued, state["o"]


def _next_token(collection: str, ranges: dict[str, str | None], offset: int) -> str:
    return _encode_token({"c": collection, "q": ranges, "o": offset})


def _unknown(query: dict[str, str], allowed: set[str]) -> None:
    extra = sorted(set(query) - allowed)
    if extra:
        raise BadQueryError(f"unknown query parameters {extra} (allowed: {sorted(allowed)})")


def _instant(value: str | None) -> datetime | None:
    """An ISO 8601 date-time (a bare date is its midnight); naive ones are UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadQueryError(f"not an ISO 8601 date-time: {value!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: str | None) -> date | None:
    """An ISO 8601 date, or the date of a date-time."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as error:
        raise BadQueryError(f"not an ISO 8601 date: {value!r}") from error


_LEADING_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?=T|$)")


def shift_days(value: Any, days: int) -> Any:
    """`value` (a fixture) with every ISO date and date-time moved by `days` whole days
    (the time of day and the offset kept) and `timestamp_unix` (ms) moved alike."""
    if isinstance(value, dict):
        return {
            key: item + days * 86_400_000
            if key == "timestamp_unix" and isinstance(item, int)
            else shift_days(item, days)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [shift_days(item, days) for item in value]
    if isinstance(value, str):
        found = _LEADING_DATE.match(value)
        if found:
            moved = date.fromisoformat(found.group(1)) + timedelta(days=days)
            return moved.isoformat() + value[10:]
    return value


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _days(count: int, last_day: date | None) -> list[date]:
    last = last_day or _yesterday()
    return [last - timedelta(days=back) for back in range(count - 1, -1, -1)]


# ------------------------------------------------------------------ documents per test


WHOOP_FIXTURE_DAY = date(2026, 11, 2)  # the day tests/fixtures/whoop/cycle.json starts


@dataclass
class WhoopNight:
    """One WHOOP night of a user: cycle, sleep and recovery (and a workout), ids fresh for
    each test. With `day`, every time in the documents moves to that day (the cycle starts
    on `day`, at the fixture's time of day)."""

    whoop_user: int
    cycle_id: int = field(default_factory=lambda: int(uuid.uuid4().int % 10**9))
    sleep_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    workout_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    day: date | None = None

    def _on_day(self, document: dict[str, Any]) -> dict[str, Any]:
        if self.day is None:
            return document
        moved: dict[str, Any] = shift_days(document, (self.day - WHOOP_FIXTURE_DAY).days)
        return moved

    def cycle(self) -> dict[str, Any]:
        document = {**fixture("whoop", "cycle"), "id": self.cycle_id, "user_id": self.whoop_user}
        return self._on_day(document)

    def sleep(self) -> dict[str, Any]:
        return self._on_day(
            {
                **fixture("whoop", "sleep"),
                "id": self.sleep_id,
                "cycle_id": self.cycle_id,
                "user_id": self.whoop_user,
            }
        )

    def recovery(self) -> dict[str, Any]:
        return self._on_day(
            {
                **fixture("whoop", "recovery"),
                "cycle_id": self.cycle_id,
                "sleep_id": self.sleep_id,
                "user_id": self.whoop_user,
            }
        )

    def workout(self) -> dict[str, Any]:
        document = {
            **fixture("whoop", "workout"),
            "id": self.workout_id,
            "user_id": self.whoop_user,
        }
        return self._on_day(document)

    def paths(self) -> dict[str, str]:
        """The API path of each document, by collection."""
        return {
            "cycle": f"/v2/cycle/{self.cycle_id}",
            "recovery": f"/v2/cycle/{self.cycle_id}/recovery",
            "sleep": f"/v2/activity/sleep/{self.sleep_id}",
            "workout": f"/v2/activity/workout/{self.workout_id}",
        }

    def serve(self, standin: VendorStandIn) -> None:
        owner, paths = str(self.whoop_user), self.paths()
        standin.put(paths["cycle"], owner, self.cycle())
        standin.put(paths["recovery"], owner, self.recovery())
        standin.put(paths["sleep"], owner, self.sleep())
        standin.put(paths["workout"], owner, self.workout())


def oura_document(name: str) -> dict[str, Any]:
    """An Oura fixture document with a fresh id."""
    document = copy.deepcopy(fixture("oura", name))
    document["id"] = str(uuid.uuid4())
    return document


OURA_DAILY = ("daily_sleep", "sleep", "daily_readiness", "daily_activity", "daily_spo2")
OURA_COLLECTIONS = (*OURA_DAILY, "heartrate")


@dataclass
class OuraDay:
    """One Oura day of a user: a document of each daily collection whose `day` is `day`
    (fresh ids, times moved from the fixture's day) and the heart rate rows of the fixture
    page, all on `day` (UTC)."""

    oura_user: str
    day: date
    ids: dict[str, str] = field(
        default_factory=lambda: {name: str(uuid.uuid4()) for name in OURA_DAILY}
    )

    def document(self, collection: str) -> dict[str, Any]:
        original = fixture("oura", f"{collection}_document")
        shift = (self.day - date.fromisoformat(original["day"])).days
        document: dict[str, Any] = shift_days(original, shift)
        document["id"] = self.ids[collection]
        return document

    def heartrate(self) -> list[dict[str, Any]]:
        rows = []
        for original in fixture("oura", "heartrate_page")["data"]:
            stamp = self.day.isoformat() + original["timestamp"][10:]
            unix = int(datetime.fromisoformat(stamp).timestamp() * 1000)
            rows.append({**original, "timestamp": stamp, "timestamp_unix": unix})
        return sorted(rows, key=lambda row: row["timestamp_unix"])

    def path(self, collection: str) -> str:
        return f"/v2/usercollection/{collection}/{self.ids[collection]}"

    def serve(self, standin: VendorStandIn) -> None:
        for collection in OURA_DAILY:
            standin.put(self.path(collection), self.oura_user, self.document(collection))


# ------------------------------------------------------------------ WHOOP API


WHOOP_COLLECTIONS = {
    "/v2/cycle": "cycle",
    "/v2/recovery": "recovery",
    "/v2/activity/sleep": "sleep",
    "/v2/activity/workout": "workout",
}


@dataclass
class WhoopApiStandIn(VendorStandIn):
    """The WHOOP v2 API (base URL `base_url`, i.e. AUREN_WHOOP_API_URL, under /developer).

    Verified in WHOOP's documentation:
    - GET /v2/user/profile/basic answers {user_id (int), email, first_name, last_name}, scope
      read:profile; DELETE /v2/user/access revokes the access token granted by the user
      (204, no body; 401 for an invalid token). The OpenAPI of https://developer.whoop.com/api,
      as mirrored at github.com/api-evangelist/whoop openapi/whoop-user-api-openapi.yml.
    - Collections /v2/cycle, /v2/recovery, /v2/activity/sleep, /v2/activity/workout take
      `limit` (default 10, at most 25), `start` (inclusive), `end` (exclusive) and
      `nextToken`, answer {"records": [...], "next_token": ...} sorted by start time,
      newest first, and are done when next_token is absent or empty; the next token is sent
      with the same query parameters. https://developer.whoop.com/docs/developing/pagination,
      https://developer.whoop.com/api (mirrored at
      https://context7.com/websites/developer_whoop_api/llms.txt).
    - Scopes read:recovery, read:cycles, read:workout, read:sleep, read:profile,
      read:body_measurement (same OpenAPI).
    - 429 when rate limited, with X-RateLimit-Limit / -Remaining / -Reset headers
      (https://developer.whoop.com/docs/developing/rate-limiting).

    Assumed (not in the documentation found):
    - A 429 also carries `Retry-After` (WHOOP documents X-RateLimit-Reset; both are sent).
    - The recovery collection is filtered and sorted by the start of the recovery's cycle.
    - A `limit` outside 1..25, a malformed start/end or next token, a next token used with
      a different start/end, and unknown query parameters answer 400 (the last one is the
      stand-in being strict, so a misspelt `next_token` cannot loop forever).
    - next_token is left out of the last page (the schema: "If the token is not present,
      there are no more records").
    - A token lacking the scope of an endpoint answers 401.
    - `page_size` (stand-in only) caps a page below `limit`, so tests see several pages.
    """

    prefix: str = "/developer"
    page_size: int | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    nights: dict[str, list[WhoopNight]] = field(default_factory=dict)

    def required_scopes(self, path: str) -> frozenset[str] | None:
        if path.startswith("/v2/user/profile"):
            return frozenset({"read:profile"})
        if path.startswith("/v2/user/measurement"):
            return frozenset({"read:body_measurement"})
        if path.startswith("/v2/recovery") or (
            path.startswith("/v2/cycle/") and path.endswith("/recovery")
        ):
            return frozenset({"read:recovery"})
        if path.startswith("/v2/activity/sleep") or (
            path.startswith("/v2/cycle/") and path.endswith("/sleep")
        ):
            return frozenset({"read:sleep"})
        if path.startswith("/v2/cycle"):
            return frozenset({"read:cycles"})
        if path.startswith("/v2/activity/workout"):
            return frozenset({"read:workout"})
        return None

    def throttle_headers(self, retry_after: int) -> dict[str, str]:
        return {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "100, 100;window=60, 10000;window=86400",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(retry_after),
        }

    def add_user(
        self,
        whoop_user: int,
        *,
        days: int = 0,
        last_day: date | None = None,
        email: str | None = None,
        first_name: str = "Test",
        last_name: str = "Member",
    ) -> list[WhoopNight]:
        """A WHOOP member with a profile and `days` nights of data, one per day up to
        `last_day` (default yesterday, UTC), oldest first."""
        self.profiles[str(whoop_user)] = {
            "user_id": whoop_user,
            "email": email or f"member{whoop_user}@example.com",
            "first_name": first_name,
            "last_name": last_name,
        }
        nights = [WhoopNight(whoop_user, day=day) for day in _days(days, last_day)]
        for night in nights:
            self.add_night(night)
        return nights

    def add_night(self, night: WhoopNight) -> None:
        """Serves the night's documents by id and lists them in the collections."""
        night.serve(self)
        owner, paths = str(night.whoop_user), night.paths()
        cycle_start = datetime.fromisoformat(night.cycle()["start"])
        self.index("cycle", owner, cycle_start, path=paths["cycle"])
        self.index("recovery", owner, cycle_start, path=paths["recovery"])
        sleep_start = datetime.fromisoformat(night.sleep()["start"])
        self.index("sleep", owner, sleep_start, path=paths["sleep"])
        workout_start = datetime.fromisoformat(night.workout()["start"])
        self.index("workout", owner, workout_start, path=paths["workout"])
        self.nights.setdefault(owner, []).append(night)

    def records(
        self,
        collection: str,
        whoop_user: int | str,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        """What paging `collection` ("cycle", "recovery", "sleep", "workout") to the end with
        this start and end returns, in the API's order (newest first)."""
        low = _instant(start) if isinstance(start, str) else start
        high = _instant(end) if isinstance(end, str) else end
        return self._select(collection, str(whoop_user), low, high)

    def _select(
        self, collection: str, owner: str, start: datetime | None, end: datetime | None
    ) -> list[dict[str, Any]]:
        chosen = [
            (key, document)
            for key, document in self._live(collection, owner)
            if isinstance(key, datetime)
            and (start is None or key >= start)
            and (end is None or key < end)
        ]
        chosen.sort(key=lambda pair: pair[0], reverse=True)
        return [document for _, document in chosen]

    async def _profile(self, request: Request) -> Response:
        user = self._user(request, "/v2/user/profile/basic")
        if isinstance(user, Response):
            return user
        profile = self.profiles.get(user) or {
            "user_id": int(user) if user.isdigit() else user,
            "email": f"member{user}@example.com",
            "first_name": "Test",
            "last_name": "Member",
        }
        return JSONResponse(profile)

    async def _revoke_access(self, request: Request) -> Response:
        user = self._user(request, "/v2/user/access")
        if isinstance(user, Response):
            return user
        self.revoke_access(self._bearer(request))
        return Response(status_code=204)

    async def _collection(self, request: Request) -> Response:
        relative = request.url.path[len(self.prefix) :]
        collection = WHOOP_COLLECTIONS[relative]
        user = self._user(request, relative)
        if isinstance(user, Response):
            return user
        query = dict(request.query_params)
        try:
            _unknown(query, {"limit", "start", "end", "nextToken"})
            limit = int(query.get("limit", "10"))
            if not 1 <= limit <= 25:
                raise BadQueryError("limit must be between 1 and 25")
            ranges, offset = _page(query, "nextToken", ("start", "end"), collection)
            start, end = _instant(ranges["start"]), _instant(ranges["end"])
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        records = self._select(collection, user, start, end)
        size = min(limit, self.page_size or limit)
        body: dict[str, Any] = {"records": records[offset : offset + size]}
        if offset + size < len(records):
            body["next_token"] = _next_token(collection, ranges, offset + size)
        return JSONResponse(body)

    def _routes(self) -> list[BaseRoute]:
        api = self.prefix
        routes: list[BaseRoute] = [
            Route(
                f"{api}/v2/user/profile/basic", self._wrap("api", self._profile), methods=["GET"]
            ),
            Route(
                f"{api}/v2/user/access", self._wrap("api", self._revoke_access), methods=["DELETE"]
            ),
        ]
        routes += [
            Route(f"{api}{path}", self._wrap("api", self._collection), methods=["GET"])
            for path in WHOOP_COLLECTIONS
        ]
        return [*routes, *super()._routes()]


# ------------------------------------------------------------------ Oura API


OURA_WEBHOOK_DATA_TYPES = frozenset(
    {
        "tag",
        "enhanced_tag",
        "workout",
        "session",
        "sleep",
        "daily_sleep",
        "daily_readiness",
        "daily_activity",
        "daily_spo2",
        "sleep_time",
        "rest_mode_period",
        "ring_configuration",
        "daily_stress",
        "daily_cycle_phases",
        "activation_status",
        "daily_cardiovascular_age",
        "daily_resilience",
        "vo2_max",
        "vO2_max",
        "heartrate",
    }
)
OURA_WEBHOOK_EVENTS = frozenset({"create", "update", "delete"})


@dataclass
class OuraApiStandIn(VendorStandIn):
    """The Oura v2 API (base URL `base_url`, i.e. AUREN_OURA_API_URL, no prefix).

    Verified in Oura's OpenAPI (https://cloud.ouraring.com/v2/docs, as mirrored at
    github.com/api-evangelist/oura-ring openapi/*.yml):
    - GET /v2/usercollection/personal_info answers {id, age, weight, height, biological_sex,
      email} (id required, the rest nullable).
    - GET /v2/usercollection/{daily_sleep, sleep, daily_readiness, daily_activity,
      daily_spo2} take `start_date`, `end_date` (a date or a date-time), `next_token` and
      `fields`; /v2/usercollection/heartrate takes `start_datetime`, `end_datetime`,
      `next_token`, `latest`, `fields`. All answer {"data": [...], "next_token": str|null};
      401 means an expired, malformed or revoked token; 429 a rate limit.
    - Webhook subscriptions, authenticated by the `x-client-id` and `x-client-secret`
      headers: GET /v2/webhook/subscription (list), POST (create, 201; body callback_url,
      verification_token, event_type create|update|delete, data_type; 422 when invalid),
      GET / PUT / DELETE (204) /v2/webhook/subscription/{id} (403 when the id does not
      exist), PUT /v2/webhook/subscription/renew/{id}; the model is {id, callback_url,
      event_type, data_type, expiration_time}.
    - On creation Oura calls GET callback_url?verification_token=...&challenge=... and the
      receiver answers 200 {"challenge": ...}
      (https://www.skills.sh/hookdeck/webhook-skills/oura-webhooks; AUREN's
      auren_graphs/webhooks/oura.py answers the same way).
    - Scopes email, personal, daily, heartrate, workout, tag, session, spo2
      (https://cloud.ouraring.com/docs/authentication).

    Assumed:
    - Daily collections select documents whose `day` lies in [start_date, end_date], both
      inclusive (a date-time counts by its date), ordered by day; without them the range is
      yesterday..today (UTC). The real API filters by each record's timestamp and reads a
      bare end_date as midnight, and the sleep collection has been seen to treat start_date
      as exclusive (https://github.com/the-momentum/open-wearables/issues/1161,
      https://github.com/the-momentum/open-wearables/pull/1007): a client should pad its
      window by a day on each side, which the stand-in tolerates.
    - Heart rate rows are selected by start_datetime <= timestamp < end_datetime (default:
      the last day).
    - The verification call is made during the create request; when the challenge is not
      echoed the create answers 400 and nothing is stored. An update re-verifies. Duplicate
      subscriptions are allowed. Subscriptions live `subscription_ttl` seconds (the real
      lifetime is not documented in what was found); `renew` extends from now; the list
      leaves expired ones out.
    - A 429 carries `Retry-After`. Unknown query parameters answer 400 (stand-in
      strictness). A token lacking the scope of an endpoint answers 401; personal_info nulls
      the fields whose scope (personal, email) was not granted.
    - `page_size` (stand-in only; None: one page) sets how many records a page holds.
    """

    page_size: int | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    days: dict[str, list[OuraDay]] = field(default_factory=dict)
    webhook_clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    verifications: list[dict[str, Any]] = field(default_factory=list)
    subscription_ttl: float = 30 * 86400.0

    def required_scopes(self, path: str) -> frozenset[str] | None:
        if path.startswith("/v2/usercollection/personal_info"):
            return frozenset({"personal", "email"})
        if path.startswith("/v2/usercollection/heartrate"):
            return frozenset({"heartrate"})
        if path.startswith("/v2/usercollection/daily_spo2"):
            return frozenset({"spo2", "spo2Daily"})
        if path.startswith("/v2/usercollection/"):
            return frozenset({"daily"})
        return None

    def add_user(
        self,
        oura_user: str,
        *,
        days: int = 0,
        last_day: date | None = None,
        email: str | None = None,
        age: int = 34,
    ) -> list[OuraDay]:
        """An Oura user with personal info and `days` days of data, one per day up to
        `last_day` (default yesterday, UTC), oldest first."""
        self.profiles[oura_user] = {
            "id": oura_user,
            "age": age,
            "weight": 68.5,
            "height": 1.74,
            "biological_sex": "female",
            "email": email or f"{oura_user}@example.com",
        }
        added = [OuraDay(oura_user, day) for day in _days(days, last_day)]
        for day in added:
            self.add_day(day)
        return added

    def add_day(self, day: OuraDay) -> None:
        """Serves the day's documents by id and lists them (and its heart rate rows)."""
        day.serve(self)
        for collection in OURA_DAILY:
            self.index(collection, day.oura_user, day.day, path=day.path(collection))
        for row in day.heartrate():
            stamp = datetime.fromisoformat(row["timestamp"])
            self.index("heartrate", day.oura_user, stamp, row=row)
        self.days.setdefault(day.oura_user, []).append(day)

    def records(
        self,
        collection: str,
        oura_user: str,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        """What paging `collection` to the end with this range returns (start_date and
        end_date, or start_datetime and end_datetime for "heartrate"), in the API's order.
        Open ends stay open here (the API's defaults are not applied)."""
        if collection == "heartrate":
            low = _instant(start.isoformat() if isinstance(start, date) else start)
            high = _instant(end.isoformat() if isinstance(end, date) else end)
            return self._rows(oura_user, low, high)
        first = _day(start.isoformat() if isinstance(start, date) else start)
        last = _day(end.isoformat() if isinstance(end, date) else end)
        return self._select(collection, oura_user, first, last)

    def _select(
        self, collection: str, owner: str, first: date | None, last: date | None
    ) -> list[dict[str, Any]]:
        chosen = [
            (key, document)
            for key, document in self._live(collection, owner)
            if isinstance(key, date)
            and not isinstance(key, datetime)
            and (first is None or key >= first)
            and (last is None or key <= last)
        ]
        chosen.sort(key=lambda pair: pair[0])
        return [document for _, document in chosen]

    def _rows(
        self, owner: str, start: datetime | None, end: datetime | None
    ) -> list[dict[str, Any]]:
        chosen = [
            (key, row)
            for key, row in self._live("heartrate", owner)
            if isinstance(key, datetime)
            and (start is None or key >= start)
            and (end is None or key < end)
        ]
        chosen.sort(key=lambda pair: pair[0])
        return [row for _, row in chosen]

    def _paged(
        self, collection: str, records: list[dict[str, Any]], ranges: dict[str, Any], offset: int
    ) -> Response:
        size = self.page_size or max(len(records), 1)
        more = offset + size < len(records)
        return JSONResponse(
            {
                "data": records[offset : offset + size],
                "next_token": _next_token(collection, ranges, offset + size) if more else None,
            }
        )

    async def _personal_info(self, request: Request) -> Response:
        user = self._user(request, "/v2/usercollection/personal_info")
        if isinstance(user, Response):
            return user
        info = dict(self.profiles.get(user) or {"id": user, "email": f"{user}@example.com"})
        for name in ("age", "weight", "height", "biological_sex", "email"):
            info.setdefault(name, None)
        granted = self.scopes.get(self._bearer(request))
        if granted is not None:
            if "personal" not in granted:
                info.update(age=None, weight=None, height=None, biological_sex=None)
            if "email" not in granted:
                info["email"] = None
        return JSONResponse(info)

    async def _daily(self, request: Request) -> Response:
        collection = request.url.path.rsplit("/", 1)[1]
        user = self._user(request, request.url.path)
        if isinstance(user, Response):
            return user
        query = dict(request.query_params)
        try:
            _unknown(query, {"start_date", "end_date", "next_token", "fields"})
            ranges, offset = _page(query, "next_token", ("start_date", "end_date"), collection)
            last = _day(ranges["end_date"]) or datetime.now(UTC).date()
            first = _day(ranges["start_date"]) or last - timedelta(days=1)
            if first > last:
                raise BadQueryError("start_date is after end_date")
        except ValueError as error:
            return JSONResponse({"detail": str(error)}, status_code=400)
        return self._paged(collection, self._select(collection, user, first, last), ranges, offset)

    async def _heartrate(self, request: Request) -> Response:
        user = self._user(request, request.url.path)
        if isinstance(user, Response):
            return user
        query = dict(request.query_params)
        bounds = ("start_datetime", "end_datetime")
        try:
            _unknown(query, {*bounds, "next_token", "latest", "fields"})
            ranges, offset = _page(query, "next_token", bounds, "heartrate")
            end = _instant(ranges["end_datetime"]) or datetime.now(UTC)
            start = _instant(ranges["start_datetime"]) or end - timedelta(days=1)
            if start > end:
                raise BadQueryError("start_datetime is after end_datetime")
        except ValueError as error:
            return JSONResponse({"detail": str(error)}, status_code=400)
        return self._paged("heartrate", self._rows(user, start, end), ranges, offset)

    # ------------------------------------------------------------------ subscriptions

    def active_subscriptions(self) -> list[dict[str, Any]]:
        """Unexpired subscriptions as the list endpoint shows them (without the token)."""
        now = datetime.now(UTC)
        return [
            self._public(subscription)
            for subscription in self.subscriptions.values()
            if datetime.fromisoformat(subscription["expiration_time"]) > now
        ]

    def _public(self, subscription: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in subscription.items() if k != "verification_token"}

    def _expiry(self) -> str:
        return (datetime.now(UTC) + timedelta(seconds=self.subscription_ttl)).isoformat()

    def _client_denied(self, request: Request) -> Response | None:
        client = request.headers.get("x-client-id", "")
        secret = request.headers.get("x-client-secret", "")
        if not client or self.webhook_clients.get(client) != secret:
            detail = "invalid or missing x-client-id / x-client-secret"
            return JSONResponse({"detail": detail}, status_code=401)
        return None

    async def _verify(self, callback_url: str, verification_token: str) -> bool:
        """Oura's verification call: the subscription exists only if the challenge is echoed."""
        challenge = uuid.uuid4().hex
        record: dict[str, Any] = {"callback_url": callback_url, "challenge": challenge}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.get(
                    callback_url,
                    params={"verification_token": verification_token, "challenge": challenge},
                )
            record["status"] = answer.status_code
            echoed = answer.json().get("challenge") if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            record["error"] = repr(error)
            echoed = None
        record["verified"] = echoed == challenge
        self.verifications.append(record)
        return bool(record["verified"])

    def _invalid(self, body: Any, required: tuple[str, ...]) -> Response | None:
        problems = []
        if not isinstance(body, dict):
            return JSONResponse({"detail": [{"msg": "body must be an object"}]}, 422)
        for name in required:
            if not isinstance(body.get(name), str) or not body[name]:
                problems.append({"loc": ["body", name], "msg": "field required"})
        for name, known in (
            ("event_type", OURA_WEBHOOK_EVENTS),
            ("data_type", OURA_WEBHOOK_DATA_TYPES),
        ):
            value = body.get(name)
            if value is not None and value not in known:
                problems.append({"loc": ["body", name], "msg": f"not one of {sorted(known)}"})
        return JSONResponse({"detail": problems}, status_code=422) if problems else None

    async def _subscriptions(self, request: Request) -> Response:
        denied = self._client_denied(request)
        if denied is not None:
            return denied
        if request.method == "GET":
            return JSONResponse(self.active_subscriptions())
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"detail": [{"msg": "body must be JSON"}]}, status_code=422)
        required = ("callback_url", "verification_token", "event_type", "data_type")
        invalid = self._invalid(body, required)
        if invalid is not None:
            return invalid
        if not await self._verify(body["callback_url"], body["verification_token"]):
            return JSONResponse({"detail": "webhook verification failed"}, status_code=400)
        subscription = {
            "id": str(uuid.uuid4()),
            "callback_url": body["callback_url"],
            "event_type": body["event_type"],
            "data_type": body["data_type"],
            "expiration_time": self._expiry(),
            "verification_token": body["verification_token"],
        }
        self.subscriptions[subscription["id"]] = subscription
        return JSONResponse(self._public(subscription), status_code=201)

    async def _subscription(self, request: Request) -> Response:
        denied = self._client_denied(request)
        if denied is not None:
            return denied
        subscription = self.subscriptions.get(request.path_params["id"])
        if subscription is None:
            return JSONResponse({"detail": "Webhook with specified id does not exist."}, 403)
        if request.method == "GET":
            return JSONResponse(self._public(subscription))
        if request.method == "DELETE":
            del self.subscriptions[subscription["id"]]
            return Response(status_code=204)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"detail": [{"msg": "body must be JSON"}]}, status_code=422)
        invalid = self._invalid(body, ("verification_token",))
        if invalid is not None:
            return invalid
        updated = {**subscription, **{k: v for k, v in body.items() if v is not None}}
        if not await self._verify(updated["callback_url"], updated["verification_token"]):
            return JSONResponse({"detail": "webhook verification failed"}, status_code=400)
        keys = ("callback_url", "event_type", "data_type", "verification_token")
        subscription.update({key: updated[key] for key in keys})
        return JSONResponse(self._public(subscription))

    async def _renew(self, request: Request) -> Response:
        denied = self._client_denied(request)
        if denied is not None:
            return denied
        subscription = self.subscriptions.get(request.path_params["id"])
        if subscription is None:
            return JSONResponse({"detail": "Webhook with specified id does not exist."}, 403)
        subscription["expiration_time"] = self._expiry()
        return JSONResponse(self._public(subscription))

    def _routes(self) -> list[BaseRoute]:
        base, api = f"{self.prefix}/v2/usercollection", self.prefix
        hooks = f"{api}/v2/webhook/subscription"
        routes: list[BaseRoute] = [
            Route(f"{base}/personal_info", self._wrap("api", self._personal_info), methods=["GET"]),
            Route(f"{base}/heartrate", self._wrap("api", self._heartrate), methods=["GET"]),
            Route(hooks, self._wrap("webhook", self._subscriptions), methods=["GET", "POST"]),
            Route(f"{hooks}/renew/{{id}}", self._wrap("webhook", self._renew), methods=["PUT"]),
            Route(
                f"{hooks}/{{id}}",
                self._wrap("webhook", self._subscription),
                methods=["GET", "PUT", "DELETE"],
            ),
        ]
        routes += [
            Route(f"{base}/{name}", self._wrap("api", self._daily), methods=["GET"])
            for name in OURA_DAILY
        ]
        return [*routes, *super()._routes()]
