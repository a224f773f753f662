"""Runs of the graphs in-process, as the server would stamp them (unit and browser tests).

In the server, the platform stamps the authenticated caller into each run's config and
AUREN's thread key lives in Postgres; a graph run in-process gets both from here.
"""

from __future__ import annotations

from typing import Any

from auren_contract import derive_thread_id
from auren_graphs.identity import SERVICE, USER
from auren_graphs.records import keys

THREAD_KEY = b"unit-tests-thread-key-0123456789"


def use_test_thread_key() -> None:
    keys.use_key(keys.THREAD_KEY, THREAD_KEY)


def thread_of(user: str, graph: str) -> str:
    return derive_thread_id(THREAD_KEY, user, graph)


def as_user(user: str, graph: str, thread: str | None = None) -> dict[str, Any]:
    """A run's config as the server makes it for `user` (their token, or a service
    acting for them), on their own thread of `graph` unless `thread` says otherwise."""
    return {
        "configurable": {
            "thread_id": thread or thread_of(user, graph),
            "langgraph_auth_user_id": user,
            "langgraph_auth_permissions": [USER],
        }
    }


def as_service(thread: str, name: str = "service:0") -> dict[str, Any]:
    return {
        "configurable": {
            "thread_id": thread,
            "langgraph_auth_user_id": name,
            "langgraph_auth_permissions": [SERVICE],
        }
    }


def as_system(thread: str) -> dict[str, Any]:
    """An in-process run of AUREN's own server code: no identity at all."""
    return {"configurable": {"thread_id": thread}}
