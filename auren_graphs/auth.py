"""Who may do what: service API keys, end-user tokens, and one user never reaching another.

Identities (see `auren_graphs.identity`):

- a trusted **service** sends an API key (`x-api-key`, from AUREN_SERVICE_API_KEYS) and is
  `service:<n>`. To act for a user it names them in `X-Auren-User`; it then *is* that
  user for the whole request (threads, runs, store, routes), nothing more;
- an end **user** sends a JWT (`Authorization: Bearer`, HS256 with AUREN_JWT_SECRET):
  numeric `exp` within AUREN_JWT_MAX_LIFETIME_SECONDS, `sub` a valid user id, `iss`/`aud`
  when configured, at most AUREN_JWT_MAX_BYTES;
- AUREN's **public** routes (webhooks, which verify their vendors' signatures; health,
  metrics, the OpenAPI description, the OAuth callback) get no identity at all.

With no key and no secret configured (a fresh `make dev`) requests are let in as the
local developer, with a warning at start-up; AUREN_AUTH_MODE=required refuses that.

What a user may do is listed in the README's Authentication section; every resource
below stamps the owner on create, refuses changing it, and filters everything else by it.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from langgraph_sdk import Auth

from auren_contract import (
    USER_GRAPHS,
    USER_HEADER,
    is_server_thread_id,
    uploads_namespace,
    user_id_problem,
)
from auren_graphs.crypto import check_configured
from auren_graphs.identity import ACTING, SERVICE, USER
from auren_graphs.platform import loopback
from auren_graphs.settings import Settings, get_settings, service_keys

logger = logging.getLogger(__name__)
auth = Auth()

OWNER = "user_id"
PUBLIC_IDENTITY = "public:anonymous"
LOCAL_DEVELOPER = "service:local-developer"
#: AUREN's own routes that authenticate their callers themselves (or serve no user data).
PUBLIC_PATHS = re.compile(
    r"^/(webhooks/[A-Za-z_]+|health|metrics/auren|openapi/auren\.json|connect/[A-Za-z_]+/callback)$"
)
#: Run options a user may not send: they would carry state past the graph's own entry
#: (`command`), send results elsewhere (`webhook`), or stop a run half-way.
_USER_FORBIDDEN_RUN_OPTIONS = ("command", "webhook", "interrupt_before", "interrupt_after")


def _unauthorized(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=401, detail=detail)


def _forbidden(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=403, detail=detail)


def _open(settings: Settings) -> bool:
    return settings.auth_mode == "open" or (
        settings.auth_mode == "auto" and not (service_keys(settings) or settings.jwt_secret)
    )


def _startup_checks() -> None:
    settings = get_settings()
    check_configured(settings)  # refuses to start: auth required without encryption keys
    if settings.auth_mode == "required" and not (service_keys(settings) or settings.jwt_secret):
        raise RuntimeError(
            "AUREN_AUTH_MODE=required needs AUREN_SERVICE_API_KEYS or AUREN_JWT_SECRET"
        )
    if _open(settings):
        logger.warning(
            "AUREN auth is OPEN: no AUREN_SERVICE_API_KEYS or AUREN_JWT_SECRET configured, so "
            "every request is let in as the local developer. Never deploy like this."
        )


_startup_checks()

# ------------------------------------------------------------------ authentication


def _as_user(user_id: str, *, acting_for: str | None = None) -> dict[str, Any]:
    permissions = [USER, ACTING] if acting_for else [USER]
    principal: dict[str, Any] = {"identity": user_id, "permissions": permissions}
    if acting_for:
        principal["acting_service"] = acting_for
    return principal


# The ASGI scope's header names are lowercased bytes.
_USER_HEADER_KEY = USER_HEADER.lower().encode()


def _named_user(headers: Mapping[bytes, bytes]) -> str | None:
    raw = headers.get(_USER_HEADER_KEY)
    if raw is None:
        return None
    named = raw.decode(errors="replace").strip()
    if problem := user_id_problem(named):
        raise _unauthorized(f"{USER_HEADER}: {problem}")
    return named


def _service(key: str, settings: Settings) -> str | None:
    for index, known in enumerate(service_keys(settings)):
        if hmac.compare_digest(key.encode(), known.encode()):
            return f"service:{index}"
    return None


def _check_lifetime(claims: Mapping[str, Any], settings: Settings) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _unauthorized("the token's exp must be a number (seconds since 1970)")
    issued = claims.get("iat")
    start = issued if isinstance(issued, int | float) and not isinstance(issued, bool) else None
    lifetime = exp - (start if start is not None else time.time())
    if lifetime > settings.jwt_max_lifetime_seconds:
        raise _unauthorized(
            f"the token lives longer than {settings.jwt_max_lifetime_seconds:.0f} s; "
            "issue shorter-lived tokens"
        )


def _user_of_token(token: str, settings: Settings) -> str:
    if not settings.jwt_secret:
        raise _unauthorized("end-user tokens are not accepted by this server")
    if len(token) > settings.jwt_max_bytes:
        raise _unauthorized(f"the token is longer than {settings.jwt_max_bytes} bytes")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway=30,
            options={
                "require": ["exp", "sub"],
                "verify_aud": settings.jwt_audience is not None,
                "verify_iss": settings.jwt_issuer is not None,
            },
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired; get a new one") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("the token is not valid") from None
    _check_lifetime(claims, settings)
    subject = claims.get("sub")
    if problem := user_id_problem(subject):
        raise _unauthorized(f"the token's sub: {problem}")
    return str(subject)


@auth.authenticate
async def authenticate(headers: dict[bytes, bytes], path: str) -> dict[str, Any]:
    """A service (API key), a user (JWT, or a service naming them), the local developer
    in open dev mode, or nobody on AUREN's public routes."""
    if PUBLIC_PATHS.match(path):
        return {"identity": PUBLIC_IDENTITY, "permissions": []}
    settings = get_settings()
    named = _named_user(headers)
    if _open(settings):
        if named:
            return _as_user(named, acting_for=LOCAL_DEVELOPER)
        return {"identity": LOCAL_DEVELOPER, "permissions": [SERVICE]}
    api_key = headers.get(b"x-api-key")
    if api_key:
        service = _service(api_key.decode(errors="replace"), settings)
        if service is None:
            raise _unauthorized("the API key is not valid")
        if named:
            return _as_user(named, acting_for=service)
        return {"identity": service, "permissions": [SERVICE]}
    scheme, _, token = headers.get(b"authorization", b"").decode(errors="replace").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = _user_of_token(token.strip(), settings)
        if named not in (None, user):
            raise _forbidden("a user token acts only for its own user")
        return _as_user(user)
    raise _unauthorized("send an API key (x-api-key) or a user token (Authorization: Bearer)")


