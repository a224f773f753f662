"""The checks every user-facing argument goes through before a request is made.

The rules themselves are the contract's (`auren_contract`), shared with the server.
"""

from __future__ import annotations

from auren_contract import unknown_device_message, unknown_metric_message, user_id_problem

from ._errors import InvalidArgumentError


def check_user(user_id: object) -> str:
    """A valid AUREN user id (the contract's rule), or InvalidArgumentError."""
    if problem := user_id_problem(user_id):
        raise InvalidArgumentError(f"user_id: {problem}")
    return str(user_id)


def check_device(device: object) -> str:
    if problem := unknown_device_message(device):
        raise InvalidArgumentError(problem)
    return str(device)


def check_metric(metric: object) -> str:
    if problem := unknown_metric_message(metric):
        raise InvalidArgumentError(problem)
    return str(metric)
