"""Server-side settings, read once from the environment (prefix `AUREN_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    db_wait_seconds: float = Field(
        default=1.0, gt=0, description="How long one call waits for a Postgres connection."
    )
    db_outage_seconds: float = Field(
        default=20.0,
        ge=0,
        description="How long checkpoint and store calls retry through a Postgres outage "
        "before the run fails with DatabaseUnavailableError (503 to clients).",
    )
    ingest_workers: int = Field(
        default=1,
        ge=0,
        le=8,
        description="Processes that read staged uploads (export chunks) beside the server's "
        "event loop; 0 reads them in a thread of the server.",
    )
    model_breaker_threshold: int = Field(
        default=3, ge=1, description="Consecutive model failures that open the circuit breaker."
    )
    model_breaker_reset_seconds: float = Field(
        default=30.0, gt=0, description="How long an open breaker keeps the model out."
    )
    # auth
    service_api_keys: str = Field(
        default="",
        repr=False,
        description="Comma-separated API keys of trusted services (sent as x-api-key).",
    )
    jwt_secret: str | None = Field(
        default=None, repr=False, description="HS256 secret of end-user tokens (JWT, sub=user)."
    )
    auth_mode: Literal["auto", "required", "open"] = Field(
        default="auto",
        description="auto: enforce when keys or a JWT secret are set, open otherwise (dev only).",
    )
    jwt_issuer: str | None = Field(
        default=None, description="When set, a user token's `iss` must equal it."
    )
    jwt_audience: str | None = Field(
        default=None, description="When set, a user token's `aud` must include it."
    )
    jwt_max_lifetime_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="Longest a user token may live (exp - iat, or exp - now without iat).",
    )
    jwt_max_bytes: int = Field(
        default=8192, ge=256, description="Longest user token accepted, in bytes."
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated url-safe base64 32-byte keys (Fernet), newest first: the "
        "first encrypts, every one decrypts. Unset: `make dev` generates one under "
        "AUREN_DATA_DIR; with AUREN_AUTH_MODE=required the server refuses to start.",
    )
    max_crons_per_user: int = Field(
        default=5, ge=0, le=1000, description="Crons one user may own at a time."
    )
    request_body_seconds: float = Field(
        default=15.0,
        gt=0,
        description="Deadline for receiving a request body on AUREN's own routes (408 after).",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="Largest total size of a request's headers AUREN's layer accepts (431).",
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
    # vendors: OAuth apps, where vendors and browsers reach this deployment
    whoop_client_id: str | None = Field(
        default=None, validation_alias="WHOOP_CLIENT_ID", description="WHOOP app client id."
    )
    oura_client_id: str | None = Field(
        default=None, validation_alias="OURA_CLIENT_ID", description="Oura app client id."
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL at which vendors and browsers reach this deployment: OAuth "
        "redirect URIs and webhook callback URLs are built from it.",
    )
    connect_return_origins: str = Field(
        default="",
        description="Comma-separated origins (scheme://host[:port]) a connect flow may send "
        "the browser back to (`return_to`); AUREN_PUBLIC_URL's origin always may.",
    )
    whoop_oauth_url: str = Field(
        default="https://api.prod.whoop.com/oauth/oauth2",
        description="WHOOP OAuth base URL (/auth and /token under it).",
    )
    oura_oauth_url: str = Field(
        default="https://cloud.ouraring.com/oauth",
        description="Oura OAuth base URL (/authorize under it).",
    )
    oura_token_url: str = Field(
        default="https://api.ouraring.com/oauth/token", description="Oura token endpoint."
    )
    oura_revoke_url: str = Field(
        default="https://api.ouraring.com/oauth/revoke", description="Oura revocation endpoint."
    )
    oauth_pkce_vendors: str = Field(
        default="",
        description="Comma-separated vendors whose OAuth takes PKCE (S256); neither WHOOP's "
        "nor Oura's documentation lists it today.",
    )
    connect_state_seconds: float = Field(
        default=600.0, gt=0, description="How long a connect flow's state stays valid."
    )
    token_refresh_margin_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Refresh an access token this long before it expires.",
    )
    backfill_days: int = Field(
        default=30, ge=1, le=3650, description="Days of history a backfill fetches by default."
    )
    backfill_page_limit: int = Field(
        default=25, ge=1, le=100, description="Records asked for per vendor page (WHOOP: max 25)."
    )
    webhook_event_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="Processed webhook events older than this are pruned by the background job.",
    )
    background_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the background job renews subscriptions and prunes events.",
    )
    rollout_ticker_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often the rollout ticker reads the active rollouts (each one is "
        "looked at every `tick_seconds` of its own).",
    )
    # webhooks
    whoop_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias="WHOOP_CLIENT_SECRET",
        description="WHOOP app client secret: the key of X-WHOOP-Signature.",
    )
    oura_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias="OURA_CLIENT_SECRET",
        description="Oura app client secret: the key of x-oura-signature.",
    )
    oura_verification_token: SecretStr | None = Field(
        default=None, description="Token Oura sends with a subscription's verification challenge."
    )
    whoop_api_url: str = Field(
        default="https://api.prod.whoop.com/developer", description="WHOOP API base URL."
    )
    oura_api_url: str = Field(default="https://api.ouraring.com", description="Oura API base URL.")
    database_uri: str | None = Field(
        default=None,
        validation_alias="DATABASE_URI",
        description="The platform's own Postgres (docker deploy): holds the webhook events when "
        "AUREN_POSTGRES_URI is unset.",
    )
    langgraph_store: str | None = Field(
        default=None,
        validation_alias="LANGGRAPH_STORE",
        description="The server's store config (set by the server from langgraph.json).",
    )
    webhook_replay_window_seconds: float = Field(
        default=300.0, gt=0, description="Signed timestamps further than this from now are refused."
    )
    webhook_max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="Largest vendor notification body (WHOOP, Oura)."
    )
    push_max_body_bytes: int = Field(
        default=16 << 20, ge=1024, description="Largest pushed document (Apple Health, manual)."
    )
    webhook_owner_cache_seconds: float = Field(
        default=10.0, ge=0, description="How long a vendor account's owner is remembered."
    )
    webhook_workers: int = Field(
        default=4, ge=1, le=64, description="Events processed at once by this server process."
    )
    webhook_batch_size: int = Field(
        default=50, ge=1, le=500, description="Events of one user ingested in one run, at most."
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the worker looks for events that became due."
    )
    webhook_max_attempts: int = Field(
        default=10, ge=1, description="Processing attempts before an event is marked failed."
    )
    webhook_retry_base_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles with each attempt."
    )
    webhook_retry_max_seconds: float = Field(
        default=900.0, gt=0, description="Longest delay between two attempts."
    )
    webhook_process_timeout_seconds: float = Field(
        default=300.0, gt=0, description="Bound on one attempt (vendor fetch and ingestion run)."
    )
    vendor_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one vendor API request."
    )
    vendor_retries: int = Field(
        default=2, ge=0, description="Quick retries of a vendor request (connection, 5xx, 429)."
    )
    vendor_breaker_threshold: int = Field(
        default=5, ge=1, description="Consecutive vendor failures that open its circuit breaker."
    )
    vendor_breaker_reset_seconds: float = Field(
        default=30.0, gt=0, description="How long an open vendor breaker defers calls."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def service_keys(settings: Settings) -> list[str]:
    return [key.strip() for key in settings.service_api_keys.split(",") if key.strip()]
