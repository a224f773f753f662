"""OAuth 2.0 authorization servers of WHOOP and Oura on 127.0.0.1, each on the same port
as its vendor's API stand-in, so AUREN's connect, refresh, backfill and disconnect code runs
end to end without the internet.

`WhoopStandIn` and `OuraStandIn` are the API stand-ins of `tests.support.vendor_standins`
plus an `AuthorizationServer` (`.oauth`) mounted at the vendor's real paths; `env()` gives
the AUREN settings that point at them. The authorize endpoint stands for the vendor's login
and consent pages: the user configured with `oauth.approve_as(vendor_user)` approves at once
(302 to the redirect URI with `code` and the same `state`), or `oauth.deny()` makes it answer
`error=access_denied`. Access tokens it issues are granted on the API stand-in (with their
scopes and lifetime, `access_ttl` seconds), so they work on the API until they expire (401)
or are revoked. Refresh tokens rotate: each works once; a reused one answers 400
`{"error": "invalid_grant"}` (RFC 6749 section 5.2) and `oauth.times_presented(token)`
counts every presentation. `oauth.throttle(nth, retry_after=...)` makes the token endpoint
answer 429, `oauth.revoke_user(vendor_user)` ends every grant of a user (the next refresh is
invalid_grant). Every request is recorded in `requests` (kind "oauth" or "token").

What follows RFC 6749 / RFC 7636 / RFC 7009 rather than a vendor document: codes are single
use (a second use also revokes what the first issued), expire after `code_ttl` seconds and
are bound to the client and the redirect URI; a PKCE challenge must be S256 and the verifier
must match it (a verifier without a challenge is refused too); the token endpoint takes
form-encoded bodies only; a client uses one authentication method per request; invalid_client
answers 401, other errors 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendor_standins import OuraApiStandIn, VendorStandIn, WhoopApiStandIn

_PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class OAuthProfile:
    """How one vendor's authorization server behaves."""

    vendor: str
    authorize_path: str
    token_path: str
    revoke_path: str | None
    scopes: frozenset[str]
    auth_methods: frozenset[str]  # client_secret_post and/or client_secret_basic
    all_scopes_by_default: bool  # a request without `scope` gets every scope
    refresh_scope: str | None  # a refresh token is issued only with this scope
    min_state_length: int
    refresh_revokes_previous_access: bool
    access_ttl: int


WHOOP_OAUTH = OAuthProfile(
    vendor="whoop",
    authorize_path="/oauth/oauth2/auth",
    token_path="/oauth/oauth2/token",
    revoke_path=None,  # WHOOP revokes with DELETE /developer/v2/user/access
    scopes=frozenset(
        {
            "offline",
            "read:recovery",
            "read:cycles",
            "read:workout",
            "read:sleep",
            "read:profile",
            "read:body_measurement",
        }
    ),
    auth_methods=frozenset({"client_secret_post"}),
    all_scopes_by_default=False,
    refresh_scope="offline",
    min_state_length=8,
    refresh_revokes_previous_access=True,
    access_ttl=3600,
)

OURA_OAUTH = OAuthProfile(
    vendor="oura",
    authorize_path="/oauth/authorize",
    token_path="/oauth/token",
    revoke_path="/oauth/revoke",
    scopes=frozenset(
        {
            "email",
            "personal",
            "daily",
            "heartrate",
            "workout",
            "tag",
            "session",
            "spo2",
            "spo2Daily",
            "ring_configuration",
            "stress",
            "heart_health",
        }
    ),
    auth_methods=frozenset({"client_secret_post", "client_secret_basic"}),
    all_scopes_by_default=True,
    refresh_scope=None,
    min_state_length=1,
    refresh_revokes_previous_access=False,
    access_ttl=86400,
)


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """What one approval produced: the tokens issued from it, in order."""

    id: str
    client_id: str
    user: str
    scopes: tuple[str, ...]
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    user: str
    scopes: tuple[str, ...]
    redirect_uri: str
    redirect_uri_sent: bool
    challenge: str | None
    expires_at: float
    used: bool = False
    grant_id: str | None = None


