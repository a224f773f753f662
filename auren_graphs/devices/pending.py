"""A connect flow's `state`: signed, single-use, short-lived, bound to its user.

The state the vendor carries back is sealed with the server's keys (`crypto`): it names
a nonce, the user and the vendor, and cannot be forged or read. The nonce's row (with
the PKCE verifier and where to send the browser back) is deleted when the callback uses
it, so a state works once; both expire after AUREN_CONNECT_STATE_SECONDS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from auren_graphs.crypto import SecretUnreadableError, secret_box
from auren_graphs.records.database import connection, register_schema
from auren_graphs.settings import get_settings

TABLE = "auren_connect_pending"

register_schema(
    TABLE,
    f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    nonce text PRIMARY KEY,
    user_id text NOT NULL,
    vendor text NOT NULL,
    code_verifier text,
    return_to text,
    created_at timestamptz NOT NULL DEFAULT now()
)""",
)


class StateError(Exception):
    """The callback's state is forged, expired, already used, or someone else's."""


@dataclass(frozen=True)
class Pending:
    user_id: str
    vendor: str
    code_verifier: str | None
    return_to: str | None


async def open_flow(user_id: str, vendor: str, return_to: str | None, verifier: str | None) -> str:
    """Record a connect flow; the `state` to send to the vendor."""
    nonce = secrets.token_urlsafe(24)
    async with connection() as conn:
        await conn.execute(
            f"DELETE FROM {TABLE} WHERE created_at < now() - make_interval(secs => %s)",
            [get_settings().connect_state_seconds],
        )
        await conn.execute(
            f"INSERT INTO {TABLE} (nonce, user_id, vendor, code_verifier, return_to) "
            "VALUES (%s, %s, %s, %s, %s)",
            [nonce, user_id, vendor, verifier, return_to],
        )
    return secret_box().seal({"n": nonce, "u": user_id, "v": vendor})


async def take_flow(state: str, vendor: str) -> Pending:
    """The flow `state` names, used up; `StateError` when it cannot be."""
    max_age = get_settings().connect_state_seconds
    try:
        sealed = secret_box().open(state, max_age=max_age)
    except SecretUnreadableError:
        raise StateError("the state is not one this server issued, or it expired") from None
    if not isinstance(sealed, dict) or sealed.get("v") != vendor:
        raise StateError("the state belongs to another vendor's flow")
    async with connection() as conn:
        cursor = await conn.execute(
            f"""DELETE FROM {TABLE} WHERE nonce = %s AND user_id = %s AND vendor = %s
            AND created_at > now() - make_interval(secs => %s)
            RETURNING user_id, vendor, code_verifier, return_to""",
            [sealed.get("n"), sealed.get("u"), vendor, max_age],
        )
        row = await cursor.fetchone()
    if row is None:
        raise StateError("the state was already used or has expired; connect again")
    return Pending(row["user_id"], row["vendor"], row["code_verifier"], row["return_to"])


async def forget_user(user_id: str) -> None:
    async with connection() as conn:
        await conn.execute(f"DELETE FROM {TABLE} WHERE user_id = %s", [user_id])
