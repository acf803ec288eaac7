"""healthz, readyz, metrics, status, and refusing an unmigrated database."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.rest.app import create_app
from core.errors import EdgeloopError
from core.settings import Settings
from tests.builders import create_bot, mixed_batch, signal
from tests.conftest import ADMIN, PG_HOST, PG_PORT, PG_USER


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"] == {"database": "ok"}


async def test_readyz_is_503_naming_the_database_when_it_goes_away(
    client: httpx.AsyncClient, database_url: str
) -> None:
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        path.unlink()
        path.mkdir()  # the file is now a directory: SQLite cannot open it
        await ctx.engine.dispose()  # drop pooled connections to the old file
    else:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="test")
        await conn.execute(f'DROP DATABASE "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        await conn.close()
    response = await client.get("/readyz")
    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "dependency_unavailable" and "database" in problem["detail"]
    if database_url.startswith("sqlite"):
        shutil.rmtree(Path(database_url.split("///", 1)[1]))


async def test_readyz_names_redis_when_it_is_configured_and_down(database_url: str) -> None:
    settings = Settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/readyz")
    assert response.status_code == 503 and "redis" in response.json()["detail"]


async def test_metrics_count_requests_and_events(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    await client.post("/v1/bots/alpha/events", json={"events": mixed_batch(6)}, headers=headers)
    await client.post("/v1/bots/alpha/events", json={"events": [signal(price=-1.0)]}, headers=headers)
    text = (await client.get("/metrics")).text
    assert 'edgeloop_http_requests_total{method="POST",route="/v1/bots/{bot}/events",status="200"}' in text
    assert (
        'edgeloop_http_request_duration_seconds_bucket{le="0.001",method="POST",route="/v1/bots/{bot}/events"}' in text
    )
    assert 'edgeloop_events_ingested_total{type="signal"}' in text
    assert 'edgeloop_events_rejected_total{code="invalid_events"}' in text


async def test_status_counts_events_per_bot(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    await client.post("/v1/bots/alpha/events", json={"events": mixed_batch(9)}, headers=headers)
    status = (await client.get("/v1/status", headers=ADMIN)).json()
    assert status["queue"] == "embedded" and status["uptime_s"] >= 0
    [bot] = status["bots"]
    assert bot["id"] == "alpha" and bot["events"] == {"signals": 3, "trades": 3, "prices": 3}


async def test_unmigrated_database_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(EdgeloopError) as info:
        async with app.router.lifespan_context(app):
            pass
    assert info.value.code == "database_not_migrated"
    assert "run `edgeloop migrate`" in info.value.detail and "\n" not in info.value.detail


async def test_problem_json_for_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nowhere")
    assert response.status_code == 404 and response.json()["code"] == "route_not_found"
    response = await client.delete("/healthz")
    assert response.status_code == 405 and response.headers["content-type"] == "application/problem+json"