@dataclass
class _Refresh:
    grant_id: str
    used: bool = False


class _OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.headers: dict[str, str] = {}

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, self.status, headers={**_NO_STORE, **self.headers})


class AuthorizationServer:
    """The authorization server of one vendor, granting its tokens on `api`."""

    def __init__(
        self,
        profile: OAuthProfile,
        api: VendorStandIn,
        *,
        access_ttl: int | None = None,
        code_ttl: int = 60,
    ) -> None:
        self.profile, self.api = profile, api
        self.access_ttl = access_ttl if access_ttl is not None else profile.access_ttl
        self.code_ttl = code_ttl
        self.refresh_revokes_previous_access = profile.refresh_revokes_previous_access
        self.clients: dict[str, OAuthClient] = {}
        self.user: str | None = None
        self.denial: str | None = None
        self.codes: dict[str, _Code] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh: dict[str, _Refresh] = {}
        self.presented: Counter[str] = Counter()
        self.auth_methods_used: list[str] = []
        self.issued: list[dict[str, Any]] = []  # every token answer, in order

    # ------------------------------------------------------------------ test controls

    def register(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> OAuthClient:
        client = OAuthClient(client_id, client_secret, list(redirect_uris or []))
        self.clients[client_id] = client
        return client

    def approve_as(self, vendor_user: str | int) -> None:
        """The user signed in at the vendor, who approves the next authorizations."""
        self.user, self.denial = str(vendor_user), None

    def deny(self, error: str = "access_denied") -> None:
        """Authorizations answer `error` (to the redirect URI, with the state) until
        `approve_as` is called again."""
        self.denial = error

    def throttle(self, nth: int = 1, *, retry_after: int = 1, times: int = 1) -> None:
        """The nth token request from now answers 429 with Retry-After."""
        self.api.throttle(nth, retry_after=retry_after, times=times, kind="token")

    def revoke_user(self, vendor_user: str | int) -> None:
        """The user removes the app at the vendor: every grant of theirs ends."""
        for grant in self.grants.values():
            if grant.user == str(vendor_user):
                self._revoke(grant)

    def revoke_token(self, token: str) -> bool:
        """Ends the grant holding `token` (an access or a refresh token)."""
        for grant in self.grants.values():
            if token in grant.access_tokens or token in grant.refresh_tokens:
                self._revoke(grant)
                return True
        return False

    def times_presented(self, refresh_token: str) -> int:
        return self.presented[refresh_token]

    def grants_of(self, vendor_user: str | int) -> list[Grant]:
        return [grant for grant in self.grants.values() if grant.user == str(vendor_user)]

    def refresh_tokens(self, vendor_user: str | int) -> list[str]:
        """Every refresh token issued to the user, in order."""
        return [token for g in self.grants_of(vendor_user) for token in g.refresh_tokens]

    def current_refresh_token(self, vendor_user: str | int) -> str | None:
        """The refresh token that still works for the user (the newest live grant's)."""
        for grant in reversed(self.grants_of(vendor_user)):
            if not grant.revoked and grant.refresh_tokens:
                latest = grant.refresh_tokens[-1]
                return None if self.refresh[latest].used else latest
        return None

    # ------------------------------------------------------------------ internals

    def _revoke(self, grant: Grant) -> None:
        grant.revoked = True
        for token in grant.access_tokens:
            self.api.revoke(token)

    def _redirect(self, target: str, params: dict[str, str]) -> Response:
        joiner = "&" if "?" in target else "?"
        return RedirectResponse(target + joiner + urlencode(params), status_code=302)

    def _issue(self, grant: Grant) -> Response:
        access = f"{self.profile.vendor}-at-{secrets.token_urlsafe(32)}"
        self.api.grant(access, grant.user, expires_in=self.access_ttl, scopes=grant.scopes)
        grant.access_tokens.append(access)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "scope": " ".join(grant.scopes),
        }
        if self.profile.refresh_scope is None or self.profile.refresh_scope in grant.scopes:
            refresh = f"{self.profile.vendor}-rt-{secrets.token_urlsafe(32)}"
            self.refresh[refresh] = _Refresh(grant.id)
            grant.refresh_tokens.append(refresh)
            body["refresh_token"] = refresh
        self.issued.append({**body, "user": grant.user, "grant": grant.id})
        return JSONResponse(body, headers=_NO_STORE)

    async def _form(self, request: Request) -> dict[str, str]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise _OAuthError("invalid_request", "the body must be form-encoded")
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        form = dict(pairs)
        if len(form) != len(pairs):
            raise _OAuthError("invalid_request", "a parameter is repeated")
        return form

    def _authenticate(self, request: Request, form: dict[str, str]) -> OAuthClient:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        basic = scheme.lower() == "basic"
        if basic and "client_secret" in form:
            raise _OAuthError("invalid_request", "more than one client authentication method")
        if basic:
            method = "client_secret_basic"
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except ValueError as error:
                raise self._invalid_client("malformed Basic credentials", basic) from error
            client_id, colon, secret = decoded.partition(":")
            if not colon:
                raise self._invalid_client("malformed Basic credentials", basic)
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
            if form.get("client_id") not in (None, client_id):
                raise _OAuthError("invalid_request", "client_id differs from the credentials")
        elif "client_secret" in form:
            method = "client_secret_post"
            client_id, secret = form.get("client_id", ""), form["client_secret"]
        else:
            raise self._invalid_client("no client authentication included", basic)
        self.auth_methods_used.append(method)
        if method not in self.profile.auth_methods:
            raise self._invalid_client(
                f"client authentication failed: {method} is not allowed for this client "
                f"(allowed: {', '.join(sorted(self.profile.auth_methods))})",
                basic,
            )
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(secret, client.client_secret):
            raise self._invalid_client("client authentication failed (unknown client)", basic)
        return client

    def _invalid_client(self, description: str, basic: bool) -> _OAuthError:
        error = _OAuthError("invalid_client", description, 401)
        if basic:
            error.headers["WWW-Authenticate"] = f'Basic realm="{self.profile.vendor}"'
        return error

    def _scopes(self, requested: str | None) -> tuple[str, ...]:
        if requested is None:
            return tuple(sorted(self.profile.scopes)) if self.profile.all_scopes_by_default else ()
        scopes = tuple(dict.fromkeys(requested.split()))
        unknown = [scope for scope in scopes if scope not in self.profile.scopes]
        if unknown:
            raise _OAuthError("invalid_scope", f"unknown scopes {unknown}")
        return scopes

    # ------------------------------------------------------------------ endpoints

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            # Never redirect to an unverified URI (RFC 6749 section 4.1.2.1).
            return _OAuthError("invalid_client", "unknown client_id").response()
        redirect_uri = query.get("redirect_uri")
        if redirect_uri is None:
            if len(client.redirect_uris) != 1:
                return _OAuthError("invalid_request", "redirect_uri is required").response()
            target = client.redirect_uris[0]
        elif redirect_uri not in client.redirect_uris:
            message = "redirect_uri is not registered for this client"
            return _OAuthError("invalid_request", message).response()
        else:
            target = redirect_uri
        state = query.get("state")
        echo = {"state": state} if state else {}
        try:
            if query.get("response_type") != "code":
                raise _OAuthError("unsupported_response_type", "response_type must be code")
            if not state or len(state) < self.profile.min_state_length:
                minimum = self.profile.min_state_length
                raise _OAuthError("invalid_request", f"state of {minimum}+ characters required")
            scopes = self._scopes(query.get("scope"))
            challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
            if challenge is None and method is not None:
                raise _OAuthError("invalid_request", "code_challenge_method without challenge")
            if challenge is not None:
                if (method or "plain") != "S256":
                    raise _OAuthError("invalid_request", "code_challenge_method must be S256")
                if not _PKCE_CHALLENGE.fullmatch(challenge):
                    raise _OAuthError("invalid_request", "malformed code_challenge")
            if self.denial is not None:
                raise _OAuthError(self.denial, "The resource owner denied the request")
        except _OAuthError as error:
            params = {"error": error.error, "error_description": error.description, **echo}
            return self._redirect(target, params)
        if self.user is None:
            message = "stand-in: nobody is signed in; call oauth.approve_as(vendor_user)"
            return JSONResponse({"error": "login_required", "error_description": message}, 409)
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(
            client_id=client.client_id,
            user=self.user,
            scopes=scopes,
            redirect_uri=target,
            redirect_uri_sent=redirect_uri is not None,
            challenge=challenge,
            expires_at=time.time() + self.code_ttl,
        )
        return self._redirect(target, {"code": code, **echo})

    async def token(self, request: Request) -> Response:
        try:
            form = await self._form(request)
            client = self._authenticate(request, form)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return self._exchange(client, form)
            if grant_type == "refresh_token":
                return self._refresh(client, form)
            if grant_type is None:
                raise _OAuthError("invalid_request", "grant_type is required")
            raise _OAuthError("unsupported_grant_type", f"{grant_type} is not supported")
        except _OAuthError as error:
            return error.response()

    def _exchange(self, client: OAuthClient, form: dict[str, str]) -> Response:
        code = form.get("code")
        if not code:
            raise _OAuthError("invalid_request", "code is required")
        record = self.codes.get(code)
        if record is None or record.client_id != client.client_id:
            raise _OAuthError("invalid_grant", "unknown authorization code")
        if record.used:
            if record.grant_id is not None:
                self._revoke(self.grants[record.grant_id])
            raise _OAuthError("invalid_grant", "authorization code already used")
        if time.time() >= record.expires_at:
            raise _OAuthError("invalid_grant", "authorization code expired")
        redirect_uri = form.get("redirect_uri")
        if (record.redirect_uri_sent or redirect_uri is not None) and (
            redirect_uri != record.redirect_uri
        ):
            raise _OAuthError("invalid_grant", "redirect_uri differs from the authorization's")
        verifier = form.get("code_verifier")
        if record.challenge is None and verifier is not None:
            raise _OAuthError("invalid_grant", "code_verifier without a code_challenge")
        if record.challenge is not None:
            if verifier is None:
                raise _OAuthError("invalid_grant", "code_verifier is required")
            digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if not hmac.compare_digest(expected, record.challenge):
                raise _OAuthError("invalid_grant", "code_verifier does not match the challenge")
        record.used = True
        grant = Grant(secrets.token_hex(8), client.client_id, record.user, record.scopes)
        self.grants[grant.id] = grant
        record.grant_id = grant.id
        return self._issue(grant)

    def _refresh(self, client: OAuthClient, form: dict[str, str]) -> Response:
        token = form.get("refresh_token")
        if not token:
            raise _OAuthError("invalid_request", "refresh_token is required")
        self.presented[token] += 1
        record = self.refresh.get(token)
        if record is None:
            raise _OAuthError("invalid_grant", "unknown refresh token")
        grant = self.grants[record.grant_id]
        if grant.client_id != client.client_id:
            raise _OAuthError("invalid_grant", "refresh token of another client")
        if grant.revoked:
            raise _OAuthError("invalid_grant", "the grant was revoked")
        if record.used:
            raise _OAuthError("invalid_grant", "refresh token already used")
        wanted = form.get("scope")
        if wanted is not None:
            extra = [scope for scope in wanted.split() if scope not in grant.scopes]
            if extra:
                raise _OAuthError("invalid_scope", f"scopes {extra} were not granted")
        record.used = True
        if self.refresh_revokes_previous_access:
            for access in grant.access_tokens:
                self.api.revoke(access)
        return self._issue(grant)

    async def revoke(self, request: Request) -> Response:
        """Oura's revocation: `access_token` in the query (GET or POST: Oura's page shows
        the URL, not the method), or RFC 7009 (POST, `token` in a form body, the client
        authenticated). Unknown tokens answer 200 too."""
        token = request.query_params.get("access_token")
        try:
            if token is None and request.method != "POST":
                raise _OAuthError("invalid_request", "access_token is required")
            if token is None:
                form = await self._form(request)
                token = form.get("token")
                if not token:
                    raise _OAuthError("invalid_request", "token is required")
                self._authenticate(request, form)
        except _OAuthError as error:
            return error.response()
        self.revoke_token(token)
        return Response(status_code=200)

    def routes(self) -> list[BaseRoute]:
        profile, api = self.profile, self.api
        routes: list[BaseRoute] = [
            Route(profile.authorize_path, api._wrap("oauth", self.authorize), methods=["GET"]),
            Route(profile.token_path, api._wrap("token", self.token), methods=["POST"]),
        ]
        if profile.revoke_path is not None:
            routes.append(
                Route(profile.revoke_path, api._wrap("oauth", self.revoke), methods=["GET", "POST"])
            )
        return routes


