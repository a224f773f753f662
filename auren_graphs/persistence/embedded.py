"""An embedded Postgres for `langgraph dev` when no AUREN_POSTGRES_URI is given.

pgserver ships Postgres binaries as a wheel, so a fresh machine needs nothing but pip.
The server is left running when this process dies (even by SIGKILL) and is picked up
again by the next start, so acknowledged data survives a killed API process.
"""

from __future__ import annotations

import threading
from pathlib import Path

_lock = threading.Lock()
_uris: dict[Path, str] = {}


def embedded_uri(data_dir: Path) -> str:
    """Start (or reuse) the embedded Postgres in `data_dir / "pgdata"`; return its URI."""
    pgdata = (data_dir / "pgdata").resolve()
    with _lock:
        if pgdata not in _uris:
            from pgserver import postgres_server  # lazily: only the embedded mode needs it

            pgdata.mkdir(parents=True, exist_ok=True)
            # cleanup_mode=None: stopping Postgres on exit would make every API
            # restart pay for a Postgres restart and its crash recovery.
            server = postgres_server.get_server(pgdata, cleanup_mode=None)
            _uris[pgdata] = str(server.get_uri())
        return _uris[pgdata]
