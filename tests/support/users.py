"""Acting as a user against a real server, the way a trusted service does.

A service names the user in `X-Auren-User` (the one explicit field through which it
acts for them), and runs go on the user's own thread, whose id the server gives.
"""

from __future__ import annotations

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from auren_contract import USER_HEADER


def sdk_as(url: str, user_id: str, api_key: str) -> LangGraphClient:
    """An SDK client that acts for `user_id` with the service key `api_key`."""
    return get_client(url=url, api_key=api_key, headers={USER_HEADER: user_id})


async def user_thread(url: str, user_id: str, graph: str, api_key: str) -> str:
    """The id of `user_id`'s own thread of `graph` (created by the server if needed)."""
    async with httpx.AsyncClient(
        base_url=url, headers={"x-api-key": api_key, USER_HEADER: user_id}
    ) as http:
        response = await http.put(f"/users/{user_id}/threads/{graph}")
        response.raise_for_status()
        return str(response.json()["thread_id"])
