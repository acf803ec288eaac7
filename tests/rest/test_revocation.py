"""Revocation reaches live calls (DESIGN.md section 11): pending long-polls answer 401 within 1 s; admin keys
are listed and revoked."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.builders import create_bot
from tests.conftest import ADMIN


async def test_a_pending_long_poll_answers_401_once_its_key_is_revoked(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    created = (await client.post("/v1/bots/alpha/keys", headers=ADMIN)).json()
    key = {"Authorization": f"Bearer {created['api_key']}", "If-None-Match": '"1"'}
    poll = asyncio.create_task(client.get("/v1/bots/alpha/params?wait=30", headers=key))
    await asyncio.sleep(0.3)
    assert not poll.done()
    revoked_at = time.monotonic()
    assert (await client.delete(f"/v1/bots/alpha/keys/{created['key_id']}", headers=ADMIN)).status_code == 204
    response = await asyncio.wait_for(poll, 5)
    assert response.status_code == 401, response.text
    assert time.monotonic() - revoked_at < 1.0
    assert response.json()["code"] == "unauthenticated"


async def test_admin_keys_are_listed_and_revoked(client: httpx.AsyncClient, ctx_keys: list[str]) -> None:
    first, second = ctx_keys
    listed = (await client.get("/v1/admin/keys", headers=ADMIN)).json()
    assert [k["key_id"] for k in listed["items"]] == sorted([first, second])
    assert all(k["scope"] == "admin" and k["revoked_at"] is None for k in listed["items"])
    await create_bot(client)  # its key is a bot key: not in the admin list
    assert len((await client.get("/v1/admin/keys", headers=ADMIN)).json()["items"]) == 2

    assert (await client.delete(f"/v1/admin/keys/{first}", headers=ADMIN)).status_code == 204
    after = {k["key_id"]: k for k in (await client.get("/v1/admin/keys", headers=ADMIN)).json()["items"]}
    assert after[first]["revoked_at"] is not None and after[second]["revoked_at"] is None
    again = await client.delete(f"/v1/admin/keys/{first}", headers=ADMIN)
    assert again.status_code == 404 and again.json()["code"] == "key_not_found"
    token = await client.delete("/v1/admin/keys/admin_token", headers=ADMIN)
    assert token.status_code == 409 and token.json()["code"] == "admin_token_not_revocable"


async def test_a_revoked_admin_key_stops_working_and_bot_keys_cannot_manage_admin_keys(
    client: httpx.AsyncClient, admin_key: tuple[str, str]
) -> None:
    key_id, secret = admin_key
    own = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/v1/admin/keys", headers=own)).status_code == 200
    bot = await create_bot(client)
    assert (await client.get("/v1/admin/keys", headers=bot)).status_code == 403
    assert (await client.delete(f"/v1/admin/keys/{key_id}", headers=bot)).status_code == 403
    assert (await client.delete(f"/v1/admin/keys/{key_id}", headers=own)).status_code == 204  # may revoke itself
    assert (await client.get("/v1/admin/keys", headers=own)).status_code == 401


async def test_an_admin_key_id_no_row_can_hold_is_404_not_500(client: httpx.AsyncClient) -> None:
    for bad in ("k_%00", "x" * 200):
        response = await client.delete(f"/v1/admin/keys/{bad}", headers=ADMIN)
        assert response.status_code == 404 and response.json()["code"] == "key_not_found", response.text
