"""The report's browser tests render from graphs run in-process (`tests.support.identity`)."""

from __future__ import annotations

import pytest

from tests.support.identity import use_test_thread_key


@pytest.fixture(autouse=True)
def _thread_key() -> None:
    use_test_thread_key()
