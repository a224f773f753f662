"""The OpenAPI description against the live routes: every route the app serves is
described, every described operation exists on the running server, and whatever the
server answers (anonymous, as a service, as another user) is an answer it documents."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from auren_graphs.http.app import app
from auren_graphs.http.openapi import is_public
from tests.support.config import SERVICE_KEY, user_token
from tests.support.server import DevServer

pytestmark = pytest.mark.integration

#: A value for each path parameter that names something real on a fresh server.
PARAMETERS = {
    "graph": "ingestion", "device": "manual", "vendor": "oura", "metric": "steps",
    "name": "analysis-standard", "assistant": "analysis-standard",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec(server: DevServer) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/openapi/auren.json", timeout=30)
    assert answer.status_code == 200  # public, as the description says
    return dict(answer.json())


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_route_of_the_app_is_described(spec: dict[str, Any]) -> None:
    served = {
        (method, route.path)
        for route in app.routes
        if getattr(route, "include_in_schema", False)
        for method in getattr(route, "methods", ()) - {"HEAD"}
    }
    described = {(method, path) for method, path, _ in operations(spec)}
    assert served == described


def test_what_the_server_answers_is_documented(server: DevServer, spec: dict[str, Any]) -> None:
    undocumented: list[str] = []
    for method, template, operation in operations(spec):
        user = f"user-{uuid.uuid4().hex[:12]}"
        path = filled(template, user)
        documented = set(operation["responses"])
        for caller, headers in callers(user).items():
            answer = send(server, method, path, headers)
            assert not (answer.status_code == 404 and answer.json() == {"detail": "Not Found"}), (
                f"{method} {path} is described but the server has no such route"
            )
            if str(answer.status_code) not in documented:
                undocumented.append(f"{method} {template} as {caller}: {answer.status_code} "
                                    f"{answer.text[:120]} (documented {sorted(documented)})")  # fmt: skip
            if caller == "anonymous" and not is_public(template):
                assert answer.status_code == 401, f"{method} {path} let in an anonymous caller"
    assert undocumented == []


def filled(template: str, user: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMETERS.get(m.group(1), user), template)


def callers(user: str) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "a service acting for the user": {"x-api-key": SERVICE_KEY, "X-Auren-User": user},
        "another user": {"Authorization": f"Bearer {user_token('user-someone-else')}"},
    }


def send(server: DevServer, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = {} if method in ("POST", "PUT") else None
    return httpx.request(
        method, f"{server.url}{path}", headers=headers, json=body, timeout=60,
        follow_redirects=False,
    )  # fmt: skip
