"""Behaviour the OpenAPI document describes and schemathesis found differing (issue 11, item 12)."""

from __future__ import annotations

import httpx

from tests.builders import create_bot
from tests.conftest import ADMIN


async def test_an_empty_cursor_is_the_first_page(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    await create_bot(client, "beta")
    for path in ("/v1/bots", "/v1/bots/alpha/cycles", "/v1/bots/alpha/params/versions", "/v1/bots/alpha/audit"):
        empty = await client.get(path, params={"cursor": ""}, headers=ADMIN)
        absent = await client.get(path, headers=ADMIN)
        assert empty.status_code == 200, (path, empty.text)
        assert empty.json() == absent.json(), path
    assert len((await client.get("/v1/bots?cursor=", headers=ADMIN)).json()["items"]) == 2
    assert (await client.get("/v1/bots/alpha/params/versions?cursor=", headers=headers)).status_code == 200


async def test_405_allows_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    for method, path, allowed in [
        ("OPTIONS", "/v1/bots", "GET, POST"),
        ("PUT", "/v1/bots", "GET, POST"),
        ("DELETE", "/v1/bots/alpha/cycles", "GET, POST"),
        ("PUT", "/v1/bots/alpha/params", "GET"),
        ("POST", "/v1/bots/alpha/keys/k1", "DELETE"),
    ]:
        response = await client.request(method, path, headers=ADMIN)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allowed, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
