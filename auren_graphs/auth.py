"""Who may do what: service API keys, end-user tokens, and per-user isolation.

Trusted services send an API key (`x-api-key`, from AUREN_SERVICE_API_KEYS). End users
send a signed JWT (`Authorization: Bearer`, HS256 with AUREN_JWT_SECRET) whose `sub` is
their AUREN user id and which must carry `exp`. A user reaches only threads whose
metadata names them, runs on those threads whose input names them, and store
namespaces under `("users", them)` or `("uploads", them)`; they may read assistants but
not change them. Services reach everything.

With no key and no secret configured (a fresh `make dev`), requests are let in as a
local developer, with a warning at start-up, so Studio and the README's examples work;
AUREN_AUTH_MODE=required refuses that, and every deploy configures keys.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import jwt
from langgraph_sdk import Auth

from auren_graphs.settings import Settings, get_settings, service_keys

logger = logging.getLogger(__name__)
auth = Auth()

SERVICE = "service"
USER = "user"
_USER_NAMESPACES = ("users", "uploads")


def _unauthorized(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=401, detail=detail)


def _forbidden(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=403, detail=detail)


def _enforced(settings: Settings) -> bool:
    if settings.auth_mode == "open":
        return False
    configured = bool(service_keys(settings) or settings.jwt_secret)
    if settings.auth_mode == "required" and not configured:
        raise _unauthorized("authentication is required but no keys are configured on the server")
    return configured


def _warn_if_open() -> None:
    settings = get_settings()
    if settings.auth_mode != "required" and not (service_keys(settings) or settings.jwt_secret):
        logger.warning(
            "AUREN auth is OPEN: no AUREN_SERVICE_API_KEYS or AUREN_JWT_SECRET configured, so "
            "every request is let in as the local developer. Never deploy like this."
        )


_warn_if_open()


def _service_identity(key: str, settings: Settings) -> dict[str, Any] | None:
    for index, known in enumerate(service_keys(settings)):
        if hmac.compare_digest(key.encode(), known.encode()):
            return {"identity": f"service-{index}", "permissions": [SERVICE]}
    return None


def _user_identity(token: str, settings: Settings) -> dict[str, Any]:
    if not settings.jwt_secret:
        raise _unauthorized("end-user tokens are not accepted by this server")
    try:
        claims = jwt.decode(
            token, settings.jwt_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired; get a new one") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("the token is not valid") from None
    return {"identity": str(claims["sub"]), "permissions": [USER]}


@auth.authenticate
async def authenticate(headers: dict[bytes, bytes]) -> dict[str, Any]:
    """A service (API key), a user (JWT), or in open dev mode the local developer."""
    settings = get_settings()
    if not _enforced(settings):
        return {"identity": "local-developer", "permissions": [SERVICE]}
    api_key = headers.get(b"x-api-key")
    if api_key:
        service = _service_identity(api_key.decode(errors="replace"), settings)
        if service is None:
            raise _unauthorized("the API key is not valid")
        return service
    authorization = headers.get(b"authorization", b"").decode(errors="replace")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        return _user_identity(token.strip(), settings)
    raise _unauthorized("send an API key (x-api-key) or a user token (Authorization: Bearer)")


def _is_service(ctx: Auth.types.AuthContext) -> bool:
    return SERVICE in ctx.permissions


@auth.on
async def deny_by_default(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """Anything without a narrower rule below is for services only."""
    if not _is_service(ctx):
        raise _forbidden(f"{ctx.resource}.{ctx.action} needs a service key")
    return True


@auth.on.threads.create
async def create_thread(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """A user's thread is theirs: its metadata names them, whatever the request said."""
    if _is_service(ctx):
        return True
    metadata = value.setdefault("metadata", {})
    named = metadata.get("user_id")
    if named not in (None, ctx.user.identity):
        raise _forbidden("a user may only create their own threads")
    metadata["user_id"] = ctx.user.identity
    return {"user_id": ctx.user.identity}


@auth.on.threads.create_run
async def create_run(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """A user's run stays on their thread and names them as the user it works for."""
    if _is_service(ctx):
        return True
    kwargs = value.get("kwargs") or {}
    run_input = kwargs.get("input") if isinstance(kwargs, dict) else None
    if isinstance(run_input, dict) and run_input.get("user_id") not in (None, ctx.user.identity):
        raise _forbidden("a run may only work on the caller's own data")
    return {"user_id": ctx.user.identity}


@auth.on.threads
async def own_threads(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    """Reading, searching, updating or deleting threads: a user sees only their own."""
    return True if _is_service(ctx) else {"user_id": ctx.user.identity}


@auth.on.crons
async def own_crons(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | bool:
    return True if _is_service(ctx) else {"user_id": ctx.user.identity}


@auth.on.assistants.read
async def read_assistant(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True


@auth.on.assistants.search
async def search_assistants(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True


@auth.on.store
async def own_namespaces(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """A user's store access is confined to `("users", them, ...)` and `("uploads", them)`."""
    if _is_service(ctx):
        return True
    namespace = tuple(value.get("namespace") or ())
    if not namespace:  # listing everything: narrowed to their own
        value["namespace"] = ("users", ctx.user.identity)
        return True
    if (
        len(namespace) >= 2
        and namespace[0] in _USER_NAMESPACES
        and namespace[1] == ctx.user.identity
    ):
        return True
    raise _forbidden("a user may only reach their own store namespaces")