def pkce_pair() -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge), for tests that drive the flow themselves."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


# ------------------------------------------------------------------ the vendors


@dataclass
class WhoopStandIn(WhoopApiStandIn):
    """WHOOP: OAuth at `oauth_url` (AUREN_WHOOP_OAUTH_URL; /auth and /token under it) and
    the v2 API at `base_url` (AUREN_WHOOP_API_URL), on one port.

    Verified in WHOOP's documentation:
    - Authorization URL https://api.prod.whoop.com/oauth/oauth2/auth, token URL
      https://api.prod.whoop.com/oauth/oauth2/token; the redirect URL must be registered;
      `state` is echoed on success (https://developer.whoop.com/docs/developing/oauth).
    - A refresh token comes with the access token only when the `offline` scope was
      requested; the refresh request is a form-encoded POST with grant_type=refresh_token,
      refresh_token, client_id, client_secret and scope=offline; the answer is
      {access_token, expires_in (3600), refresh_token (a new one), scope, token_type}
      (https://developer.whoop.com/docs/tutorials/refresh-token-postman,
      https://developer.whoop.com/docs/tutorials/refresh-token-javascript).
    - Revocation is DELETE /developer/v2/user/access with the bearer token: 204, and the
      token stops working (OpenAPI of https://developer.whoop.com/api).
    - The token endpoint wants client_id and client_secret in the body: with Basic
      credentials it answers invalid_client
      (https://github.com/FormidableLabs/react-native-app-auth/issues/797).

    Assumed: WHOOP's server behaves like Ory Hydra, whose paths (/oauth2/auth,
    /oauth2/token) and error texts it shows; so a state shorter than 8 characters is
    refused, PKCE S256 is honoured when sent, a reused refresh token is invalid_grant and
    refreshing revokes the previous access token (`oauth.refresh_revokes_previous_access`,
    switchable). Revoking ends the whole grant (refresh tokens included). A request without
    `scope` grants none. Scopes are not narrowed by a refresh's `scope=offline`.
    """

    client_id: str = "whoop-test-client"
    client_secret: str = field(default_factory=lambda: "whoop-secret-" + secrets.token_hex(8))
    redirect_uris: list[str] = field(default_factory=list)
    access_ttl: int = WHOOP_OAUTH.access_ttl
    code_ttl: int = 60
    oauth: AuthorizationServer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.oauth = AuthorizationServer(
            WHOOP_OAUTH, self, access_ttl=self.access_ttl, code_ttl=self.code_ttl
        )
        self.oauth.register(self.client_id, self.client_secret, self.redirect_uris)

    @property
    def oauth_url(self) -> str:
        return f"{self.root_url}/oauth/oauth2"

    @property
    def authorize_url(self) -> str:
        return f"{self.oauth_url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.oauth_url}/token"

    def allow_redirect(self, uri: str) -> None:
        self.oauth.clients[self.client_id].redirect_uris.append(uri)

    def env(self) -> dict[str, str]:
        """AUREN's settings pointing at this stand-in."""
        return {
            "AUREN_WHOOP_OAUTH_URL": self.oauth_url,
            "AUREN_WHOOP_API_URL": self.base_url,
            "WHOOP_CLIENT_ID": self.client_id,
            "WHOOP_CLIENT_SECRET": self.client_secret,
        }

    def revoke_access(self, token: str) -> None:
        if not self.oauth.revoke_token(token):
            self.revoke(token)

    def _routes(self) -> list[BaseRoute]:
        return [*self.oauth.routes(), *super()._routes()]


