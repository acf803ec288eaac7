"""Engine, sessions and the migration check."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.errors import EdgeloopError, ErrorKind

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(url: str, connect_timeout_s: float = 10.0) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout so API and jobs can share a file;
    PostgreSQL gives up opening a connection after ``connect_timeout_s`` (asyncpg's own default is 60 s,
    so a database host that silently drops packets would hold every request that long).

    A failure to open a connection is flagged like a dropped one (``connection_invalidated``), so
    :func:`unavailable_error` recognises both.
    """
    engine = _make_engine(url, connect_timeout_s)
    event.listen(engine.sync_engine, "handle_error", _flag_connect_failure)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_query)
    return engine


DB_QUERIES = Counter("edgeloop_db_queries_total", "SQL statements sent to the database by this process.")


def _count_query(*_: object) -> None:
    DB_QUERIES.inc()


def _make_engine(url: str, connect_timeout_s: float) -> AsyncEngine:
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
    return create_async_engine(
        url,
        pool_size=20,
        max_overflow=10,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        connect_args={"timeout": connect_timeout_s},
    )


def _flag_connect_failure(context: ExceptionContext) -> None:
    # SQLAlchemy reports no connection only when connecting failed (refused login, database gone
    # or not accepting connections, too many clients); a failed pre-ping must keep its own verdict,
    # since the pool reconnects on a disconnect and raises otherwise.
    if context.connection is None and not context.is_pre_ping:
        context.is_disconnect = True


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


async def upgrade(url: str, revision: str = "head", *, down: bool = False) -> None:
    """``alembic upgrade head`` on ``url`` (async engines run the sync migration in a greenlet); or
    ``alembic upgrade/downgrade revision``."""
    from alembic import command

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:

            def _run(sync_conn: Connection) -> None:
                cfg = alembic_config(url)
                cfg.attributes["connection"] = sync_conn
                (command.downgrade if down else command.upgrade)(cfg, revision)

            await conn.run_sync(_run)
    finally:
        await engine.dispose()


# Every "database unavailable" failure is one of these (or wraps one): adapters catch them and ask
# unavailable_error. OSError covers the driver's own socket errors (refused, reset, DNS, timeouts),
# which SQLAlchemy passes through unwrapped when a connection cannot be opened.
DATABASE_FAILURES: tuple[type[Exception], ...] = (sa_exc.SQLAlchemyError, OSError)

# SQLite's "cannot serve now" results (primary codes; extended codes carry them in the low byte).
_SQLITE_UNAVAILABLE = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR}
)


def unavailable_error(exc: BaseException) -> EdgeloopError | None:
    """``exc`` as the error a client sees when the database cannot be reached, else None.

    Recognised anywhere in the ``raise ... from`` chain: a connection that dropped or could not be
    opened (SQLAlchemy's ``connection_invalidated``, see :func:`make_engine`), a socket error or
    timeout on the way to the server, the pool timing out waiting for a free connection, and SQLite
    being busy, locked, unable to open its file or failing I/O. Anything else (bad SQL, constraints)
    stays a bug and yields None.
    """
    if any(_is_outage(link) for link in _cause_chain(exc)):
        return EdgeloopError(
            ErrorKind.UNAVAILABLE,
            "database_unavailable",
            "Database unavailable",
            "The database is unavailable; retry later.",
        )
    return None


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated
    if isinstance(exc, sqlite3.Error):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_UNAVAILABLE
    return isinstance(exc, (sa_exc.TimeoutError, OSError))


def _cause_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__


# PostgreSQL's "try the transaction again" results: a deadlock broken by aborting this transaction, and
# a serialization failure. The work is sound; running it again (a bounded number of times) succeeds.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def retryable_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (anywhere in its chain) is a deadlock or serialization failure worth retrying."""
    for link in _cause_chain(exc):
        for candidate in (link, getattr(link, "orig", None)):
            if getattr(candidate, "sqlstate", None) in RETRYABLE_SQLSTATES:
                return True
    return False
