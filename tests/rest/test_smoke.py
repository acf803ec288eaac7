from __future__ import annotations

import httpx

from tests.builders import create_bot, mixed_batch


async def test_create_post_fetch_round_trip(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await client.post("/v1/bots/alpha/events", json={"events": mixed_batch(30)}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 30, "duplicates": 0}
    params = await client.get("/v1/bots/alpha/params", headers=headers)
    assert params.status_code == 200
    assert params.headers["etag"] == '"1"'
    doc = params.json()
    assert doc["version"] == 1 and doc["source"] == "default" and doc["weights"] == {}
