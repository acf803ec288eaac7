"""Bots, config patches and key rotation."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import create_bot, price
from tests.conftest import ADMIN


async def test_create_bot_returns_key_and_default_config(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/bots", json={"id": "alpha", "name": "Alpha"}, headers=ADMIN)
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "alpha" and body["name"] == "Alpha" and body["api_key"].startswith("elk_")
    assert body["config"]["min_outcomes"] == 50 and body["config"]["horizons"] == ["1m", "5m", "15m", "30m", "1h"]
    assert body["config"]["schedule"] == {
        "enabled": True,
        "resolve_every": "10m",
        "continuous_every": "12h",
        "comprehensive_at": "07:00",
    }


async def test_duplicate_bot_id_is_409(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    response = await client.post("/v1/bots", json={"id": "alpha"}, headers=ADMIN)
    assert response.status_code == 409 and response.json()["code"] == "bot_exists"


@pytest.mark.parametrize("bot_id", ["Alpha", "-x", "", "a" * 64, "a b", "a/b"])
async def test_bad_bot_id_is_422(client: httpx.AsyncClient, bot_id: str) -> None:
    response = await client.post("/v1/bots", json={"id": bot_id}, headers=ADMIN)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == "id"


async def test_bot_created_with_config_uses_it_for_version_1(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client, config={"conviction_buckets": [0, 0.5, 1.0]})
    doc = (await client.get("/v1/bots/alpha/params", headers=headers)).json()
    assert [b["max_conviction"] for b in doc["sizing"]["buckets"]] == [0.5, 1.0]


async def test_config_merge_patch(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    response = await client.patch(
        "/v1/bots/alpha/config",
        json={"min_t": 2.5, "schedule": {"continuous_every": "6h"}},
        headers={**ADMIN, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    config = response.json()
    assert config["min_t"] == 2.5
    assert config["schedule"]["continuous_every"] == "6h" and config["schedule"]["resolve_every"] == "10m"
    # null removes the field: it returns to its default
    reset = await client.patch("/v1/bots/alpha/config", json={"min_t": None}, headers=ADMIN)
    assert reset.json()["min_t"] == 3.0


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"min_t": -1}, "config.min_t"),
        ({"max_step": "big"}, "config.max_step"),
        ({"horizons": ["5x"]}, "config.horizons.0"),
        ({"schedule": {"comprehensive_at": "25:00"}}, "config.schedule.comprehensive_at"),
        ({"weight_bounds": [2, 1]}, "config.weight_bounds"),
        ({"typo_field": 1}, "config.typo_field"),
    ],
)
async def test_bad_config_is_422_naming_the_field(client: httpx.AsyncClient, patch: dict, loc: str) -> None:
    await create_bot(client)
    response = await client.patch("/v1/bots/alpha/config", json=patch, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_config"
    assert loc in [e["loc"] for e in response.json()["errors"]]
    unchanged = (await client.get("/v1/bots/alpha", headers=ADMIN)).json()["config"]
    assert unchanged["min_t"] == 3.0


async def test_key_rotation_and_revocation(client: httpx.AsyncClient) -> None:
    old = await create_bot(client)
    created = await client.post("/v1/bots/alpha/keys", headers=ADMIN)
    assert created.status_code == 201
    new = {"Authorization": f"Bearer {created.json()['api_key']}"}
    assert (await client.get("/v1/bots/alpha/params", headers=new)).status_code == 200
    old_id = (await client.get("/v1/bots/alpha", headers=old)).status_code
    assert old_id == 200
    revoke = await client.delete(f"/v1/bots/alpha/keys/{created.json()['key_id']}", headers=ADMIN)
    assert revoke.status_code == 204
    assert (await client.get("/v1/bots/alpha/params", headers=new)).status_code == 401
    assert (await client.get("/v1/bots/alpha/params", headers=old)).status_code == 200
    again = await client.delete(f"/v1/bots/alpha/keys/{created.json()['key_id']}", headers=ADMIN)
    assert again.status_code == 404 and again.json()["code"] == "key_not_found"


async def test_list_bots_paginates(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await create_bot(client, f"bot-{i}")
    seen, cursor = [], None
    while True:
        page = (
            await client.get("/v1/bots", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=ADMIN)
        ).json()
        seen += [b["id"] for b in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"bot-{i}" for i in range(5)]
    bad = await client.get("/v1/bots", params={"cursor": "%%%"}, headers=ADMIN)
    assert bad.status_code == 422
    too_big = await client.get("/v1/bots", params={"limit": 501}, headers=ADMIN)
    assert too_big.status_code == 422 and too_big.json()["code"] == "invalid_request"


async def test_watermark_follows_the_latest_event_time(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    await client.post(
        "/v1/bots/alpha/events",
        json={"events": [price(ts="2026-01-05T00:00:00Z"), price(ts="2026-01-03T00:00:00Z")]},
        headers=headers,
    )
    assert (await client.get("/v1/bots/alpha", headers=headers)).json()["watermark"] == "2026-01-05T00:00:00.000Z"
