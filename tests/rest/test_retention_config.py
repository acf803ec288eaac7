"""`retention` over REST: derived by default, a value shorter than what a cycle reads is a 422 saying why."""

from __future__ import annotations

import httpx

from tests.builders import create_bot
from tests.conftest import ADMIN


async def test_retention_422_on_create_and_patch(client: httpx.AsyncClient) -> None:
    short = await client.post("/v1/bots", json={"id": "alpha", "config": {"retention": "3d"}}, headers=ADMIN)
    assert short.status_code == 422 and short.headers["content-type"].startswith("application/problem+json")
    problem = short.json()
    assert problem["code"] == "invalid_config" and problem["errors"][0]["loc"] == "config.retention"
    assert (
        "lookback 7d" in problem["errors"][0]["msg"]
        and "shorter than what a cycle reads" in problem["errors"][0]["msg"]
    )
    assert (await client.get("/v1/bots/alpha", headers=ADMIN)).status_code == 404  # nothing stored

    await create_bot(client, "alpha")
    assert (await client.get("/v1/bots/alpha", headers=ADMIN)).json()["config"]["retention"] is None
    patch = await client.patch("/v1/bots/alpha/config", json={"retention": "2h"}, headers=ADMIN)
    assert patch.status_code == 422 and patch.json()["errors"][0]["loc"] == "config.retention"
    ok = await client.patch("/v1/bots/alpha/config", json={"retention": "30d"}, headers=ADMIN)
    assert ok.status_code == 200 and ok.json()["retention"] == "30d"
