"""What AUREN knows of each vendor's API: OAuth endpoints and scopes, the profile that
names the vendor's user, the collections a backfill pages through. From the vendors'
documentation (developer.whoop.com/docs/developing/oauth, developer.whoop.com/api;
cloud.ouraring.com/docs/authentication, cloud.ouraring.com/v2/docs), with every base URL
configurable (stand-ins in tests, a proxy in production).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from auren_contract import Device
from auren_graphs.settings import Settings, get_settings

WindowStyle = Literal["instants", "days", "oura_instants"]


@dataclass(frozen=True)
class Collection:
    """One paged collection: `GET path?<window>&<page>=...` answering `{items_key: [...],
    "next_token": ...}`."""

    path: str
    window: WindowStyle
    items_key: str
    page_param: str


@dataclass(frozen=True)
class VendorApi:
    vendor: Device
    label: str
    client_id: str | None
    client_secret: str | None
    authorize_url: str
    token_url: str
    revoke_url: str | None  # Oura's RFC 7009-like endpoint; WHOOP revokes on its API
    scopes: tuple[str, ...]
    pkce: bool
    api_url: str
    profile_path: str
    profile_id: str
    collections: tuple[Collection, ...]
    max_backfill_days: int

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def redirect_uri(self, settings: Settings) -> str:
        base = (settings.public_url or "").rstrip("/")
        return f"{base}/connect/{self.vendor}/callback"


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return str(get()) if get is not None else None


WHOOP_COLLECTIONS = tuple(
    Collection(path, "instants", "records", "nextToken")
    for path in ("/v2/cycle", "/v2/recovery", "/v2/activity/sleep", "/v2/activity/workout")
)
OURA_COLLECTIONS = (
    *(
        Collection(f"/v2/usercollection/{name}", "days", "data", "next_token")
        for name in ("daily_sleep", "sleep", "daily_readiness", "daily_activity", "daily_spo2")
    ),
    Collection("/v2/usercollection/heartrate", "oura_instants", "data", "next_token"),
)


def vendor_api(vendor: str, settings: Settings | None = None) -> VendorApi:
    """The API of `vendor` (whoop or oura) as this deployment is configured to reach it."""
    settings = settings or get_settings()
    pkce = vendor in {v.strip() for v in settings.oauth_pkce_vendors.split(",")}
    if vendor == "whoop":
        oauth = settings.whoop_oauth_url.rstrip("/")
        return VendorApi(
            vendor="whoop",
            label="WHOOP",
            client_id=settings.whoop_client_id,
            client_secret=_secret(settings.whoop_client_secret),
            authorize_url=f"{oauth}/auth",
            token_url=f"{oauth}/token",
            revoke_url=None,
            scopes=(
                "read:recovery",
                "read:cycles",
                "read:sleep",
                "read:workout",
                "read:profile",
                "read:body_measurement",
                "offline",
            ),
            pkce=pkce,
            api_url=settings.whoop_api_url,
            profile_path="/v2/user/profile/basic",
            profile_id="user_id",
            collections=WHOOP_COLLECTIONS,
            max_backfill_days=3650,
        )
    if vendor == "oura":
        return VendorApi(
            vendor="oura",
            label="Oura",
            client_id=settings.oura_client_id,
            client_secret=_secret(settings.oura_client_secret),
            authorize_url=f"{settings.oura_oauth_url.rstrip('/')}/authorize",
            token_url=settings.oura_token_url,
            revoke_url=settings.oura_revoke_url,
            scopes=("personal", "daily", "heartrate", "workout", "spo2Daily"),
            pkce=pkce,
            api_url=settings.oura_api_url,
            profile_path="/v2/usercollection/personal_info",
            profile_id="id",
            collections=OURA_COLLECTIONS,
            max_backfill_days=3650,
        )
    raise ValueError(f"{vendor!r} has no vendor API; use whoop or oura")
