"""Who is calling one of AUREN's own routes, and whether they may act for a user.

The server's auth middleware runs `auren_graphs.auth.authenticate` on AUREN's routes too
(`http.enable_custom_route_auth`), so a route reads its caller from the request, the
same identity a run gets: never from a path, a query or a body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from auren_contract import USER_HEADER, user_id_problem
from auren_graphs.auth import PUBLIC_IDENTITY
from auren_graphs.identity import SERVICE, USER, Caller


def caller(request: Request) -> Caller:
    """The authenticated caller of this request (401 when there is none)."""
    user = request.scope.get("user")
    identity = getattr(user, "identity", None)
    permissions = getattr(request.scope.get("auth"), "scopes", None) or []
    if identity is None or identity == PUBLIC_IDENTITY:
        raise HTTPException(401, "send an API key (x-api-key) or a user token")
    if USER in permissions:
        return Caller("user", str(identity))
    if SERVICE in permissions:
        return Caller("service", str(identity))
    raise HTTPException(403, "this caller may not use AUREN's routes")


def served_user(
    user_id: Annotated[str, Path(description="The AUREN user id.", max_length=128)],
    who: Annotated[Caller, Depends(caller)],
) -> str:
    """The path's user, when the caller is them (their token, or a service naming them in
    the X-Auren-User header); 403 otherwise. No lookup: nothing is revealed about others."""
    if problem := user_id_problem(user_id):
        raise HTTPException(422, problem)
    if who.kind == "service":
        raise HTTPException(
            403, f"a service acts for a user by naming them in the {USER_HEADER} header"
        )
    if who.name != user_id:
        raise HTTPException(403, f"this caller acts for {who.name}, not for {user_id}")
    return user_id


def operator(who: Annotated[Caller, Depends(caller)]) -> Caller:
    """A service not acting for a user: operators' routes."""
    if who.kind != "service":
        raise HTTPException(403, "this route is for operators: it needs a service API key")
    return who


ServedUser = Annotated[str, Depends(served_user)]
Operator = Annotated[Caller, Depends(operator)]
