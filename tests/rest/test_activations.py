"""Which version a bot runs (DESIGN.md section 11): reports, history, /health, /v1/status, stale_activation;
params_version on events; expires_at on documents."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from api.rest.app import create_app
from core.settings import Settings
from core.store.db import make_engine
from core.store.models import Signal, Trade
from tests.builders import create_bot, signal, trade
from tests.conftest import ADMIN


async def _history(client: httpx.AsyncClient, headers: dict[str, str], expect: int) -> list[dict[str, object]]:
    """The activation list once it holds ``expect`` rows (header reports are written in the background)."""
    for _ in range(100):
        items: list[dict[str, object]] = (await client.get("/v1/bots/alpha/activations", headers=headers)).json()[
            "items"
        ]
        if len(items) >= expect:
            return items
        await asyncio.sleep(0.02)
    raise AssertionError(f"activation history never reached {expect} rows: {items}")


async def test_post_records_an_activation_and_refuses_versions_not_made(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client, "alpha")
    other = await create_bot(client, "beta")
    done = await client.post("/v1/bots/alpha/activations", json={"version": 1}, headers=bot)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["version"] == 1 and body["first_seen"] == body["last_seen"] and body["key_id"].startswith("k_")
    ahead = await client.post("/v1/bots/alpha/activations", json={"version": 2}, headers=bot)
    assert ahead.status_code == 422 and ahead.json()["code"] == "unknown_version"
    assert (await client.post("/v1/bots/alpha/activations", json={"version": 0}, headers=bot)).status_code == 422
    assert (await client.post("/v1/bots/alpha/activations", json={"version": 1}, headers=other)).status_code == 404
    assert (await client.get("/v1/bots/alpha/activations", headers=other)).status_code == 404
    assert [a["version"] for a in await _history(client, bot, 1)] == [1]


async def test_header_shows_up_in_history_health_and_status_without_a_write_per_poll(
    client: httpx.AsyncClient,
) -> None:
    bot = await create_bot(client, "alpha")
    assert (await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)).status_code == 201
    for _ in range(3):  # the same version reported by repeated polls: one stretch, not three rows
        polled = await client.get("/v1/bots/alpha/params", headers={**bot, "Edgeloop-Active-Version": "1"})
        assert polled.status_code == 200
    first = await _history(client, bot, 1)
    await asyncio.sleep(0.05)
    again = (await client.get("/v1/bots/alpha/activations", headers=bot)).json()["items"]
    assert again == first and first[0]["version"] == 1  # within activation_touch_s nothing is rewritten
    health = (await client.get("/v1/bots/alpha/health", headers=bot)).json()
    assert (health["current_version"], health["active_version"]) == (2, 1)
    assert health["active_last_seen"] == first[0]["last_seen"]

    # The bot picks up version 2: a new stretch, listed first; any request can carry the header.
    await client.get("/v1/bots/alpha/health", headers={**bot, "Edgeloop-Active-Version": "2"})
    history = await _history(client, bot, 2)
    assert [a["version"] for a in history] == [2, 1]
    status = (await client.get("/v1/status", headers=bot)).json()
    assert [(b["current_version"], b["active_version"]) for b in status["bots"]] == [(2, 2)]
    # A garbage header or a version never made changes nothing and does not fail the request.
    for value in ("abc", "99"):
        assert (await client.get("/v1/bots/alpha/params", headers={**bot, "Edgeloop-Active-Version": value})).is_success
    await asyncio.sleep(0.1)
    assert len((await client.get("/v1/bots/alpha/activations", headers=bot)).json()["items"]) == 2


async def test_history_pages_newest_first(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client, "alpha")
    for _ in range(2):
        await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
    for version in (1, 2, 3):
        await client.post("/v1/bots/alpha/activations", json={"version": version}, headers=bot)
    page = (await client.get("/v1/bots/alpha/activations?limit=2", headers=bot)).json()
    rest = (await client.get(f"/v1/bots/alpha/activations?limit=2&cursor={page['next_cursor']}", headers=bot)).json()
    assert [a["version"] for a in page["items"] + rest["items"]] == [3, 2, 1] and rest["next_cursor"] is None


@pytest.fixture
def stale_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stale_activation_s": 0})


async def test_an_old_version_reported_after_a_newer_one_exists_is_stale_activation(stale_settings: Settings) -> None:
    app = create_app(stale_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edgeloop.test") as client,
    ):
        bot = await create_bot(client, "alpha")
        await client.post("/v1/bots/alpha/activations", json={"version": 1}, headers=bot)
        fresh = (await client.get("/v1/bots/alpha/health", headers=bot)).json()
        assert "stale_activation" not in [p["code"] for p in fresh["problems"]]  # v1 is current: not stale
        await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
        await asyncio.sleep(0.01)
        await client.post("/v1/bots/alpha/activations", json={"version": 1}, headers=bot)
        health = (await client.get("/v1/bots/alpha/health", headers=bot)).json()
        problem = next(p for p in health["problems"] if p["code"] == "stale_activation")
        assert problem["detail"]["active_version"] == 1 and problem["detail"]["current_version"] == 2
        assert health["level"] in ("warn", "error")
        await client.post("/v1/bots/alpha/activations", json={"version": 2}, headers=bot)
        healed = (await client.get("/v1/bots/alpha/health", headers=bot)).json()
        assert "stale_activation" not in [p["code"] for p in healed["problems"]]


async def test_params_version_is_stored_and_documents_expire_after_params_ttl(
    client: httpx.AsyncClient, database_url: str
) -> None:
    bot = await create_bot(client, "alpha", config={"params_ttl": "2h"})
    events = [signal(params_version=1), trade(params_version=1), signal()]
    assert (await client.post("/v1/bots/alpha/events", json={"events": events}, headers=bot)).status_code == 200
    bad = await client.post("/v1/bots/alpha/events", json={"events": [signal(params_version=0)]}, headers=bot)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "params_version"
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            signals = (await conn.execute(select(Signal.event_id, Signal.params_version))).all()
            trades = (await conn.execute(select(Trade.params_version))).all()
    finally:
        await engine.dispose()
    assert dict(signals) == {events[0]["event_id"]: 1, events[2]["event_id"]: None} and trades == [(1,)]
    doc = (await client.get("/v1/bots/alpha/params", headers=bot)).json()
    ttl = datetime.fromisoformat(doc["expires_at"]) - datetime.fromisoformat(doc["created_at"])
    assert ttl.total_seconds() == 7200


async def test_concurrent_reports_of_one_key_extend_one_stretch(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client, "alpha")
    header = {**bot, "Edgeloop-Active-Version": "1"}
    calls = [client.post("/v1/bots/alpha/activations", json={"version": 1}, headers=bot) for _ in range(4)]
    calls += [client.get("/v1/bots/alpha/params", headers=header) for _ in range(4)]
    assert all(r.is_success for r in await asyncio.gather(*calls))
    await asyncio.sleep(0.1)  # the header's background write
    assert [a["version"] for a in (await client.get("/v1/bots/alpha/activations", headers=bot)).json()["items"]] == [1]
