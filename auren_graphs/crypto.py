"""Secrets at rest: authenticated encryption with keys that rotate.

`AUREN_ENCRYPTION_KEYS` holds comma-separated url-safe base64 32-byte keys, newest first
(`Fernet.generate_key()` makes one). The first encrypts; every one decrypts, so a key
is rotated by putting a new one in front and, once everything was re-encrypted
(`rotate`), dropping the old one. Fernet is AES-128-CBC with an HMAC-SHA256 over it, so
a changed or truncated value is refused, never decrypted into garbage.

Without keys, `make dev` (auth not required) generates one under AUREN_DATA_DIR
(`encryption.key`, mode 0600); a server with AUREN_AUTH_MODE=required refuses to start.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from auren_graphs.settings import Settings, get_settings

DEV_KEY_FILE = "encryption.key"


class ConfigurationError(RuntimeError):
    """The server is configured in a way it must not start with."""


class SecretUnreadableError(Exception):
    """A stored secret did not decrypt with any configured key (or was tampered with)."""


def configured_keys(settings: Settings) -> list[str]:
    raw = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def check_configured(settings: Settings) -> None:
    """Refuse to run with auth required and no encryption keys, or with malformed keys."""
    keys = configured_keys(settings)
    if not keys and settings.auth_mode == "required":
        raise ConfigurationError(
            "AUREN_AUTH_MODE=required needs AUREN_ENCRYPTION_KEYS (make one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"AUREN_ENCRYPTION_KEYS key {position} is not a url-safe base64 32-byte key"
            ) from None


def _dev_key(data_dir: Path) -> str:
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        # O_EXCL: two processes starting at once keep the first key written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
    return path.read_text().strip()


class SecretBox:
    """Encrypts and decrypts JSON-ready values with the configured keys."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def open(self, token: str, *, max_age: float | None = None) -> Any:
        """The value sealed in `token`; with `max_age`, refused when older (seconds)."""
        try:
            raw = self._fernet.decrypt(
                token.encode(), ttl=None if max_age is None else int(max_age)
            )
        except InvalidToken:
            raise SecretUnreadableError(
                "a stored secret could not be decrypted with any of AUREN_ENCRYPTION_KEYS "
                "(was a key dropped before rotation, or the value changed?)"
            ) from None
        return json.loads(raw)

    def rotate(self, token: str) -> str:
        """`token` re-encrypted with the newest key."""
        return self._fernet.rotate(token.encode()).decode()


@lru_cache(maxsize=1)
def secret_box() -> SecretBox:
    settings = get_settings()
    check_configured(settings)
    keys = configured_keys(settings) or [_dev_key(settings.data_dir)]
    return SecretBox(keys)
