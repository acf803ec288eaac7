"""Cycles over REST (the app's embedded runner runs them): who may do what, records, apply, rollback, status."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.workers.scenario import FAST, learnable_events


async def _bot(http: httpx.AsyncClient, **config: Any) -> dict[str, str]:
    response = await http.post("/v1/bots", json={"id": "alpha", "config": {**FAST, **config}}, headers=ADMIN)
    headers = {"Authorization": f"Bearer {response.json()['api_key']}"}
    posted = await http.post("/v1/bots/alpha/events", json={"events": learnable_events()}, headers=headers)
    assert posted.status_code == 200, posted.text
    return headers


async def _finished(http: httpx.AsyncClient, cycle_id: str) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            record = (await http.get(f"/v1/bots/alpha/cycles/{cycle_id}", headers=ADMIN)).json()
            if record["status"] in ("succeeded", "failed"):
                return record
            await asyncio.sleep(0.05)


async def test_bot_key_may_only_dry_run_and_apply_is_admin_only(client: httpx.AsyncClient) -> None:
    bot = await _bot(client)
    real = await client.post("/v1/bots/alpha/cycles", json={"kind": "continuous", "dry_run": False}, headers=bot)
    assert real.status_code == 403 and real.json()["code"] == "admin_required"
    dry = await client.post("/v1/bots/alpha/cycles", json={"kind": "comprehensive", "dry_run": True}, headers=bot)
    assert dry.status_code == 202 and dry.json()["status"] == "queued"
    record = await _finished(client, dry.json()["cycle_id"])
    assert record["kind"] == "comprehensive" and record["dry_run"] is True and record["status"] == "succeeded"
    assert record["applied_version"] is None and record["changes"] and record["inputs"]["signals"] == 60
    assert set(record) >= {"cycle_id", "bot_id", "queued_at", "started_at", "finished_at", "error"}
    assert (await client.get("/v1/bots/alpha/params", headers=bot)).headers["etag"] == '"1"'
    url = f"/v1/bots/alpha/cycles/{record['cycle_id']}/apply"
    assert (await client.post(url, headers=bot)).status_code == 403
    applied = await client.post(url, headers=ADMIN)
    assert applied.status_code == 201 and applied.json()["version"] == 2 and applied.json()["source"] == "cycle"
    listed = (await client.get("/v1/bots/alpha/cycles", headers=bot)).json()
    assert [c["cycle_id"] for c in listed["items"]] == [record["cycle_id"]]
    assert listed["items"][0]["applied_version"] == 2
    missing = await client.get("/v1/bots/alpha/cycles/nope", headers=bot)
    assert missing.status_code == 404 and missing.json()["code"] == "cycle_not_found"
    bad = await client.post("/v1/bots/alpha/cycles", json={"kind": "weekly"}, headers=ADMIN)
    assert bad.status_code == 422


async def test_apprentice_mode_then_stale_apply_is_409(client: httpx.AsyncClient) -> None:
    await _bot(client, auto_apply=False)
    ids = []
    for _ in range(2):
        queued = await client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)
        ids.append((await _finished(client, queued.json()["cycle_id"]))["cycle_id"])
    assert (await client.get("/v1/bots/alpha/params", headers=ADMIN)).json()["version"] == 1
    assert (await client.post(f"/v1/bots/alpha/cycles/{ids[1]}/apply", headers=ADMIN)).status_code == 201
    stale = await client.post(f"/v1/bots/alpha/cycles/{ids[0]}/apply", headers=ADMIN)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_proposal"


async def test_rollback_after_a_cycle_copies_the_old_version_and_everything_is_audited(
    client: httpx.AsyncClient,
) -> None:
    await _bot(client)
    queued = await client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)
    record = await _finished(client, queued.json()["cycle_id"])
    assert record["applied_version"] == 2
    rolled = await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
    assert rolled.status_code == 201
    v1 = (await client.get("/v1/bots/alpha/params/versions/1", headers=ADMIN)).json()
    v3 = (await client.get("/v1/bots/alpha/params", headers=ADMIN)).json()
    skip = {"version", "created_at", "expires_at", "source", "cycle_id"}
    assert v3["version"] == 3 and v3["source"] == "rollback"
    assert {k: v for k, v in v3.items() if k not in skip} == {k: v for k, v in v1.items() if k not in skip}
    audit = (await client.get("/v1/bots/alpha/audit", headers=ADMIN)).json()["items"]
    actions = [e["action"] for e in audit]
    assert actions[:3] == ["rollback", "cycle_applied", "cycle_queued"]
    assert all(e["actor"] == "admin_token" for e in audit[:3])
    status = (await client.get("/v1/status", headers=ADMIN)).json()
    [bot] = status["bots"]
    assert status["queue"] == "embedded" and bot["last_cycles"]["continuous"]["status"] == "succeeded"
    assert set(bot["next_runs"]) == {"resolve", "continuous", "comprehensive"}
