"""unavailable_error: real failures of a real database are outages; bugs are not."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.errors import ErrorKind
from core.store.db import make_engine, unavailable_error
from tests.outage import REFUSED_URL


async def _failure(url: str, sql: str = "SELECT 1") -> BaseException:
    engine = make_engine(url)
    try:
        with pytest.raises(Exception) as caught:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        return caught.value
    finally:
        await engine.dispose()


async def test_a_refused_connection_is_an_outage() -> None:
    error = unavailable_error(await _failure(REFUSED_URL))
    assert error is not None and (error.kind, error.code) == (ErrorKind.UNAVAILABLE, "database_unavailable")


async def test_a_server_that_never_answers_is_an_outage_within_the_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the connection, never says a word
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test", connect_timeout_s=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            async with engine.connect():
                pass
        waited = time.monotonic() - started
    finally:
        await engine.dispose()
        server.close()
        await server.wait_closed()
    assert 0.4 < waited < 5
    error = unavailable_error(caught.value)
    assert error is not None and error.code == "database_unavailable"


async def test_a_database_file_that_cannot_be_opened_is_an_outage(tmp_path: Path) -> None:
    failure = await _failure(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/edgeloop.db")
    assert isinstance(failure, sa_exc.DBAPIError) and failure.connection_invalidated  # flagged by make_engine
    assert unavailable_error(failure) is not None


def test_a_busy_sqlite_database_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            sqlite3.connect(path, timeout=0).execute("SELECT 1 FROM sqlite_master")
    finally:
        holder.close()
    assert unavailable_error(caught.value) is not None


async def test_a_pool_with_no_free_connection_is_an_outage(tmp_path: Path) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/pool.db", pool_size=1, max_overflow=0, pool_timeout=0.05
    )
    try:
        async with engine.connect():
            with pytest.raises(sa_exc.TimeoutError) as caught:
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
    assert unavailable_error(caught.value) is not None


async def test_a_bad_statement_is_not_an_outage(tmp_path: Path) -> None:
    failure = await _failure(f"sqlite+aiosqlite:///{tmp_path}/ok.db", "SELECT * FROM no_such_table")
    assert isinstance(failure, sa_exc.OperationalError)
    assert unavailable_error(failure) is None
    assert unavailable_error(ValueError("not a database error")) is None
