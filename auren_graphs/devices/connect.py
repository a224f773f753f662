"""Connecting a vendor account through the vendor's OAuth, and letting it go.

`start`: the vendor's authorize URL for a user (with a sealed single-use state, PKCE
where the vendor takes it). `finish`: the callback's code exchanged, the vendor's user id
read from its profile, the connection stored (tokens sealed), a backfill started, and
where to send the browser back. `disconnect`: revoke at the vendor where it offers
revocation, drop the tokens, keep the data and a tombstone.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from auren_contract import INGESTION_GRAPH
from auren_graphs.devices import oauth, pending
from auren_graphs.devices.api import VendorError, vendor_client
from auren_graphs.devices.vendors import VendorApi, vendor_api
from auren_graphs.platform import loopback
from auren_graphs.records import connections
from auren_graphs.settings import Settings, get_settings
from auren_graphs.threads import own_thread

logger = logging.getLogger(__name__)
_CONNECT_FAILURES = (oauth.InvalidGrantError, oauth.OAuthFailedError, VendorError)


class ConnectRefusedError(Exception):
    """A connect flow that cannot start (not configured, a `return_to` not allowed)."""


@dataclass(frozen=True)
class Finished:
    """How a callback ended, and where the browser goes."""

    status: str  # connected | conflict | denied | failed
    vendor: str
    user_id: str | None
    return_to: str | None
    detail: str | None = None

    def redirect_url(self) -> str | None:
        if not self.return_to:
            return None
        parts = urlsplit(self.return_to)
        extra = {"auren_status": self.status, "vendor": self.vendor}
        if self.detail:
            extra["detail"] = self.detail[:200]
        query = "&".join(q for q in (parts.query, urlencode(extra)) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_return_to(return_to: str | None, settings: Settings) -> None:
    """Only back to origins this deployment trusts (no open redirect)."""
    if return_to is None:
        return
    parts = urlsplit(return_to)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConnectRefusedError("return_to must be an absolute http(s) URL")
    allowed = {o.strip().lower().rstrip("/") for o in settings.connect_return_origins.split(",")}
    if settings.public_url:
        allowed.add(_origin(settings.public_url))
    if _origin(return_to) not in allowed:
        raise ConnectRefusedError(
            f"return_to's origin {_origin(return_to)} is not allowed: add it to "
            "AUREN_CONNECT_RETURN_ORIGINS"
        )


def configured_api(vendor: str, settings: Settings) -> VendorApi:
    api = vendor_api(vendor, settings)
    if not api.configured or not settings.public_url:
        upper = vendor.upper()
        raise ConnectRefusedError(
            f"{api.label} connections are not configured: set {upper}_CLIENT_ID, "
            f"{upper}_CLIENT_SECRET and AUREN_PUBLIC_URL"
        )
    return api


async def start(user_id: str, vendor: str, return_to: str | None) -> str:
    """The vendor's authorize URL for `user_id` (their browser goes there)."""
    settings = get_settings()
    api = configured_api(vendor, settings)
    check_return_to(return_to, settings)
    verifier = oauth.new_verifier(api)
    state = await pending.open_flow(user_id, vendor, return_to, verifier)
    return oauth.authorization_url(api, settings, state, verifier)


async def finish(vendor: str, code: str | None, state: str, error: str | None) -> Finished:
    """The callback: the connection made (or why not). `pending.StateError` propagates."""
    flow = await pending.take_flow(state, vendor)
    settings = get_settings()
    api = configured_api(vendor, settings)
    if error or not code:
        return Finished("denied", vendor, flow.user_id, flow.return_to, error or "no code")
    try:
        tokens = await oauth.exchange_code(api, settings, code, flow.code_verifier)
        profile = await vendor_client(vendor).get_json(api.profile_path, tokens.access_token)
        account = str(profile[api.profile_id])
    except (
        oauth.InvalidGrantError,
        oauth.OAuthFailedError,
        VendorError,
        KeyError,
        TypeError,
    ) as exc:
        logger.warning("connect of %s for %s failed: %s", vendor, flow.user_id, exc)
        return Finished("failed", vendor, flow.user_id, flow.return_to, str(exc))
    try:
        await connections.connect(flow.user_id, vendor, account, tokens=tokens.sealed())
    except connections.ConnectionConflictError as exc:
        return Finished("conflict", vendor, flow.user_id, flow.return_to, str(exc))
    await start_backfill(flow.user_id, vendor, settings.backfill_days)
    return Finished("connected", vendor, flow.user_id, flow.return_to)


async def start_backfill(user_id: str, vendor: str, days: int) -> str:
    """Queue a backfill on the user's own ingestion thread (a system run); its id."""
    backfill_id = uuid.uuid4().hex
    thread = await own_thread(user_id, INGESTION_GRAPH)
    await loopback().runs.create(
        thread,
        INGESTION_GRAPH,
        input={
            "user_id": user_id,
            "device": vendor,
            "payload": None,
            "uploads": [],
            "backfill": {"id": backfill_id, "days": days},
        },
        multitask_strategy="enqueue",
    )
    await connections.record_sync(user_id, vendor, f"backfill queued: {days} days")
    return backfill_id


async def disconnect(user_id: str, vendor: str) -> bool | None:
    """Drop the connection's tokens (data kept) and revoke them at the vendor where it
    offers revocation: True when revoked, False when the vendor did not confirm, None
    when there was nothing to revoke."""
    tokens = await connections.disconnect(user_id, vendor)
    if not tokens or not tokens.get("access_token") or vendor not in ("whoop", "oura"):
        return None
    sealed = oauth.Tokens(str(tokens["access_token"]), tokens.get("refresh_token"), None, None)
    return await oauth.revoke(vendor_api(vendor), get_settings(), sealed)