@dataclass
class OuraStandIn(OuraApiStandIn):
    """Oura: authorize at `oauth_url` + /authorize (AUREN_OURA_OAUTH_URL), token at
    `token_url` (AUREN_OURA_TOKEN_URL), revoke at `revoke_url` (AUREN_OURA_REVOKE_URL), the
    v2 API and the webhook subscription API at `base_url` (AUREN_OURA_API_URL), on one port.
    The webhook subscription API takes this client's id and secret.

    Verified in Oura's documentation (https://cloud.ouraring.com/docs/authentication):
    authorize at https://cloud.ouraring.com/oauth/authorize, token at
    https://api.ouraring.com/oauth/token; `response_type=code` and `client_id` required;
    `redirect_uri` must match a registered URI exactly and may be left out when exactly one
    is registered; `state` is echoed after successful or unsuccessful authorization; `scope`
    is space separated and, when absent, every scope is asked for.

    Revocation: Oura's authentication page gives
    https://api.ouraring.com/oauth/revoke?access_token={access_token} without an HTTP method
    (as quoted by clients that read it; the page text indexed here lacks that code block);
    clients call it with POST (github.com/Pinta365/oura_api src/utilsOAuth.ts) or GET, so
    the stand-in takes both.

    Seen in clients of Oura's API, not in a document found: code exchange and refresh send
    client_id and client_secret in the form body (same repository); access tokens last
    86400 s (https://hexdocs.pm/ex_oura/ExOura.OAuth2.html).

    Assumed: HTTP Basic client authentication is accepted too; `state` is required (AUREN
    always sends one); PKCE S256 is checked when sent (Oura does not document PKCE);
    refresh tokens are single use and rotate (reuse: invalid_grant); refreshing keeps the
    previous access token alive until it expires (switch
    `oauth.refresh_revokes_previous_access`); revoking any token of a grant ends the grant;
    the revocation endpoint also takes RFC 7009's form (`token`, client authenticated) and
    answers 200 with no body, for unknown tokens too.
    """

    client_id: str = "oura-test-client"
    client_secret: str = field(default_factory=lambda: "oura-secret-" + secrets.token_hex(8))
    redirect_uris: list[str] = field(default_factory=list)
    access_ttl: int = OURA_OAUTH.access_ttl
    code_ttl: int = 60
    oauth: AuthorizationServer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.oauth = AuthorizationServer(
            OURA_OAUTH, self, access_ttl=self.access_ttl, code_ttl=self.code_ttl
        )
        self.oauth.register(self.client_id, self.client_secret, self.redirect_uris)
        self.webhook_clients[self.client_id] = self.client_secret

    @property
    def oauth_url(self) -> str:
        return f"{self.root_url}/oauth"

    @property
    def authorize_url(self) -> str:
        return f"{self.oauth_url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.root_url}/oauth/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.root_url}/oauth/revoke"

    def allow_redirect(self, uri: str) -> None:
        self.oauth.clients[self.client_id].redirect_uris.append(uri)

    def env(self) -> dict[str, str]:
        """AUREN's settings pointing at this stand-in."""
        return {
            "AUREN_OURA_OAUTH_URL": self.oauth_url,
            "AUREN_OURA_TOKEN_URL": self.token_url,
            "AUREN_OURA_REVOKE_URL": self.revoke_url,
            "AUREN_OURA_API_URL": self.base_url,
            "OURA_CLIENT_ID": self.client_id,
            "OURA_CLIENT_SECRET": self.client_secret,
        }

    def revoke_access(self, token: str) -> None:
        if not self.oauth.revoke_token(token):
            self.revoke(token)

    def _routes(self) -> list[BaseRoute]:
        return [*self.oauth.routes(), *super()._routes()]
