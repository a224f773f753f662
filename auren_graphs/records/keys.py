"""The secret the server keys users' thread ids with (`auren_contract.derive_thread_id`).

Generated once per deployment, on first use, and kept in Postgres beside the data it
protects: every replica derives the same ids, a restart changes nothing, and nothing
has to be configured. It only has to stay unknown to API callers (so nobody can name
or claim another user's thread); anyone holding a database dump holds the threads too.
"""

from __future__ import annotations

import secrets

from auren_contract import derive_thread_id
from auren_graphs.records.database import connection, register_schema

TABLE = "auren_keys"
THREAD_KEY = "thread_id"

register_schema(
    TABLE,
    f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)""",
)

_cache: dict[str, bytes] = {}


async def key(name: str) -> bytes:
    """The named key, made on first use (the first writer wins; everyone reads it back)."""
    cached = _cache.get(name)
    if cached is not None:
        return cached
    async with connection() as conn:
        await conn.execute(
            f"INSERT INTO {TABLE} (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            [name, secrets.token_bytes(32)],
        )
        row = await (
            await conn.execute(f"SELECT value FROM {TABLE} WHERE name = %s", [name])
        ).fetchone()
    if row is None:  # pragma: no cover - the insert above guarantees a row
        raise RuntimeError(f"the {name!r} key is missing from {TABLE}")
    _cache[name] = bytes(row["value"])
    return _cache[name]


def use_key(name: str, value: bytes) -> None:
    """Hold a key this process already knows instead of reading it (unit tests, which
    run graphs without a database)."""
    _cache[name] = value


async def thread_id_for(user_id: str, graph: str) -> str:
    """`user_id`'s thread of `graph`: the same on every replica, unguessable to callers."""
    return derive_thread_id(await key(THREAD_KEY), user_id, graph)
