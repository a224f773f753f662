"""Where the client finds its server, and the limits it works within."""

from __future__ import annotations

import os

DEFAULT_URL = "http://127.0.0.1:2024"
URL_ENV = "AUREN_URL"
API_KEY_ENV = "AUREN_API_KEY"

#: The devices the server understands; anything else is refused before a request is made.
DEVICES = frozenset({"oura", "whoop", "apple_health", "manual"})

#: The graph that ingests device payloads (its name in ``langgraph.json``).
INGESTION_GRAPH = "ingestion"

#: A run's input is checkpointed with the thread's history (and the dev server keeps
#: every run's input in memory for its lifetime), so anything bigger than this goes into
#: the store first, is deleted once ingested, and the run receives only its key.
INLINE_LIMIT = 16 * 1024

#: JSON documents (Oura and WHOOP pages, Health Auto Export, manual entries) are read
#: whole; nothing a vendor API returns per page comes near this.
JSON_FILE_LIMIT = 64 * 1024 * 1024


def resolve_url(url: str | None) -> str:
    """``url=`` wins, then ``AUREN_URL``, then the local ``make dev`` server."""
    return (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def resolve_api_key(api_key: str | None) -> str | None:
    """``api_key=`` wins, then ``AUREN_API_KEY``; ``None`` sends no key at all.

    Deliberately not LangSmith's variables: a LangSmith key is not an AUREN key and
    must not be sent to an AUREN server by accident.
    """
    return api_key or os.environ.get(API_KEY_ENV) or None
