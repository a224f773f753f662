"""What the client returns is the contract's shapes, built from the server's JSON.

Ingestion reports, metric rows and device connections are `auren_contract`'s classes,
the ones the server answers with; reading them here only adds this client's error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._errors import UnexpectedResponseError

T = TypeVar("T")


def parsed(build: Callable[[Mapping[str, Any]], T], raw: object, what: str) -> T:
    """`build(raw)` (a contract class's `from_dict`), or UnexpectedResponseError."""
    try:
        if not isinstance(raw, Mapping):
            raise TypeError(f"{type(raw).__name__}, not an object")
        return build(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnexpectedResponseError(f"the server sent a malformed {what}: {exc}") from exc
