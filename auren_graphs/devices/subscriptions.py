"""Oura webhook subscriptions of this deployment: made from configuration, renewed before
they expire, listed with their expiry.

Oura (cloud.ouraring.com/v2/docs, "Webhooks") keeps one subscription per event type and
data type, authenticated with the app's `x-client-id`/`x-client-secret`; creating one
makes Oura call the callback (`AUREN_PUBLIC_URL/webhooks/oura`) with the verification
token, which AUREN echoes (`webhooks.oura.challenge`). Subscriptions expire: the
background job renews those that expire within a week. WHOOP webhooks are configured in
WHOOP's developer dashboard instead (README).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from auren_graphs.devices.vendors import vendor_api
from auren_graphs.settings import Settings, get_settings

PATH = "/v2/webhook/subscription"
EVENT_TYPES = ("create", "update", "delete")
DATA_TYPES = ("daily_sleep", "sleep", "daily_readiness", "daily_activity", "daily_spo2")
RENEW_BEFORE = timedelta(days=7)


class SubscriptionError(Exception):
    """Subscriptions cannot be managed (not configured, or Oura refused)."""


def _headers(settings: Settings) -> dict[str, str]:
    api = vendor_api("oura", settings)
    if not api.configured:
        raise SubscriptionError("set OURA_CLIENT_ID and OURA_CLIENT_SECRET to manage subscriptions")
    return {"x-client-id": str(api.client_id), "x-client-secret": str(api.client_secret)}


def _client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=settings.oura_api_url.rstrip("/"),
        headers=_headers(settings),
        timeout=settings.vendor_timeout_seconds * 3,  # Oura verifies the callback first
    )


def _checked(answer: httpx.Response) -> Any:
    if answer.status_code >= 300:
        raise SubscriptionError(f"Oura answered {answer.status_code}: {answer.text[:300]}")
    return answer.json() if answer.content else None


async def list_subscriptions(settings: Settings | None = None) -> list[dict[str, Any]]:
    settings = settings or get_settings()
    async with _client(settings) as http:
        found = _checked(await http.get(PATH))
    return [dict(s) for s in found] if isinstance(found, list) else []


async def ensure_subscriptions(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Create the subscriptions AUREN needs that do not exist yet; every one, after."""
    settings = settings or get_settings()
    token = settings.oura_verification_token
    if not settings.public_url or token is None:
        raise SubscriptionError("set AUREN_PUBLIC_URL and AUREN_OURA_VERIFICATION_TOKEN first")
    callback = f"{settings.public_url.rstrip('/')}/webhooks/oura"
    existing = await list_subscriptions(settings)
    have = {
        (s.get("event_type"), s.get("data_type"))
        for s in existing
        if s.get("callback_url") == callback
    }
    async with _client(settings) as http:
        for event_type in EVENT_TYPES:
            for data_type in DATA_TYPES:
                if (event_type, data_type) not in have:
                    body = {
                        "callback_url": callback,
                        "verification_token": token.get_secret_value(),
                        "event_type": event_type,
                        "data_type": data_type,
                    }
                    _checked(await http.post(PATH, json=body))
    return await list_subscriptions(settings)


def _expires(subscription: dict[str, Any]) -> datetime | None:
    raw = subscription.get("expiration_time")
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def renew_due(settings: Settings | None = None, now: datetime | None = None) -> int:
    """Renew every subscription expiring within RENEW_BEFORE; how many were renewed."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    due = [
        s
        for s in await list_subscriptions(settings)
        if (e := _expires(s)) and e - now < RENEW_BEFORE
    ]
    async with _client(settings) as http:
        for subscription in due:
            _checked(await http.put(f"{PATH}/renew/{subscription['id']}"))
    return len(due)
