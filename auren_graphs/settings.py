"""Server-side settings, read once from the environment (prefix `AUREN_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """How the AUREN graphs reach their persistence."""

    model_config = SettingsConfigDict(env_prefix="AUREN_", extra="ignore")

    postgres_uri: str | None = Field(
        default=None,
        description="Postgres for checkpoints and the store; unset starts an embedded one.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / ".auren",
        description="Where the embedded Postgres keeps its data (git-ignored).",
    )
    pool_max_size: int = Field(default=8, description="Connections per pool.")
    model_breaker_threshold: int = Field(
        default=3, ge=1, description="Consecutive model failures that open the circuit breaker."
    )
    model_breaker_reset_seconds: float = Field(
        default=30.0, gt=0, description="How long an open breaker keeps the model out."
    )
    openai_api_key: str | None = Field(
        default=None,
        validation_alias="OPENAI_API_KEY",
        description="Enables the model narrative; without it a deterministic writer is used.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="OpenAI-compatible endpoint (a proxy, a gateway, or a test stand-in).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
