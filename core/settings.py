"""The one settings class. Every field comes from an ``EDGELOOP_``-prefixed environment variable."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDGELOOP_", extra="ignore")

    database_url: str = Field(
        "sqlite+aiosqlite:///./edgeloop.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db.",
    )
    redis_url: str | None = Field(
        None, description="redis://host:port/db. Set: jobs go to arq workers. Unset: jobs run in-process."
    )
    admin_token: SecretStr | None = Field(None, description="Accepted as an admin API key when set.")
    host: str = Field("127.0.0.1", description="Bind address of the REST API.")
    port: int = Field(8000, ge=0, le=65535, description="Port of the REST API.")
    grpc_host: str = Field("127.0.0.1", description="Bind address of the gRPC server.")
    grpc_port: int = Field(50051, ge=0, le=65535, description="Port of the gRPC server.")
    max_batch_events: int = Field(10_000, ge=1, description="Most events accepted in one ingest request (else 413).")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="Largest ingest body in bytes (else 413).")
    params_cache_ttl_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="Seconds a bot's current version is trusted before the DB is asked again, while no notification "
        "channel is up (SQLite, or PostgreSQL's channel down); with it, new versions are pushed.",
    )
    auth_cache_ttl_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="Seconds a verified API key is trusted before the DB is asked again, while no notification "
        "channel is up (SQLite, or PostgreSQL's channel down); with it, revocations are pushed.",
    )
    max_wait_s: int = Field(60, ge=0, le=600, description="Longest ?wait= long-poll, in seconds.")
    metrics_public: bool = Field(True, description="Serve /metrics without a key; false requires an admin key.")
    worker_stale_s: int = Field(300, ge=10, description="A worker heartbeat older than this raises `worker_missing`.")
    cycle_lease_s: int = Field(
        900, ge=10, description="A running cycle whose worker stops renewing its lease this long is recovered."
    )
    database_connect_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="PostgreSQL: seconds to wait for a new connection before answering 503 database_unavailable.",
    )
    keep_freed_memory_mb: int = Field(
        2047,
        ge=0,
        le=2047,
        description="Processes that run cycles keep up to this much freed memory (MiB) for the next arrays "
        "instead of returning it to the OS (glibc); 0 keeps the allocator's defaults. See workers/allocator.py.",
    )
    retention_every_s: int = Field(
        3600,
        ge=60,
        le=7 * 86400,
        description="Seconds between retention runs (each bot's raw events older than its `retention` are "
        "removed); `retention_overdue` is raised when expired events outlive two of these.",
    )
    archive_dir: str | None = Field(
        None,
        description="Directory for Parquet archives of expiring events (per bot, table and period, with a "
        "manifest). Set: nothing is removed before its archive is written and verified. Unset: no archives.",
    )
    stale_activation_s: int = Field(
        3600,
        ge=0,
        description="A bot still reporting an older param version this many seconds after a newer one was made "
        "raises `stale_activation`.",
    )
    activation_touch_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="A repeated `Edgeloop-Active-Version` report of the same version updates `last_seen` at most "
        "this often per process and key (so `last_seen` is that precise); a new version is recorded at once.",
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="`edgeloop worker` serves its own /metrics (cycles, durations, queries) on this port "
        "(on EDGELOOP_HOST); unset: none.",
    )
    notify_recheck_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="PostgreSQL: while the notification channel is up, cached versions and keys are trusted until "
        "notified and re-checked in one sweep this often.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of every process: debug, info, warning, error."
    )
    log_format: Literal["text", "json"] = Field("text", description="Log lines as text, or one JSON object per line.")

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("EDGELOOP_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def queue_backend(self) -> str:
        """``arq`` when Redis is configured, else ``embedded``."""
        return "arq" if self.redis_url else "embedded"
