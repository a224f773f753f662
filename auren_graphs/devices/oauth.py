"""The vendors' OAuth 2.0 as AUREN uses it (Authlib does the protocol).

Authorization code flow: the authorize URL carries the scopes AUREN needs (WHOOP's read
scopes and `offline`, for a refresh token), a sealed single-use `state` and, where the
vendor takes it, a PKCE challenge (S256). The code is exchanged with the client's
credentials in the body (`client_secret_post`, as both vendors document). A refresh
token is used once: vendors rotate them, and a reused one answers `invalid_grant`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from auren_graphs.devices.vendors import VendorApi
from auren_graphs.settings import Settings


class InvalidGrantError(Exception):
    """The vendor refused the grant (a refresh token revoked, expired or already used):
    only the user can fix it, by connecting again."""


class OAuthFailedError(Exception):
    """The vendor's token endpoint failed (not the grant itself): worth trying again."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    scope: str | None

    @classmethod
    def of(cls, token: Any) -> Tokens:
        expires_at = token.get("expires_at")
        if expires_at is None and token.get("expires_in") is not None:
            expires_at = time.time() + float(token["expires_in"])
        return cls(
            access_token=str(token["access_token"]),
            refresh_token=token.get("refresh_token"),
            expires_at=None if expires_at is None else float(expires_at),
            scope=token.get("scope"),
        )

    def sealed(self) -> dict[str, Any]:
        """What is kept (encrypted) with the connection."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "scope": self.scope,
        }


def _client(api: VendorApi, settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=api.client_id,
        client_secret=api.client_secret,
        scope=" ".join(api.scopes),
        redirect_uri=api.redirect_uri(settings),
        token_endpoint_auth_method="client_secret_post",
        code_challenge_method="S256" if api.pkce else None,
        timeout=settings.vendor_timeout_seconds,
    )


def new_verifier(api: VendorApi) -> str | None:
    """A PKCE code verifier for a flow with a vendor that takes PKCE, else None."""
    return secrets.token_urlsafe(48) if api.pkce else None


def authorization_url(api: VendorApi, settings: Settings, state: str, verifier: str | None) -> str:
    client = _client(api, settings)
    url, _ = client.create_authorization_url(api.authorize_url, state=state, code_verifier=verifier)
    return str(url)


async def _token_call(api: VendorApi, settings: Settings, **grant: Any) -> Tokens:
    async with _client(api, settings) as client:
        try:
            if "refresh_token" in grant:
                token = await client.refresh_token(api.token_url, **grant)
            else:
                token = await client.fetch_token(
                    api.token_url, grant_type="authorization_code", **grant
                )
        except OAuthError as exc:
            if exc.error in ("invalid_grant", "invalid_request", "unauthorized_client"):
                raise InvalidGrantError(f"{api.label} refused the grant ({exc.error})") from None
            raise OAuthFailedError(f"{api.label} token endpoint: {exc.error}") from None
        except httpx.HTTPError as exc:
            raise OAuthFailedError(f"{api.label} token endpoint: {type(exc).__name__}") from None
    return Tokens.of(token)


async def exchange_code(
    api: VendorApi, settings: Settings, code: str, verifier: str | None
) -> Tokens:
    """The tokens a callback's code is worth (once)."""
    extra = {"code_verifier": verifier} if verifier else {}
    return await _token_call(api, settings, code=code, **extra)


async def refresh(api: VendorApi, settings: Settings, refresh_token: str) -> Tokens:
    """New tokens for a refresh token (which is then used up). WHOOP wants `offline` asked
    for again, or it issues no new refresh token."""
    extra = {"scope": "offline"} if "offline" in api.scopes else {}
    return await _token_call(api, settings, refresh_token=refresh_token, **extra)


async def revoke(api: VendorApi, settings: Settings, tokens: Tokens) -> bool:
    """Revoke the user's grant at the vendor, where the vendor offers it. True when the
    vendor confirmed (or had nothing to revoke)."""
    async with httpx.AsyncClient(timeout=settings.vendor_timeout_seconds) as http:
        try:
            if api.revoke_url is not None:  # Oura: the access token in the query
                answer = await http.get(
                    api.revoke_url, params={"access_token": tokens.access_token}
                )
            else:  # WHOOP: DELETE the user's access on its API, as that user
                answer = await http.delete(
                    f"{api.api_url.rstrip('/')}/v2/user/access",
                    headers={"Authorization": f"Bearer {tokens.access_token}"},
                )
        except httpx.HTTPError:
            return False
    return answer.status_code < 300 or answer.status_code in (400, 401, 404)
