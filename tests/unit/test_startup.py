"""AUREN refuses to start where the server would not enforce its auth: under a Lite
licence (no custom auth), or when `auth.path` is not AUREN's. The licence check is
LangGraph's own (`langgraph_license`), and which auth runs is the server's
(`langgraph_api.auth.custom`): both replaced here by modules of the same shape."""

from __future__ import annotations

import sys
from types import ModuleType

import pytest

from auren_graphs.auth import auth
from auren_graphs.http.startup import PlatformError, auth_problem, require_auth


def licence(monkeypatch: pytest.MonkeyPatch, *, plus: bool) -> None:
    package, validation = ModuleType("langgraph_license"), ModuleType("validation")
    validation.plus_features_enabled = lambda: plus  # type: ignore[attr-defined]
    package.validation = validation  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langgraph_license", package)
    monkeypatch.setitem(sys.modules, "langgraph_license.validation", validation)


def running_auth(monkeypatch: pytest.MonkeyPatch, instance: object) -> None:
    # The server's own module needs the server's configuration to import: one of its shape.
    custom = ModuleType("langgraph_api.auth.custom")
    custom.get_auth_instance = lambda: instance  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langgraph_api.auth.custom", custom)


def test_lite_has_no_custom_auth_and_auren_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    licence(monkeypatch, plus=False)
    running_auth(monkeypatch, auth)
    with pytest.raises(PlatformError, match=r"Lite.*Enterprise licence"):
        require_auth()


def test_an_enterprise_server_running_aurens_auth_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    licence(monkeypatch, plus=True)
    running_auth(monkeypatch, auth)
    assert auth_problem() is None
    require_auth()


def test_a_server_running_another_auth_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    licence(monkeypatch, plus=True)
    running_auth(monkeypatch, None)  # no auth.path at all
    with pytest.raises(PlatformError, match=r"auren_graphs\.auth:auth"):
        require_auth()
