"""Engine, sessions and the migration check."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.errors import EdgeloopError, ErrorKind

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout so API and jobs can share a file."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, json_serializer=_json_dumps)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True, json_serializer=_json_dumps)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def _read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_read)


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to serve a database that is behind the code's migrations."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise EdgeloopError(
            ErrorKind.UNAVAILABLE,
            "database_not_migrated",
            "Database not migrated",
            f"database is at revision {current or 'none'}, code expects {head}; run `edgeloop migrate`",
        )


async def upgrade(url: str) -> None:
    """``alembic upgrade head`` on ``url`` (async engines run the sync migration in a greenlet)."""
    from alembic import command

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:

            def _run(sync_conn: Connection) -> None:
                cfg = alembic_config(url)
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, "head")

            await conn.run_sync(_run)
    finally:
        await engine.dispose()
