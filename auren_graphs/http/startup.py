"""What AUREN checks before it serves anyone: that the server enforces AUREN's auth.

Custom auth (and crons) are Enterprise features of the official server image: on the
free Lite tier the server would not run `auren_graphs.auth`, and every thread, run and
store item would be open to any caller. Health data must not be served like that, so
AUREN refuses to start there, saying why, instead of running unprotected.
"""

from __future__ import annotations


class PlatformError(RuntimeError):
    """The server this app runs in cannot protect AUREN's data."""


def auth_problem() -> str | None:
    """Why the server would not enforce AUREN's auth, or None when it does."""
    try:
        from langgraph_license.validation import plus_features_enabled
    except ImportError:  # a runtime without licensing (langgraph dev)
        plus = True
    else:
        plus = bool(plus_features_enabled())
    if not plus:
        return (
            "this server's licence has no custom auth (LangGraph Lite): AUREN refuses to "
            "serve health data unauthenticated; run it with an Enterprise licence "
            "(LANGGRAPH_CLOUD_LICENSE_KEY), or use `make dev` on a single machine"
        )
    from langgraph_api.auth.custom import get_auth_instance

    from auren_graphs.auth import auth

    if get_auth_instance() is not auth:
        return (
            "the server is not running AUREN's auth (langgraph.json `auth.path` must be "
            "auren_graphs.auth:auth)"
        )
    return None


def require_auth() -> None:
    if problem := auth_problem():
        raise PlatformError(problem)
