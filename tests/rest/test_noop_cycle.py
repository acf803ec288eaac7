"""A cycle whose changes alter nothing a bot would do records them without making a version."""

from __future__ import annotations

import asyncio

import httpx

from tests.builders import create_bot, price, signal
from tests.conftest import ADMIN


async def test_a_first_cycle_with_only_new_default_weights_makes_no_version(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client)
    events = [price(), signal(components={"ofi": 1.0, "momentum": 0.5}), price()]
    assert (await client.post("/v1/bots/alpha/events", json={"events": events}, headers=bot)).status_code == 200
    queued = (await client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)).json()
    for _ in range(200):
        record = (await client.get(f"/v1/bots/alpha/cycles/{queued['cycle_id']}", headers=ADMIN)).json()
        if record["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.05)
    assert record["status"] == "succeeded", record
    assert record["changes"], "the entering components are recorded on the cycle"
    assert all(c["path"].startswith("weights.") and c["new"] == 1.0 and c["old"] is None for c in record["changes"])
    assert record["applied_version"] is None
    assert (await client.get("/v1/bots/alpha/params", headers=bot)).json()["version"] == 1
