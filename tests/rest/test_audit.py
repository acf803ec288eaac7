"""The audit log: config and key changes, with who and when, newest first, paged."""

from __future__ import annotations

import httpx

from tests.builders import create_bot
from tests.conftest import ADMIN


async def test_audit_lists_config_and_key_changes_with_actor_and_pages(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client)
    assert (await client.patch("/v1/bots/alpha/config", json={"min_t": 2.0}, headers=ADMIN)).status_code == 200
    key = (await client.post("/v1/bots/alpha/keys", headers=ADMIN)).json()["key_id"]
    assert (await client.delete(f"/v1/bots/alpha/keys/{key}", headers=ADMIN)).status_code == 204
    page = (await client.get("/v1/bots/alpha/audit?limit=2", headers=bot)).json()
    assert [e["action"] for e in page["items"]] == ["key_revoked", "key_created"]
    assert all(e["actor"] == "admin_token" and e["at"].endswith("Z") for e in page["items"])
    rest = (await client.get(f"/v1/bots/alpha/audit?cursor={page['next_cursor']}", headers=bot)).json()
    assert [e["action"] for e in rest["items"]] == ["config_changed", "bot_created"]
    assert rest["items"][0]["detail"]["patch"] == {"min_t": 2.0} and rest["next_cursor"] is None
