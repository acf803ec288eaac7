"""Param documents: defaults, sections, ETag/304, long-poll, versions, rollback."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.builders import create_bot
from tests.conftest import ADMIN

SECTIONS = {
    "weights": {"version", "weights", "default_weight", "signal_horizons", "weights_by_regime"},
    "gates": {"version", "gates"},
    "sizing": {"version", "sizing"},
    "blocked-combos": {"version", "blocked_combos"},
    "allocation": {"version", "allocation"},
    "hold-time": {"version", "hold_time"},
    "routing": {"version", "direction_routing"},
    "rules": {"version", "rules"},
}


async def test_version_1_holds_the_defaults(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    doc = (await client.get("/v1/bots/alpha/params", headers=headers)).json()
    assert doc["bot_id"] == "alpha" and doc["version"] == 1 and doc["source"] == "default" and doc["cycle_id"] is None
    assert doc["default_weight"] == 1.0 and doc["weights"] == {} and doc["signal_horizons"] == {}
    assert doc["gates"] == {"conviction": {"min_conviction": 0.0}, "fee": {"min_expected_edge_bps": 0.0}}
    assert [b["multiplier"] for b in doc["sizing"]["buckets"]] == [1.0, 1.0, 1.0, 1.0]
    assert [(b["min_conviction"], b["max_conviction"]) for b in doc["sizing"]["buckets"]] == [
        (0.0, 0.25),
        (0.25, 0.5),
        (0.5, 0.75),
        (0.75, 1.0),
    ]
    assert doc["blocked_combos"] == [] and doc["allocation"] == {"strategies": {}, "symbols": {}}
    assert doc["hold_time"] == {"default": {"target_s": 900, "max_s": 3600}, "by_strategy": {}}


@pytest.mark.parametrize("section", sorted(SECTIONS))
async def test_each_section_endpoint(client: httpx.AsyncClient, section: str) -> None:
    headers = await create_bot(client)
    doc = (await client.get("/v1/bots/alpha/params", headers=headers)).json()
    response = await client.get(f"/v1/bots/alpha/{section}", headers=headers)
    assert response.status_code == 200 and response.headers["etag"] == '"1"'
    body = response.json()
    assert set(body) == SECTIONS[section]
    assert all(body[k] == doc[k] for k in body)
    cached = await client.get(f"/v1/bots/alpha/{section}", headers={**headers, "If-None-Match": '"1"'})
    assert cached.status_code == 304 and cached.content == b""


@pytest.mark.parametrize("etag", ['"1"', 'W/"1"', '"1", "0"'])
async def test_if_none_match_current_version_is_304(client: httpx.AsyncClient, etag: str) -> None:
    headers = await create_bot(client)
    response = await client.get("/v1/bots/alpha/params", headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304 and response.headers["etag"] == '"1"'


async def test_stale_etag_gets_the_document(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await client.get("/v1/bots/alpha/params", headers={**headers, "If-None-Match": '"7"'})
    assert response.status_code == 200 and response.json()["version"] == 1


async def test_rollback_makes_a_new_version_equal_to_the_old(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["version"] == 2 and new["source"] == "rollback"
    current = await client.get("/v1/bots/alpha/params", headers=headers)
    assert current.headers["etag"] == '"2"'
    old = (await client.get("/v1/bots/alpha/params/versions/1", headers=headers)).json()
    skip = {"version", "source", "created_at", "expires_at", "cycle_id"}
    assert {k: v for k, v in new.items() if k not in skip} == {k: v for k, v in old.items() if k not in skip}
    versions = (await client.get("/v1/bots/alpha/params/versions", headers=headers)).json()
    assert [(v["version"], v["source"]) for v in versions["items"]] == [(2, "rollback"), (1, "default")]
    diff = await client.get("/v1/bots/alpha/params/diff", params={"from": 1, "to": 2}, headers=headers)
    assert diff.status_code == 200 and diff.json() == []


async def test_rollback_to_unknown_version_is_422(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    response = await client.post("/v1/bots/alpha/params/rollback", json={"version": 9}, headers=ADMIN)
    assert response.status_code == 422 and response.json()["code"] == "unknown_version"


async def test_unknown_version_is_404(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await client.get("/v1/bots/alpha/params/versions/5", headers=headers)
    assert response.status_code == 404 and response.json()["code"] == "version_not_found"


async def test_long_poll_wakes_when_a_version_is_made(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)

    async def rollback_soon() -> None:
        await asyncio.sleep(0.3)
        await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)

    task = asyncio.create_task(rollback_soon())
    start = time.monotonic()
    response = await client.get(
        "/v1/bots/alpha/params", params={"wait": 10}, headers={**headers, "If-None-Match": '"1"'}
    )
    elapsed = time.monotonic() - start
    await task
    assert response.status_code == 200 and response.json()["version"] == 2
    assert 0.25 < elapsed < 3


async def test_long_poll_times_out_with_304(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    start = time.monotonic()
    response = await client.get(
        "/v1/bots/alpha/params", params={"wait": 1}, headers={**headers, "If-None-Match": '"1"'}
    )
    assert response.status_code == 304
    assert 0.9 < time.monotonic() - start < 3


async def test_wait_above_60_is_422(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await client.get("/v1/bots/alpha/params", params={"wait": 61}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == "query.wait"


async def test_cached_document_does_not_hit_the_database(client: httpx.AsyncClient) -> None:
    """Within the TTL, repeated fetches are served from the in-process cache (no DB round trip)."""
    headers = await create_bot(client)
    app = client._transport.app  # type: ignore[attr-defined]
    engine = app.state.ctx.engine
    statements: list[str] = []

    from sqlalchemy import event

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    await client.get("/v1/bots/alpha/params", headers=headers)  # warm the key and params caches
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            assert (await client.get("/v1/bots/alpha/params", headers=headers)).status_code == 200
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) <= 2, statements  # at most one version check + one key check per TTL
