"""Where the client finds its server, and the limits it works within."""

from __future__ import annotations

import os

from auren_contract import dev_server_url

DEFAULT_URL = "http://127.0.0.1:2024"
URL_ENV = "AUREN_URL"
API_KEY_ENV = "AUREN_API_KEY"

#: JSON documents (Oura and WHOOP pages, Health Auto Export, manual entries) are read
#: whole; nothing a vendor API returns per page comes near this.
JSON_FILE_LIMIT = 64 * 1024 * 1024


def resolve_url(url: str | None) -> str:
    """``url=`` wins, then ``AUREN_URL``, then the ``make dev`` serving from this
    directory, then ``make dev``'s own port. A URL without its scheme is refused here,
    saying so (rather than failing later as "no server")."""
    resolved = (url or os.environ.get(URL_ENV) or dev_server_url() or DEFAULT_URL).strip()
    resolved = resolved.rstrip("/")
    scheme, _, rest = resolved.partition("://")
    if not rest or scheme not in ("http", "https"):
        raise ValueError(
            f"the server URL {resolved!r} has no http:// or https://; write it in full, "
            f"e.g. http://{rest or resolved} (url=, --url or {URL_ENV})"
        )
    return resolved


def resolve_api_key(api_key: str | None) -> str | None:
    """``api_key=`` wins, then ``AUREN_API_KEY``; ``None`` sends no key at all.

    Deliberately not LangSmith's variables: a LangSmith key is not an AUREN key and
    must not be sent to an AUREN server by accident.
    """
    return api_key or os.environ.get(API_KEY_ENV) or None
