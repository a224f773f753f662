"""What the harness's servers are started with, and the key its own clients send.

Constants only; nothing here changes the environment when imported. `use_service_key`
is called explicitly: by the suite's session fixture (`tests/conftest.py`) and by the
`reliability` runner's `main`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import jwt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SERVICE_KEY = "test-service-key-6b1f"
JWT_SECRET = "test-jwt-secret-0c7d9e"
ENCRYPTION_KEY = "n6YH2m3c3Yk9fB8S5z3H0yq1Q6wq5m2x9Jb8c7v6d5s="  # a test key, never a real one
#: Servers the harness starts enforce auth with these.
AUTH_ENV = {
    "AUREN_SERVICE_API_KEYS": f"{SERVICE_KEY},second-key",
    "AUREN_JWT_SECRET": JWT_SECRET,
    "AUREN_ENCRYPTION_KEYS": ENCRYPTION_KEY,
}
#: The variables by which this process's clients (auren_client, auren_ops and raw
#: langgraph_sdk) send the service key by default; tests of users pass tokens.
CLIENT_KEY_ENV = {"AUREN_API_KEY": SERVICE_KEY, "LANGGRAPH_API_KEY": SERVICE_KEY}


def use_service_key() -> None:
    """Make this process's clients send the service key (scripts; pytest uses a fixture)."""
    os.environ.update(CLIENT_KEY_ENV)


def user_token(sub: Any, *, ttl: float = 600, secret: str = JWT_SECRET, **claims: Any) -> str:
    """A user's token as AUREN's issuer would sign it (HS256, `sub`, `exp`)."""
    payload = {"sub": sub, "exp": int(time.time() + ttl), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")
