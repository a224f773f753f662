"""The browser tests: one headless Chromium per module; reports rendered from graphs run
in-process (`tests.support.identity`) or fetched from a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from tests.support.browser import chromium
from tests.support.identity import use_test_thread_key


@pytest.fixture(autouse=True)
def _thread_key() -> None:
    use_test_thread_key()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched
