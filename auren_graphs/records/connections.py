"""Device connections: which vendor account belongs to which user, and its tokens.

One row per (user, vendor). A vendor account belongs to one user at a time: a unique
index on (vendor, vendor_user_id) over live rows makes binding it atomic, so of many
concurrent attempts to bind one account to different users exactly one succeeds, and
the rest get `ConnectionConflictError` with nothing written.

Tokens are sealed with `auren_graphs.crypto` (never stored or returned in clear): the
vendor API tokens in `secrets`, the push ingest token only as its SHA-256. A
disconnected row stays as a tombstone without secrets, so webhooks that still arrive
for its vendor account are recognised and dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg.rows import DictRow

from auren_contract import DeviceConnection
from auren_graphs.crypto import secret_box
from auren_graphs.records.database import connection, register_schema

TABLE = "auren_connections"

register_schema(
    TABLE,
    f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    user_id text NOT NULL,
    vendor text NOT NULL,
    vendor_user_id text,
    status text NOT NULL DEFAULT 'connected'
        CHECK (status IN ('connected', 'needs_reauth', 'disconnected')),
    secrets text,
    ingest_token_sha256 text,
    connected_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_sync_at timestamptz,
    last_sync_status text,
    last_error text,
    PRIMARY KEY (user_id, vendor)
);
CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_account ON {TABLE} (vendor, vendor_user_id)
    WHERE vendor_user_id IS NOT NULL AND status <> 'disconnected';
""",
)

# What anyone may see, as the contract's DeviceConnection names it.
_PUBLIC = """user_id, vendor AS device, vendor_user_id, status, connected_at, updated_at,
    last_sync_at, last_sync_status, last_error, secrets IS NOT NULL AS has_api_token,
    ingest_token_sha256 IS NOT NULL AS has_ingest_token"""

_UPSERT = f"""
INSERT INTO {TABLE} (user_id, vendor, vendor_user_id, status, secrets, ingest_token_sha256)
VALUES (%(user)s, %(vendor)s, %(account)s, 'connected', %(secrets)s, %(ingest)s)
ON CONFLICT (user_id, vendor) DO UPDATE SET
    vendor_user_id = EXCLUDED.vendor_user_id,
    status = 'connected',
    secrets = EXCLUDED.secrets,
    ingest_token_sha256 = EXCLUDED.ingest_token_sha256,
    connected_at = now(),
    updated_at = now(),
    last_error = NULL
RETURNING {_PUBLIC}
"""


class ConnectionConflictError(Exception):
    """The vendor account is connected to another user."""


def _public(row: Mapping[str, Any]) -> DeviceConnection:
    return DeviceConnection(**{f.name: row[f.name] for f in fields(DeviceConnection)})


async def connect(
    user_id: str,
    vendor: str,
    vendor_user_id: str | None,
    *,
    tokens: Mapping[str, Any] | None = None,
    ingest_token_sha256: str | None = None,
) -> DeviceConnection:
    """Bind the vendor account to the user (replacing the user's previous connection of
    this vendor, tokens included), or raise `ConnectionConflictError`."""
    params = {
        "user": user_id,
        "vendor": vendor,
        "account": vendor_user_id,
        "secrets": secret_box().seal(dict(tokens)) if tokens else None,
        "ingest": ingest_token_sha256,
    }
    try:
        async with connection() as conn:
            row = await (await conn.execute(_UPSERT, params)).fetchone()
    except errors.UniqueViolation:
        raise ConnectionConflictError(
            f"{vendor} account {vendor_user_id!r} is connected to another user; "
            "disconnect it there first"
        ) from None
    assert row is not None  # RETURNING always yields the row
    return _public(row)


async def connections_of(user_id: str) -> list[DeviceConnection]:
    async with connection() as conn:
        cursor = await conn.execute(
            f"SELECT {_PUBLIC} FROM {TABLE} WHERE user_id = %s ORDER BY vendor", [user_id]
        )
        return [_public(row) for row in await cursor.fetchall()]


async def connection_of(user_id: str, vendor: str) -> DeviceConnection | None:
    async with connection() as conn:
        cursor = await conn.execute(
            f"SELECT {_PUBLIC} FROM {TABLE} WHERE user_id = %s AND vendor = %s", [user_id, vendor]
        )
        row = await cursor.fetchone()
    return None if row is None else _public(row)


async def vendor_account_of(user_id: str, vendor: str) -> str | None:
    """The vendor account the user has connected (live connections only)."""
    found = await connection_of(user_id, vendor)
    if found is None or found.status == "disconnected":
        return None
    return found.vendor_user_id


