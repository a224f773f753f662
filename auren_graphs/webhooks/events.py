"""The durable record of every accepted notification, and the worker that processes it.

Acknowledge only what is durable: a route answers 2xx only after its event row is
committed (`record`). `UNIQUE (vendor, event_key)` with `ON CONFLICT DO NOTHING` makes a
redelivery of the same event a no-op that is still acknowledged.

The worker claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED` and keeps that
transaction open while it fetches and ingests, then writes the outcomes in the same
transaction. The row locks are the lease: if the process dies (even by SIGKILL) its
connection drops, Postgres releases the locks and rolls back, and the rows are `pending`
again, so the next worker (this server after a restart, or another replica at once)
picks them up. No timeout guesses who is still alive. The price is one connection per
loop in flight (`webhook_workers`, 4 by default). Ingestion is idempotent, so an event
processed twice (the rare crash between ingesting and committing) changes nothing.

A claim takes the oldest due event and, with it, up to `webhook_batch_size` other due
events of the same user and vendor: they are fetched together and ingested in one run.
A run waits in the platform's queue (0.5-1 s under `langgraph dev`) and one user's runs
go one after another on their thread, so one run per batch rather than per event is
what lets the backlog of a burst drain. Pushes carry whole documents and go one per run.

Statuses: `pending` (due at `next_attempt_at`), `done`, `skipped` (nothing to fetch:
a deletion, a kind we do not store, an object the vendor no longer has), `failed`
(a permanent error, or `webhook_max_attempts` used up). `last_error` says why.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from auren_graphs.devices.api import VendorError, VendorNotFoundError, VendorUnavailableError
from auren_graphs.persistence.pool import make_pool
from auren_graphs.records.database import register_schema
from auren_graphs.webhooks.ingest import IngestRefusedError

TABLE = "auren_webhook_events"
PUSH_VENDORS = ("apple_health", "manual")

_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    vendor text NOT NULL,
    event_key text NOT NULL,
    user_id text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    UNIQUE (vendor, event_key)
);
CREATE INDEX IF NOT EXISTS {TABLE}_due ON {TABLE} (next_attempt_at, id)
    WHERE status = 'pending';
"""

# Also made with AUREN's other records (an erase may run before any webhook arrived).
register_schema(TABLE, _DDL)

_INSERT = f"""
INSERT INTO {TABLE} (vendor, event_key, user_id, payload, status, last_error, processed_at)
VALUES (%(vendor)s, %(key)s, %(user)s, %(payload)s::jsonb, %(status)s, %(note)s,
        CASE WHEN %(status)s = 'pending' THEN NULL ELSE now() END)
ON CONFLICT (vendor, event_key) DO NOTHING
RETURNING id
"""

_BACKLOG = f"SELECT count(*) AS n FROM {TABLE} WHERE status = 'pending'"

_CLAIM_HEAD = f"""
SELECT id, vendor, user_id FROM {TABLE}
WHERE status = 'pending' AND next_attempt_at <= now()
ORDER BY next_attempt_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED
"""

# The head is already locked by this transaction, so SKIP LOCKED keeps it.
_CLAIM_BATCH = f"""
SELECT id, vendor, event_key, user_id, payload, attempts FROM {TABLE}
WHERE status = 'pending' AND next_attempt_at <= now()
  AND user_id = %(user)s AND vendor = %(vendor)s
ORDER BY (id = %(head)s) DESC, next_attempt_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

# Pushed documents are health data already in the store once ingested: the copy here
# is dropped, the row (and its key, for duplicates) stays.
_FINISH = f"""
UPDATE {TABLE} SET
    status = %(status)s,
    attempts = attempts + %(counted)s,
    last_error = %(error)s,
    result = %(result)s,
    next_attempt_at = now() + make_interval(secs => %(delay)s),
    processed_at = CASE WHEN %(status)s = 'pending' THEN NULL ELSE now() END,
    payload = CASE WHEN %(status)s = 'done' AND vendor = ANY(%(push)s) THEN 'null'::jsonb
                   ELSE payload END
