"""The OpenAPI description of AUREN's routes: FastAPI's, from the routes' own typed
definitions, plus what the server adds around every route and FastAPI cannot see.

The server's auth (`auren_graphs.auth`) runs before any route: an operation that is
not public documents its two security schemes and 401/403. The guard and the error
handlers answer 408, 431 and 503 on any route. Nothing here lists routes or their own
answers: those stay with the routes.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from auren_graphs.auth import PUBLIC_PATHS

SECURITY_SCHEMES = {
    "serviceKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "A service's key (AUREN_SERVICE_API_KEYS); on users' routes it acts "
        "for the user named in X-Auren-User.",
    },
    "userToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A user's token (HS256, sub = their AUREN user id): that user only.",
    },
}
AUTH_RESPONSES = {
    "401": {"description": "No credentials, or bad ones: send x-api-key or a user token."},
    "403": {
        "description": "Not this caller's: another user's data, an operators' route with a "
        "user's token, or a service key naming no user (X-Auren-User)."
    },
}
EVERY_ROUTE_RESPONSES = {
    "408": {"description": "The body did not arrive in time (AUREN_REQUEST_BODY_SECONDS)."},
    "431": {"description": "The headers exceed AUREN_MAX_HEADER_BYTES."},
    "503": {"description": "A component is down (Postgres); try again after Retry-After."},
}


def is_public(path_template: str) -> bool:
    """Whether the server's auth lets a path in without credentials."""
    return bool(PUBLIC_PATHS.match(re.sub(r"\{[^}]+\}", "x", path_template)))


def describe(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI description, made once (FastAPI's `app.openapi` contract)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                _add_answers(operation, public=is_public(path))
        app.openapi_schema = schema
    return app.openapi_schema


def _add_answers(operation: dict[str, Any], *, public: bool) -> None:
    responses = operation.setdefault("responses", {})
    added = EVERY_ROUTE_RESPONSES if public else {**AUTH_RESPONSES, **EVERY_ROUTE_RESPONSES}
    for code, answer in added.items():
        responses.setdefault(code, answer)
    if not public:
        operation["security"] = [{"serviceKey": []}, {"userToken": []}]