async def owner_of(vendor: str, vendor_user_id: str) -> DeviceConnection | None:
    """The connection of a vendor account: the live one, else the latest tombstone."""
    async with connection() as conn:
        cursor = await conn.execute(
            f"""SELECT {_PUBLIC} FROM {TABLE} WHERE vendor = %s AND vendor_user_id = %s
            ORDER BY (status <> 'disconnected') DESC, updated_at DESC LIMIT 1""",
            [vendor, vendor_user_id],
        )
        row = await cursor.fetchone()
    return None if row is None else _public(row)


async def ingest_token_hash(user_id: str, vendor: str) -> str | None:
    """The SHA-256 of the user's push token for `vendor` (live connections only)."""
    async with connection() as conn:
        cursor = await conn.execute(
            f"SELECT ingest_token_sha256 FROM {TABLE} WHERE user_id = %s AND vendor = %s "
            "AND status <> 'disconnected'",
            [user_id, vendor],
        )
        row = await cursor.fetchone()
    value = row["ingest_token_sha256"] if row else None
    return value if isinstance(value, str) else None


# -- token lifecycle (auren_graphs.devices.tokens) -----------------------------------------


async def sealed_tokens(
    conn: AsyncConnection[DictRow], user_id: str, vendor: str, *, lock: bool
) -> dict[str, Any] | None:
    """The live connection's tokens, decrypted; with `lock`, its row is locked until the
    transaction of `conn` ends (one refresh per connection across workers)."""
    cursor = await conn.execute(
        f"SELECT secrets, status FROM {TABLE} WHERE user_id = %s AND vendor = %s "
        f"AND status <> 'disconnected'{' FOR UPDATE' if lock else ''}",
        [user_id, vendor],
    )
    row = await cursor.fetchone()
    if row is None or row["secrets"] is None:
        return None
    opened = secret_box().open(row["secrets"])
    return {**(opened if isinstance(opened, Mapping) else {}), "status": row["status"]}


async def save_tokens(
    conn: AsyncConnection[DictRow], user_id: str, vendor: str, tokens: Mapping[str, Any]
) -> None:
    """Replace the connection's tokens (a refresh), and mark it connected again."""
    await conn.execute(
        f"""UPDATE {TABLE} SET secrets = %s, status = 'connected', last_error = NULL,
        updated_at = now() WHERE user_id = %s AND vendor = %s AND status <> 'disconnected'""",
        [secret_box().seal(dict(tokens)), user_id, vendor],
    )


async def mark_needs_reauth(
    conn: AsyncConnection[DictRow], user_id: str, vendor: str, reason: str
) -> None:
    await conn.execute(
        f"""UPDATE {TABLE} SET status = 'needs_reauth', last_error = %s, updated_at = now()
        WHERE user_id = %s AND vendor = %s AND status <> 'disconnected'""",
        [reason[:500], user_id, vendor],
    )


async def record_sync(user_id: str, vendor: str, status: str, error: str | None = None) -> None:
    """When data last came from the vendor for this connection, and how that went."""
    async with connection() as conn:
        await conn.execute(
            f"""UPDATE {TABLE} SET last_sync_at = now(), last_sync_status = %s,
            last_error = COALESCE(%s, last_error) WHERE user_id = %s AND vendor = %s""",
            [status[:200], error[:500] if error else None, user_id, vendor],
        )


async def disconnect(user_id: str, vendor: str) -> dict[str, Any] | None:
    """Drop the connection's tokens and keep a tombstone (so later webhooks for its
    vendor account are recognised and dropped); the tokens it had, to revoke them."""
    async with connection() as conn, conn.transaction():
        tokens = await sealed_tokens(conn, user_id, vendor, lock=True)
        await conn.execute(
            f"""UPDATE {TABLE} SET status = 'disconnected', secrets = NULL,
            ingest_token_sha256 = NULL, updated_at = now()
            WHERE user_id = %s AND vendor = %s""",
            [user_id, vendor],
        )
    return tokens


async def needing_reauth() -> list[DeviceConnection]:
    """Every connection the vendor refused (for /health)."""
    async with connection() as conn:
        cursor = await conn.execute(
            f"SELECT {_PUBLIC} FROM {TABLE} WHERE status = 'needs_reauth' ORDER BY updated_at"
        )
        return [_public(row) for row in await cursor.fetchall()]


async def erase_user(user_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Delete every connection row of the user; their tokens (vendor, tokens), to revoke."""
    async with connection() as conn, conn.transaction():
        cursor = await conn.execute(
            f"DELETE FROM {TABLE} WHERE user_id = %s RETURNING vendor, secrets", [user_id]
        )
        rows = await cursor.fetchall()
    found = []
    for row in rows:
        if row["secrets"] is not None:
            opened = secret_box().open(row["secrets"])
            found.append((str(row["vendor"]), dict(opened) if isinstance(opened, Mapping) else {}))
    return found