WHERE id = %(id)s
"""


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    vendor: str
    event_key: str
    user_id: str
    payload: Any
    attempts: int


# ------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt decided. `status` is the row's next status."""

    status: str
    label: str  # for the metric: done, skipped, retry, deferred, failed
    error: str | None = None
    result: Mapping[str, Any] | None = None
    delay: float = 0.0
    counted: bool = True


def done(result: Mapping[str, Any] | None = None) -> Outcome:
    return Outcome("done", "done", result=result)


def skipped(reason: str) -> Outcome:
    return Outcome("skipped", "skipped", error=reason)


def failed(error: str) -> Outcome:
    return Outcome("failed", "failed", error=error)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base: float
    cap: float

    def after(self, event: Event, error: str) -> Outcome:
        """Retry later with exponential backoff (jittered), or fail when attempts are used up."""
        attempt = event.attempts + 1
        if attempt >= self.max_attempts:
            return failed(f"gave up after {attempt} attempts: {error}")
        delay = min(self.cap, self.base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        return Outcome("pending", "retry", error=error, delay=delay)

    def outcome_of(self, event: Event, exc: BaseException) -> Outcome:
        """The outcome of an attempt that raised `exc`."""
        if isinstance(exc, VendorUnavailableError):
            # The breaker defers without spending an attempt: the vendor is down, the
            # event is fine.
            return Outcome(
                "pending", "deferred", error=str(exc), delay=exc.retry_after, counted=False
            )
        if isinstance(exc, VendorNotFoundError):
            return skipped(str(exc))
        if isinstance(exc, VendorError):
            return self.after(event, str(exc)) if exc.retryable else failed(str(exc))
        if isinstance(exc, IngestRefusedError):
            return failed(str(exc))
        if isinstance(exc, TimeoutError):
            return self.after(event, "the attempt timed out")
        return self.after(event, f"{type(exc).__name__}: {str(exc)[:300]}")


# ---------------------------------------------------------------------- the table


Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


class Claimed:
    """Events locked for processing; `finish` writes an outcome, the block's end commits."""

    def __init__(self, conn: AsyncConnection[DictRow], events: list[Event]) -> None:
        self._conn, self.events = conn, events

    async def finish(self, event: Event, outcome: Outcome) -> None:
        await self._conn.execute(
            _FINISH,
            {
                "id": event.id,
                "status": outcome.status,
                "counted": 1 if outcome.counted else 0,
                "error": outcome.error[:2000] if outcome.error else None,
                "result": Jsonb(dict(outcome.result)) if outcome.result is not None else None,
                "delay": outcome.delay,
                "push": list(PUSH_VENDORS),
            },
        )


class EventStore:
    """The `auren_webhook_events` table, through a small pool of its own."""

    def __init__(self, uri: str, max_size: int) -> None:
        # Never prepared: safe behind poolers (pgbouncer); these statements are cheap.
        self.pool: Pool = make_pool(uri, max_size=max_size, timeout=30.0, prepare_threshold=None)
        self._ready = False

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    async def ensure_table(self, wait_seconds: float = 10.0) -> None:
        if self._ready:
            return
        async with self.pool.connection(timeout=wait_seconds) as conn, conn.transaction():
            # Several processes may start at once; CREATE ... IF NOT EXISTS can still race.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
            await conn.execute(_DDL)
        self._ready = True

    async def record(
        self,
        vendor: str,
        key: str,
        user_id: str,
        payload_json: str,
        *,
        status: str = "pending",
        note: str | None = None,
    ) -> int | None:
        """Commit one event; its id, or None when (vendor, key) was already recorded.

        `payload_json` is the JSON text as received (already parsed once to check it),
        cast by Postgres, so megabytes are not serialized again here.
        """
        await self.ensure_table()
        params = {
            "vendor": vendor,
            "key": key,
            "user": user_id,
            "payload": payload_json,
            "status": status,
            "note": note,
        }
        async with self.pool.connection(timeout=5.0) as conn:
            cursor = await conn.execute(_INSERT, params)
            row = await cursor.fetchone()
        return None if row is None else int(row["id"])

    @asynccontextmanager
    async def claim(self, batch_size: int) -> AsyncIterator[Claimed | None]:
        """The oldest due event and up to `batch_size - 1` more of the same user and
        vendor (one, for pushes), locked until the block ends and its transaction commits."""
        await self.ensure_table()
        async with self.pool.connection(timeout=10.0) as conn, conn.transaction():
            head = await (await conn.execute(_CLAIM_HEAD)).fetchone()
            if head is None:
                yield None
                return
            limit = 1 if head["vendor"] in PUSH_VENDORS else batch_size
            params = {"user": head["user_id"], "vendor": head["vendor"], "head": head["id"]}
            cursor = await conn.execute(_CLAIM_BATCH, {**params, "limit": limit})
            events = [
                Event(
                    id=int(row["id"]),
                    vendor=row["vendor"],
                    event_key=row["event_key"],
                    user_id=row["user_id"],
                    payload=row["payload"],
                    attempts=int(row["attempts"]),
                )
                for row in await cursor.fetchall()
            ]
            yield Claimed(conn, events)

    async def ping(self, wait_seconds: float) -> None:
        async with self.pool.connection(timeout=wait_seconds) as conn:
            await conn.execute("SELECT 1")

    async def failed(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events that exhausted their retries (or failed for good), newest first; their
        bodies stay out (they may hold health data)."""
        await self.ensure_table()
        async with self.pool.connection(timeout=5.0) as conn:
            cursor = await conn.execute(
                f"""SELECT id, vendor, user_id, attempts, last_error, created_at, processed_at
                FROM {TABLE} WHERE status = 'failed' ORDER BY id DESC LIMIT %s""",
                [limit],
            )
            return [dict(row) for row in await cursor.fetchall()]

    async def requeue(self, ids: list[int] | None) -> int:
        """Make failed events (these, or all of them) due again, with fresh attempts."""
        await self.ensure_table()
        async with self.pool.connection(timeout=5.0) as conn:
            cursor = await conn.execute(
                f"""UPDATE {TABLE} SET status = 'pending', attempts = 0, next_attempt_at = now(),
                processed_at = NULL WHERE status = 'failed' AND (%s::bigint[] IS NULL
                OR id = ANY(%s::bigint[]))""",
                [ids, ids],
            )
            return cursor.rowcount

    async def prune(self, older_than_days: float) -> int:
        """Forget events processed (done, skipped, failed) longer ago than the retention."""
        await self.ensure_table()
        async with self.pool.connection(timeout=5.0) as conn:
            cursor = await conn.execute(
                f"""DELETE FROM {TABLE} WHERE status <> 'pending'
                AND processed_at < now() - make_interval(secs => %s)""",
                [older_than_days * 86_400],
            )
            return cursor.rowcount

    async def backlog(self, wait_seconds: float) -> int:
        await self.ensure_table(wait_seconds)
        async with self.pool.connection(timeout=wait_seconds) as conn:
            cursor = await conn.execute(_BACKLOG)
            row = await cursor.fetchone()
        return int(row["n"]) if row else 0


def is_bad_json_for_postgres(exc: BaseException) -> bool:
    """Postgres refused the JSON itself (e.g. a \\u0000 in a string): the sender's fault."""
    return isinstance(exc, errors.UntranslatableCharacter | errors.InvalidTextRepresentation)


# A processor handles a batch (one user, one vendor) and says, per event id, how it
# ended: an Outcome, or the exception that stopped it (the retry policy decides what follows).
Results = Mapping[int, "Outcome | BaseException"]
