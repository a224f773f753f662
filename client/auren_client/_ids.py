"""Deterministic thread ids and the checks every user-facing argument goes through."""

from __future__ import annotations

import uuid

from ._errors import InvalidArgumentError
from ._settings import DEVICES

#: Shared with the server: the same (user, graph) always names the same thread, so
#: every delivery for a user lands on one thread and overlapping ones queue up there.
THREAD_NAMESPACE = uuid.UUID("6f1c1d2e-8f5a-4a63-9a43-2f7f6d0b9e11")


def thread_id(user_id: str, graph: str) -> str:
    """The id of ``user_id``'s thread for ``graph``."""
    return str(uuid.uuid5(THREAD_NAMESPACE, f"{user_id}/{graph}"))


def check_label(name: str, value: object) -> str:
    """A non-empty string usable as a store namespace label.

    The store joins namespace labels with ``.``, so a label may not contain one; we
    say so here instead of letting the SDK raise a bare ``ValueError``.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
    if "." in value:
        raise InvalidArgumentError(
            f"{name} {value!r} contains '.', which the server's store does not allow "
            "in namespaces; use another separator (for example '-' or '_')"
        )
    return value


def check_device(device: object) -> str:
    if device not in DEVICES:
        known = ", ".join(sorted(DEVICES))
        raise InvalidArgumentError(f"unknown device {device!r}; use one of: {known}")
    return str(device)
