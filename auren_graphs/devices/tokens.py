"""A usable access token for a connection, and vendor calls that refresh it when needed.

A token is refreshed before it expires (AUREN_TOKEN_REFRESH_MARGIN_SECONDS) and when the
vendor refuses it (401), once per connection however many workers notice: the refresh
happens under the connection row's lock, and whoever gets the lock second finds the new
token and uses it. The rotated refresh token is committed before the new access token is
used, so a crash can never leave the only valid refresh token unwritten. A refused grant
(`invalid_grant`) marks the connection `needs_reauth`: visible in `devices(user)` and in
`/health`, never a silent stop.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from auren_graphs.devices import oauth
from auren_graphs.devices.api import VendorClient, VendorError, VendorUnauthorizedError
from auren_graphs.devices.vendors import vendor_api
from auren_graphs.records import connections
from auren_graphs.records.database import connection
from auren_graphs.settings import get_settings


class NeedsReauthError(VendorError):
    """The vendor refused the connection's grant: the user must connect again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def _usable(tokens: Mapping[str, Any], stale: str | None) -> bool:
    token = tokens.get("access_token")
    if not token or token == stale:
        return False
    expires_at = tokens.get("expires_at")
    margin = get_settings().token_refresh_margin_seconds
    return expires_at is None or float(expires_at) - margin > time.time()


async def access_token(user_id: str, vendor: str, *, stale: str | None = None) -> str:
    """The connection's access token, refreshed first when it is about to expire or when
    `stale` (a token the vendor just refused) is still the one stored."""
    async with connection() as conn:
        current = await connections.sealed_tokens(conn, user_id, vendor, lock=False)
    if current is None:
        raise VendorError(
            f"{user_id} has no {vendor} connection with API tokens; connect the device again",
            retryable=False,
        )
    if current.get("status") == "needs_reauth":
        raise NeedsReauthError(f"the {vendor} connection needs the user to connect again")
    if _usable(current, stale):
        return str(current["access_token"])
    return await _refresh(user_id, vendor, stale)


async def _refresh(user_id: str, vendor: str, stale: str | None) -> str:
    settings = get_settings()
    api = vendor_api(vendor, settings)
    refused: NeedsReauthError | None = None
    async with connection(wait=10.0) as conn, conn.transaction():
        locked = await connections.sealed_tokens(conn, user_id, vendor, lock=True)
        if locked is None:
            raise VendorError(f"{user_id}'s {vendor} connection is gone", retryable=False)
        if _usable(locked, stale):  # another worker refreshed it while we waited
            return str(locked["access_token"])
        refresh_token = locked.get("refresh_token")
        if not refresh_token:
            raise VendorError(
                f"the {vendor} access token expired or was refused and there is no refresh "
                "token; connect the device again",
                retryable=False,
            )
        try:
            fresh = await oauth.refresh(api, settings, str(refresh_token))
        except oauth.InvalidGrantError as exc:
            # Kept (the transaction commits): raised once it has.
            await connections.mark_needs_reauth(conn, user_id, vendor, str(exc))
            refused = NeedsReauthError(
                f"the {vendor} connection needs the user to connect again: {exc}"
            )
        except oauth.OAuthFailedError as exc:
            raise VendorError(str(exc), retryable=True) from None
        else:
            # Some vendors keep the refresh token on refresh: keep it then.
            kept = {**fresh.sealed(), "refresh_token": fresh.refresh_token or refresh_token}
            await connections.save_tokens(conn, user_id, vendor, kept)
    if refused is not None:
        raise refused
    return fresh.access_token


async def get_json(
    client: VendorClient,
    user_id: str,
    vendor: str,
    path: str,
    params: Mapping[str, str] | None = None,
) -> Any:
    """GET `path` with the user's token; a refused token is refreshed once and retried."""
    token = await access_token(user_id, vendor)
    try:
        return await client.get_json(path, token, params)
    except VendorUnauthorizedError:
        token = await access_token(user_id, vendor, stale=token)
        return await client.get_json(path, token, params)
