"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, the app over httpx.

Each test gets its own database, cloned from a template migrated once per session
(PostgreSQL: CREATE DATABASE ... TEMPLATE; SQLite: a file copy), so tests never share rows.
With EDGELOOP_REQUIRE_SERVICES=1 (CI) an unreachable PostgreSQL or Redis fails the run
instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from api.rest.app import create_app
from core.services.context import ServiceContext
from core.settings import Settings
from core.store.db import upgrade

REQUIRE_SERVICES = os.environ.get("EDGELOOP_REQUIRE_SERVICES") == "1"
PG_HOST = os.environ.get("EDGELOOP_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("EDGELOOP_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("EDGELOOP_TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("EDGELOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} unreachable ({type(exc).__name__}: {exc})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and EDGELOOP_REQUIRE_SERVICES=1")
    pytest.skip(message)


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


async def pg_admin() -> asyncpg.Connection:
    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="test", timeout=5)


@pytest.fixture(scope="session")
async def pg_template() -> AsyncIterator[str | BaseException]:
    """A migrated PostgreSQL database to clone (or the error that prevented it)."""
    name = f"el_tpl_{os.getpid()}"
    try:
        conn = await pg_admin()
    except (OSError, asyncpg.PostgresError) as exc:
        yield exc
        return
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await upgrade(pg_url(name))
        yield name
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str | BaseException
) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "edgeloop.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    if isinstance(pg_template, BaseException):
        unavailable("PostgreSQL", pg_template)
        return
    async with scratch_pg_database(pg_template) as url:
        yield url


@asynccontextmanager
async def scratch_pg_database(template: str | None = None) -> AsyncIterator[str]:
    """A new PostgreSQL database (a copy of ``template``, or empty) for the block; its URL. Dropped after."""
    name = f"el_t_{uuid.uuid4().hex[:12]}"
    try:
        conn = await pg_admin()
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", exc)
        raise
    try:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        yield pg_url(name)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, redis_url=None)  # type: ignore[arg-type]


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A service context on the test database (for service-level tests)."""
    context = ServiceContext.create(settings)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The REST app, lifespan running, through httpx's ASGI transport."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://edgeloop.test") as http:
            yield http


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A real Redis database for queue tests, emptied before and after."""
    client = Redis.from_url(REDIS_URL)
    try:
        async with asyncio.timeout(5):
            await client.flushdb()
    except (OSError, TimeoutError) as exc:
        await client.aclose()
        unavailable("Redis", exc)
        return
    try:
        yield REDIS_URL
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def admin_key(settings: Settings) -> tuple[str, str]:
    """A stored admin key, made as the CLI makes it: (key id, secret)."""
    from core.services.bots import create_admin_key

    context = ServiceContext.create(settings)
    try:
        created = await create_admin_key(context)
    finally:
        await context.close()
    return created.key_id, created.api_key


@pytest.fixture
async def ctx_keys(settings: Settings) -> list[str]:
    """Two stored admin keys; their ids."""
    from core.services.bots import create_admin_key

    context = ServiceContext.create(settings)
    try:
        return [(await create_admin_key(context)).key_id for _ in range(2)]
    finally:
        await context.close()
