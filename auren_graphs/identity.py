"""Who is calling, and which user a run serves: only ever what authentication decided.

The server's auth (`auren_graphs.auth`) turns a request's credentials into an identity,
and the platform stamps it into every run's config (`langgraph_auth_user_id` and
`langgraph_auth_permissions`, keys no caller may set). Graphs read it from there:

- a **user** (their own token, or a service acting for them through the one explicit
  field, the `X-Auren-User` header checked at authentication) is served, and only them;
- a **service** not acting for anyone may run operator graphs (the rollout) but no
  user's graph;
- a **system** run has no identity at all: only AUREN's own server code makes those,
  in process (webhook processing, pushes). It names its user, and that claim must be
  proven by the run's thread: the user's own thread, whose id is derived with the
  server's secret.

Input, state, `command` and metadata never decide whose data a run touches: at most
they repeat it, and then must agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from auren_contract import INGESTION_GRAPH, USER_HEADER, is_user_id
from auren_graphs.records.keys import thread_id_for

SERVICE = "service"
USER = "user"
#: A service acting for a user: it is that user for everything it does (kept for audit).
ACTING = "acting"

CallerKind = Literal["user", "service", "system"]


class IdentityError(Exception):
    """A run (or request) tried to act for someone its caller is not."""


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    name: str

    @property
    def is_operator(self) -> bool:
        """A service not acting for a user, or AUREN's own system work."""
        return self.kind in ("service", "system")


SYSTEM = Caller("system", "system")


def caller_of_run(config: Mapping[str, Any]) -> Caller:
    """The caller the platform authenticated for this run (from its config)."""
    configurable = config.get("configurable") or {}
    identity = configurable.get("langgraph_auth_user_id")
    permissions = configurable.get("langgraph_auth_permissions") or []
    if identity is None and configurable.get("langgraph_auth_user") is None:
        return SYSTEM
    # A user id can never look like a service identity (`service:...` has a colon the
    # user-id rule forbids), so the identity's form decides; a user's cron fires with
    # their identity but without permissions, and is still theirs.
    if is_user_id(identity):
        return Caller("user", str(identity))
    if SERVICE in permissions:
        return Caller("service", str(identity))
    raise IdentityError(f"the run's caller {identity!r} is neither a user nor a service")


def _thread_of(config: Mapping[str, Any]) -> str:
    return str((config.get("configurable") or {}).get("thread_id") or "")


async def serving_user(config: Mapping[str, Any], claimed: str | None, *, graph: str) -> str:
    """The user this run of `graph` serves; `IdentityError` when it may serve nobody.

    `claimed` is what the run's input or state says (None: nothing); it must agree.
    Ingestion runs only on the user's own ingestion thread: one thread per user is what
    makes overlapping deliveries queue instead of racing on the same days.
    """
    caller = caller_of_run(config)
    if caller.kind == "service":
        raise IdentityError(
            f"a service runs {graph} for a user only by naming them in the {USER_HEADER} header"
        )
    if caller.kind == "user":
        if claimed is not None and claimed != caller.name:
            raise IdentityError(f"this run serves {caller.name}; it cannot act for {claimed}")
        user = caller.name
    else:
        if not is_user_id(claimed):
            raise IdentityError("a system run must name the user it works for")
        user = str(claimed)
    if graph == INGESTION_GRAPH or caller.kind == "system":
        expected = await thread_id_for(user, graph)
        if _thread_of(config) != expected:
            raise IdentityError(
                f"{graph} runs for {user} only on their own {graph} thread; "
                f"the server gives its id (PUT /users/{user}/threads/{graph})"
            )
    return user


def require_operator(config: Mapping[str, Any], what: str) -> Caller:
    """The caller of an operator-only graph: a service or the system, never a user."""
    caller = caller_of_run(config)
    if not caller.is_operator:
        raise IdentityError(f"{what} is for operators: it needs a service API key")
    return caller
