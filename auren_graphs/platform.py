"""The LangGraph server's own API, called from inside it (no network, no URL).

Loopback requests bypass the server's auth entirely: they carry no identity, and a run
they create is a *system* run (`auren_graphs.identity`). Only AUREN's own server code
makes them, and it checks every owner itself before it touches a user's thread.
"""

from __future__ import annotations

import functools

from langgraph.store.base import BaseStore
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient


@functools.cache
def loopback() -> LangGraphClient:
    # api_key=None (not omitted): never pick up a key from the environment and send it.
    return get_client(api_key=None)


async def server_store() -> BaseStore:
    """The store the server's graphs use (langgraph.json `store`), for AUREN's routes.

    Not `langgraph.config.get_store()`: inside a custom route that is the dev runtime's
    own in-memory store, not the configured one (found on langgraph-api 0.16). This is
    what the server's own `/store/...` routes use.
    """
    from langgraph_api.store import get_store

    store: BaseStore = await get_store()
    return store
