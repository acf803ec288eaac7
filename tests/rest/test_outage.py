"""A database that becomes unreachable answers 503 problem+json with Retry-After, and recovers by itself."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import httpx
import pytest

from api.rest.app import create_app
from core.services.context import ServiceContext
from core.settings import Settings
from tests.builders import create_bot, signal
from tests.conftest import ADMIN, ADMIN_TOKEN
from tests.outage import PG_ONLY, REFUSED_URL, UNAVAILABLE_DETAIL, outage

PROBLEM = {
    "type": "https://edgeloop.dev/problems/database_unavailable",
    "title": "Database unavailable",
    "status": 503,
    "detail": UNAVAILABLE_DETAIL,
    "code": "database_unavailable",
}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json() == PROBLEM


def edgeloop_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("edgeloop")]


@PG_ONLY
async def test_a_database_that_goes_away_answers_503_until_it_comes_back(
    client: httpx.AsyncClient, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await create_bot(client, "alpha")
    async with outage(database_url):
        caplog.clear()
        assert_unavailable(await client.get("/v1/bots", headers=ADMIN))
        [record] = edgeloop_records(caplog)  # logged once, server-side, with the exception
        assert record.levelno == logging.WARNING and "database unavailable" in record.getMessage()
        assert record.exc_info is not None
        # A bot key is looked up in the database: authentication fails the same way.
        assert_unavailable(await client.post("/v1/bots/alpha/events", json={"events": [signal()]}, headers=bot))
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
        assert ready.json()["code"] == "dependency_unavailable" and "database" in ready.json()["detail"]
    # Back without a restart: the pool reconnects.
    listed = await client.get("/v1/bots", headers=ADMIN)
    assert listed.status_code == 200 and [b["id"] for b in listed.json()["items"]] == ["alpha"]
    assert (await client.post("/v1/bots/alpha/events", json={"events": [signal()]}, headers=bot)).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


async def test_a_refused_connection_answers_503() -> None:
    ctx = ServiceContext.create(Settings(database_url=REFUSED_URL, admin_token=ADMIN_TOKEN, redis_url=None))  # type: ignore[arg-type]
    app = create_app(ctx=ctx)
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            assert_unavailable(await http.get("/v1/bots/alpha", headers=ADMIN))
    finally:
        await ctx.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_database_error_that_is_not_an_outage_stays_a_500(settings: Settings, database_url: str) -> None:
    # SQLite reports a missing table as an OperationalError too; that is a bug, not a reason to retry.
    with sqlite3.connect(Path(database_url.split("///", 1)[1])) as db:
        db.execute("DROP TABLE api_keys")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post("/v1/bots", json={"id": "alpha"}, headers=ADMIN)
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert "retry-after" not in response.headers
