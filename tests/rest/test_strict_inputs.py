"""Hardening (issue 11, items 6-8, 10 and 11): no input gives a 5xx; inputs are strict to the contract.

Each case is one reproduction from the issue; the database matters for NUL and integer range
(PostgreSQL refused them with a 500), so every test runs on SQLite and PostgreSQL. Cases of one
kind share a test (and its database), to keep the suite fast.
"""

from __future__ import annotations

import base64
import gzip
from typing import Any

import httpx
import orjson

from tests.builders import create_bot, row_counts, signal, trade
from tests.conftest import ADMIN
from tests.rest.test_insight import cycle

NO_ROWS = {"signals": 0, "trades": 0, "prices": 0}


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def post_events(http: httpx.AsyncClient, headers: dict[str, str], events: list[Any]) -> httpx.Response:
    return await http.post("/v1/bots/alpha/events", json={"events": events}, headers=headers)


# --- item 6: NUL (and other impossible ids) in path parameters and bodies ----------------------------


async def test_nul_in_path_is_404_not_500(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    cases = [
        ("GET", "/v1/bots/a%00b", ADMIN, "bot_not_found"),
        ("GET", "/v1/bots/a%00b/params", ADMIN, "bot_not_found"),
        ("GET", "/v1/bots/a%ffb/health", ADMIN, "bot_not_found"),
        ("GET", "/v1/bots/alpha/cycles/a%00b", ADMIN, "cycle_not_found"),
        ("GET", "/v1/bots/alpha/cycles/a%00b", headers, "cycle_not_found"),  # a bot key on its own bot
        ("POST", "/v1/bots/alpha/cycles/a%00b/apply", ADMIN, "cycle_not_found"),
        ("DELETE", "/v1/bots/alpha/keys/k_%00", ADMIN, "key_not_found"),
        ("GET", "/v1/bots/alpha/cycles/" + "x" * 300, ADMIN, "cycle_not_found"),
    ]
    for method, path, auth, code in cases:
        response = await client.request(method, path, headers=auth)
        assert (response.status_code, response.json()["code"]) == (404, code), path


async def test_nul_and_lone_surrogates_in_bodies_are_4xx(client: httpx.AsyncClient, database_url: str) -> None:
    await create_bot(client)
    for body in ({"id": "a\u0000b"}, {"id": "nul", "name": "a\u0000b"}):
        response = await client.post("/v1/bots", json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
    surrogates = (
        ("/v1/bots", b'{"id": "x", "name": "\\ud800"}'),
        (
            "/v1/bots/alpha/events",
            b'{"events": [{"type": "price", "symbol": "\\ud800", "ts": 1767225600000, "price": NaN}]}',
        ),
    )
    for path, raw in surrogates:
        response = await client.post(path, content=raw, headers={**ADMIN, "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
    assert [bot["id"] for bot in (await client.get("/v1/bots", headers=ADMIN)).json()["items"]] == ["alpha"]
    assert await row_counts(database_url) == NO_ROWS


# --- item 7: integers beyond int4/int8 --------------------------------------------------------------


async def test_out_of_range_integers_are_4xx(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    cases: list[tuple[str, str, Any, int]] = [
        ("GET", "/v1/bots/alpha/params/versions/2147483648", None, 404),
        ("GET", "/v1/bots/alpha/params/versions/99999999999999999999999", None, 404),
        ("GET", "/v1/bots/alpha/params/versions/0", None, 404),
        ("GET", "/v1/bots/alpha/params/diff?from=1&to=2147483648", None, 404),
        ("POST", "/v1/bots/alpha/params/rollback", {"version": 2147483648}, 422),
        ("POST", "/v1/bots/alpha/params/rollback", {"version": 2**70}, 422),
        ("GET", f"/v1/bots/alpha/params/versions?cursor={cursor('99999999999')}", None, 422),
        ("GET", f"/v1/bots/alpha/cycles?cursor={cursor(str(2**63))}", None, 422),
        ("GET", f"/v1/bots/alpha/audit?cursor={cursor(str(2**63))}", None, 422),
        ("GET", f"/v1/bots?cursor={cursor('a' + chr(0))}", None, 422),
    ]
    for method, path, body, status in cases:
        response = await client.request(method, path, json=body, headers=ADMIN)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


# --- item 8: digit checks are ASCII decimal --------------------------------------------------------


async def test_non_ascii_digit_cursors_are_422(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    await cycle(client, headers)  # reports exist once a comprehensive cycle has run
    paths = ["params/versions", "cycles", "audit", "reports/signals", "reports/gates", "reports/combos"]
    for path in [*paths, "reports/missed"]:
        for raw in ("²", "٣", "1²"):
            response = await client.get(f"/v1/bots/alpha/{path}", params={"cursor": cursor(raw)}, headers=ADMIN)
            assert (response.status_code, response.json()["code"]) == (422, "invalid_cursor"), (path, raw)


async def test_if_none_match_with_non_ascii_digits_is_ignored(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    for etag in (b'"\xb2"', '"٣"'.encode(), b'"99999999999999999999999"'):  # b"\xb2" is latin-1 "²"
        for _ in range(2):  # the second request is answered from the caches (the fast path)
            response = await client.get("/v1/bots/alpha/params", headers={**headers, "If-None-Match": etag})  # type: ignore[dict-item]
            assert response.status_code == 200
            assert response.json()["version"] == 1


# --- item 11: inputs looser than the contract ------------------------------------------------------


async def test_times_outside_the_contract_are_422(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    cases: list[tuple[Any, str]] = [
        ("2026-W01-5T03:04:05Z", "RFC 3339"),
        ("20260102T030405Z", "RFC 3339"),
        ("2026-01-02T03:04:05", "offset"),
        ("2026-01-0２T03:04:05Z", "RFC 3339"),
        (1796393000, "looks like epoch seconds; send milliseconds"),
        (0, "looks like epoch seconds; send milliseconds"),
    ]
    for ts, message in cases:
        response = await post_events(client, headers, [signal(), signal(ts=ts)])
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["index"], error["loc"]) == (1, "ts")
        assert message in error["msg"]
    assert await row_counts(database_url) == NO_ROWS
    events = [signal(ts="2026-01-02T03:04:05.123+02:00"), signal(ts="2026-01-02t03:04:05z"), signal(ts=10**11)]
    assert (await post_events(client, headers, events)).json() == {"accepted": 3, "duplicates": 0}


async def test_config_and_bodies_are_strict(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    for patch in ({"auto_apply": "yes"}, {"auto_apply": 1}, {"min_outcomes": 4546.0}, {"min_t": "3"}):
        response = await client.patch("/v1/bots/alpha/config", json=patch, headers=ADMIN)
        assert (response.status_code, response.json()["code"]) == (422, "invalid_config"), patch
    response = await client.patch("/v1/bots/alpha/config", json={"schedule": {"enabled": 0}}, headers=ADMIN)
    assert response.status_code == 422
    config = (await client.get("/v1/bots/alpha", headers=ADMIN)).json()["config"]
    assert config["auto_apply"] is True and config["min_outcomes"] == 50 and config["schedule"]["enabled"] is True
    bodies = [
        ("/v1/bots/alpha/params/rollback", {"version": 1.0}),
        ("/v1/bots/alpha/params/rollback", {"version": "1"}),
        ("/v1/bots/alpha/cycles", {"dry_run": "yes"}),
        ("/v1/bots/alpha/cycles", {"dry_run": 0}),
    ]
    for path, body in bodies:
        response = await client.post(path, json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
    assert (await client.get("/v1/bots/alpha/cycles", headers=ADMIN)).json()["items"] == []
    assert (await client.get("/v1/bots/alpha/params", headers=ADMIN)).json()["version"] == 1
    merge = {**ADMIN, "Content-Type": "application/merge-patch+json"}
    response = await client.patch("/v1/bots/alpha/config", content=b'{"min_t": 2.5}', headers=merge)
    assert (response.status_code, response.json()["min_t"]) == (200, 2.5)


async def test_json_bodies_need_json_utf8_uncompressed(client: httpx.AsyncClient, database_url: str) -> None:
    await create_bot(client)
    events = orjson.dumps({"events": [signal()]})
    media_types = [
        ("/v1/bots/alpha/events", "text/plain"),
        ("/v1/bots/alpha/events", None),
        ("/v1/bots/alpha/events", "application/x-www-form-urlencoded"),
        ("/v1/bots/alpha/cycles", "text/plain"),
        ("/v1/bots", "text/plain"),
        ("/v1/bots/alpha/events", "application/json; charset=utf-16"),
    ]
    for path, content_type in media_types:
        body = events if path.endswith("events") else orjson.dumps({"id": "beta"})
        sent = {**ADMIN, **({"Content-Type": content_type} if content_type else {})}
        response = await client.post(path, content=body, headers=sent)
        assert response.status_code == 415, (path, content_type, response.text)
        assert response.json()["code"] in ("unsupported_media_type", "unsupported_charset")
    for path in ("/v1/bots/alpha/events", "/v1/bots"):
        doc = {"events": [signal()]} if path.endswith("events") else {"id": "beta"}
        for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
            body = orjson.dumps(doc).decode().encode(encoding)
            response = await client.post(path, content=body, headers={**ADMIN, "Content-Type": "application/json"})
            assert (response.status_code, response.json()["code"]) == (415, "unsupported_charset"), encoding
    for media, raw in (("application/json", events), ("application/x-ndjson", orjson.dumps(signal()))):
        for gzip_header in (True, False):
            headers = {**ADMIN, "Content-Type": media, **({"Content-Encoding": "gzip"} if gzip_header else {})}
            response = await client.post("/v1/bots/alpha/events", content=gzip.compress(raw), headers=headers)
            assert (response.status_code, response.json()["code"]) == (415, "unsupported_content_encoding")
            assert "uncompressed" in response.json()["detail"]
    assert await row_counts(database_url) == NO_ROWS
    assert [bot["id"] for bot in (await client.get("/v1/bots", headers=ADMIN)).json()["items"]] == ["alpha"]


# --- item 10 end to end: a bot that posts only trades ----------------------------------------------


async def test_a_bot_with_only_trades_gets_a_successful_cycle(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    trades = [trade(signal_event_id="never-sent"), trade(), trade(symbol="ETHUSDT", direction="short")]
    assert (await post_events(client, headers, trades)).status_code == 200
    for kind in ("continuous", "comprehensive"):
        record = await cycle(client, headers, kind)
        assert record["inputs"]["trades"] == 3 and record["inputs"]["signals"] == 0
