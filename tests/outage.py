"""Take a test's PostgreSQL database away and give it back, as a real outage would (no mocks).

``ALLOW_CONNECTIONS false`` refuses new logins and ``pg_terminate_backend`` drops the open
connections, so the app's pool meets the real failures: a dead pooled connection, then a refused
login. Only the test's own database is touched, on the loopback server of tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.conftest import pg_admin

# Runs a test on the PostgreSQL branch of the `database_url` fixture only (skip/fail rules unchanged).
PG_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
# Nothing listens on port 1 of the loopback: connecting there is refused at once.
REFUSED_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/edgeloop"
UNAVAILABLE_DETAIL = "The database is unavailable; retry later."


@asynccontextmanager
async def outage(database_url: str) -> AsyncIterator[None]:
    """The database refuses every connection inside the block and accepts them again after it."""
    name = database_url.rsplit("/", 1)[1]
    admin = await pg_admin()
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        # With a timeout (ms), pg_terminate_backend waits until the backend is gone (PostgreSQL 14+).
        await admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1",
            name,
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
