"""Auth and tenancy (DESIGN.md section 3), checked over every route the app serves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.rest.app import create_app
from tests.builders import create_bot
from tests.conftest import ADMIN

BODIES: dict[str, Any] = {
    "/v1/bots/{bot}/events": {"events": []},
    "/v1/bots/{bot}/config": {"min_t": 2.0},
    "/v1/bots/{bot}/params/rollback": {"version": 1},
    "/v1/bots/{bot}/activations": {"version": 1},
    "/v1/bots/{bot}/cycles": {"kind": "continuous", "dry_run": True},
}
PATH_VALUES = {"version": "1", "key_id": "k_0000", "cycle_id": "00000000-0000-0000-0000-000000000000", "v": "1"}


def bot_routes() -> list[tuple[str, str]]:
    """Every (method, path) under /v1/bots/{bot}, read from the OpenAPI document the app serves."""
    paths = create_app().openapi()["paths"]
    return [(method.upper(), path) for path, ops in sorted(paths.items()) if "{bot}" in path for method in sorted(ops)]


def _url(path: str, bot: str) -> str:
    url = path.replace("{bot}", bot)
    for name, value in PATH_VALUES.items():
        url = url.replace("{" + name + "}", value)
    if url.endswith("/params/diff"):
        url += "?from=1&to=1"
    return url


async def _call(http: httpx.AsyncClient, method: str, path: str, bot: str, headers: dict[str, str]) -> httpx.Response:
    return await http.request(method, _url(path, bot), json=BODIES.get(path), headers=headers)


async def test_another_bots_key_gets_404_everywhere(client: httpx.AsyncClient) -> None:
    key_a = await create_bot(client, "bot-a")
    await create_bot(client, "bot-b")
    routes = bot_routes()
    assert len(routes) >= 25  # every /v1/bots/{bot} route, read from the served spec
    wrong = {}
    for method, path in routes:
        response = await _call(client, method, path, "bot-b", key_a)
        if response.status_code != 404 or response.json()["code"] != "bot_not_found":
            wrong[f"{method} {path}"] = response.text
    assert wrong == {}


async def test_no_key_or_a_wrong_key_gets_401(client: httpx.AsyncClient) -> None:
    await create_bot(client, "bot-b")
    wrong = {}
    for method, path in [*bot_routes(), ("GET", "/v1/bots"), ("POST", "/v1/bots"), ("GET", "/v1/status")]:
        for headers in ({}, {"Authorization": "Bearer elk_not-a-key"}, {"Authorization": "Basic abc"}):
            response = await _call(client, method, path, "bot-b", headers)
            ok = (
                response.status_code == 401
                and response.headers["www-authenticate"].startswith("Bearer")
                and response.headers["content-type"] == "application/problem+json"
            )
            if not ok:
                wrong[f"{method} {path} {headers}"] = response.text
    assert wrong == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1/bots/{bot}/config"),
        ("POST", "/v1/bots/{bot}/params/rollback"),
        ("POST", "/v1/bots/{bot}/keys"),
        ("DELETE", "/v1/bots/{bot}/keys/{key_id}"),
    ],
)
async def test_bot_key_asking_its_own_bot_for_an_admin_action_gets_403(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    key = await create_bot(client, "bot-a")
    response = await _call(client, method, path, "bot-a", key)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "admin_required"


async def test_bot_key_cannot_create_bots(client: httpx.AsyncClient) -> None:
    key = await create_bot(client, "bot-a")
    response = await client.post("/v1/bots", json={"id": "bot-z"}, headers=key)
    assert response.status_code == 403


async def test_bot_key_lists_only_its_own_bot(client: httpx.AsyncClient) -> None:
    key = await create_bot(client, "bot-a")
    await create_bot(client, "bot-b")
    assert [b["id"] for b in (await client.get("/v1/bots", headers=key)).json()["items"]] == ["bot-a"]
    assert [b["id"] for b in (await client.get("/v1/bots", headers=ADMIN)).json()["items"]] == ["bot-a", "bot-b"]
    status = (await client.get("/v1/status", headers=key)).json()
    assert [b["id"] for b in status["bots"]] == ["bot-a"]


async def test_admin_key_from_cli_service_works(client: httpx.AsyncClient, ctx: Any) -> None:
    from core.services.bots import create_admin_key

    created = await create_admin_key(ctx)
    headers = {"Authorization": f"Bearer {created.api_key}"}
    assert (await client.post("/v1/bots", json={"id": "made-by-key"}, headers=headers)).status_code == 201


async def test_keys_are_stored_only_as_hashes(client: httpx.AsyncClient, database_url: str) -> None:
    from sqlalchemy import select

    from core.store.db import make_engine
    from core.store.models import ApiKey

    created = (await client.post("/v1/bots", json={"id": "bot-a"}, headers=ADMIN)).json()
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        hashes = list((await conn.execute(select(ApiKey.key_hash))).scalars())
    await engine.dispose()
    assert created["api_key"] not in hashes and len(created["api_key"]) >= 40
    assert len(hashes) == 1 and len(hashes[0]) == 64
