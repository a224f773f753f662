"""What unit tests of the graphs stand in for: the server's identity and AUREN's records
(`tests.support.identity`), and the connections table."""

from __future__ import annotations

import pytest

from tests.support.identity import use_test_thread_key


@pytest.fixture(autouse=True)
def _thread_key() -> None:
    use_test_thread_key()


@pytest.fixture(autouse=True)
def vendor_accounts(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    """The connected vendor account per (user, device), as the connections table holds it."""
    accounts: dict[tuple[str, str], str] = {}

    async def vendor_account_of(user_id: str, vendor: str) -> str | None:
        return accounts.get((user_id, vendor))

    monkeypatch.setattr("auren_graphs.ingestion.nodes.vendor_account_of", vendor_account_of)
    return accounts