# ------------------------------------------------------------------- authorization


def _is_service(ctx: Auth.types.AuthContext) -> bool:
    return SERVICE in ctx.permissions


def _owner_filter(ctx: Auth.types.AuthContext) -> Auth.types.FilterType:
    return {OWNER: ctx.user.identity}


def _stamp_owner(ctx: Auth.types.AuthContext, value: Any) -> None:
    """The caller owns what they create: refuse naming anyone else, then write it."""
    metadata = value.get("metadata")
    if metadata is None:
        metadata = value["metadata"] = {}
    if metadata.get(OWNER) not in (None, ctx.user.identity):
        raise _forbidden("what a user creates is theirs: metadata.user_id must be their own")
    metadata[OWNER] = ctx.user.identity


_graph_of_assistant: dict[str, str] = {}


async def _graph_of(assistant_id: object) -> str:
    """The graph an assistant runs (it never changes for an id, so it is remembered).
    A name that is not a UUID is a graph's own name (its default assistant)."""
    key = str(assistant_id)
    try:
        uuid.UUID(key)
    except ValueError:
        return key
    if key not in _graph_of_assistant:
        assistant = await loopback().assistants.get(key)
        _graph_of_assistant[key] = str(assistant["graph_id"])
    return _graph_of_assistant[key]


async def _check_user_run(value: Mapping[str, Any], kwargs: Mapping[str, Any]) -> None:
    """What a user's run (or cron) may carry: their own graphs, no state of its own."""
    assistant_id = value.get("assistant_id") or (value.get("payload") or {}).get("assistant_id")
    if assistant_id is not None and await _graph_of(assistant_id) not in USER_GRAPHS:
        raise _forbidden(
            f"users may run {' and '.join(USER_GRAPHS)}; this graph needs a service key"
        )
    for option in _USER_FORBIDDEN_RUN_OPTIONS:
        if kwargs.get(option):
            raise _forbidden(f"a user's run may not set {option!r}")


@auth.on
async def deny_by_default(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """Anything without a narrower rule below is for services only."""
    if not _is_service(ctx):
        raise _forbidden(f"{ctx.resource}.{ctx.action} needs a service key")
    return True


@auth.on.threads.create
async def create_thread(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """A user's thread is theirs. Ids of the form the server derives for users' own
    threads (version 8) are the server's to create: nobody can claim one, even one they
    learned somehow, before its owner."""
    if _is_service(ctx):
        return True
    _refuse_server_thread_id(value.get("thread_id"))
    _stamp_owner(ctx, value)
    return _owner_filter(ctx)


def _refuse_server_thread_id(thread_id: object) -> None:
    if thread_id is not None and is_server_thread_id(thread_id):
        raise _forbidden(
            "users' own threads are created by the server: PUT /users/{user}/threads/{graph}"
        )


@auth.on.threads.create_run
async def create_run(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """A user's run: on their own thread (or a new one, stamped theirs), of their own
    graphs, with no `command`, webhook or interrupts. The graph reads the user from the
    run's authenticated identity, never from its input."""
    if _is_service(ctx):
        return True
    await _check_user_run(value, value.get("kwargs") or {})
    if value.get("if_not_exists") == "create":
        _refuse_server_thread_id(value.get("thread_id"))
    _stamp_owner(ctx, value)
    return _owner_filter(ctx)


@auth.on.threads.update
async def update_thread(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """Users may cancel their runs and edit their threads' metadata (but not its owner);
    they may not write a thread's state: only the graphs do."""
    if _is_service(ctx):
        return True
    if value.get("action") is not None:  # cancelling a run (interrupt or rollback)
        return _owner_filter(ctx)
    if "metadata" not in value:
        raise _forbidden("a thread's state is written by its graph, not by users")
    if OWNER in (value.get("metadata") or {}):
        raise _forbidden("a thread's owner cannot be changed")
    return _owner_filter(ctx)


@auth.on.threads
async def own_threads(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """Reading, searching or deleting threads and their runs: a user's own only."""
    return True if _is_service(ctx) else _owner_filter(ctx)


async def _crons_owned_by(user_id: str) -> int:
    return int(await loopback().crons.count(metadata={OWNER: user_id}))


@auth.on.crons.create
async def create_cron(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """A user's cron: theirs, on their own thread, within their limit, like their runs."""
    if _is_service(ctx):
        return True
    payload = value.get("payload") or {}
    await _check_user_run(value, payload)
    _stamp_owner(ctx, value)
    limit = get_settings().max_crons_per_user
    if await _crons_owned_by(ctx.user.identity) >= limit:
        raise _forbidden(f"a user may own at most {limit} crons; delete one first")
    return _owner_filter(ctx)


@auth.on.crons.update
async def update_cron(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    if _is_service(ctx):
        return True
    await _check_user_run(value, value.get("payload") or {})
    if OWNER in (value.get("metadata") or {}):
        raise _forbidden("a cron's owner cannot be changed")
    return _owner_filter(ctx)


@auth.on.crons
async def own_crons(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    return True if _is_service(ctx) else _owner_filter(ctx)


@auth.on.assistants.read
async def read_assistant(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True


@auth.on.assistants.search
async def search_assistants(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True


@auth.on.store
async def store_access(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """Users reach the store only to stage their own uploads (`("uploads", them)`: put,
    get, delete). Their data is read through AUREN's routes, which own its layout."""
    if _is_service(ctx):
        return True
    namespace = tuple(value.get("namespace") or ())
    if ctx.action in ("put", "get", "delete") and namespace == uploads_namespace(ctx.user.identity):
        return True
    raise _forbidden(
        "a user may only stage uploads in ('uploads', their id); read data through "
        "AUREN's routes (/users/{user}/...)"
    )
