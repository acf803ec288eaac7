"""Hardening (issue 11, items 6-9 and 11): no input gives a 5xx; inputs are strict to the contract.

Each case is one reproduction from the issue; the database matters for NUL and integer range
(PostgreSQL refused them with a 500), so every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import gzip
from typing import Any

import httpx
import orjson
import pytest

from tests.builders import create_bot, row_counts, signal, trade
from tests.conftest import ADMIN
from tests.rest.test_insight import cycle


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def post_events(http: httpx.AsyncClient, headers: dict[str, str], events: list[Any]) -> httpx.Response:
    return await http.post("/v1/bots/alpha/events", json={"events": events}, headers=headers)


# --- item 6: NUL (and other impossible ids) in path parameters ---------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/bots/a%00b", 404, "bot_not_found"),
        ("GET", "/v1/bots/a%00b/params", 404, "bot_not_found"),
        ("GET", "/v1/bots/a%ffb/health", 404, "bot_not_found"),
        ("GET", "/v1/bots/alpha/cycles/a%00b", 404, "cycle_not_found"),
        ("POST", "/v1/bots/alpha/cycles/a%00b/apply", 404, "cycle_not_found"),
        ("DELETE", "/v1/bots/alpha/keys/k_%00", 404, "key_not_found"),
        ("GET", "/v1/bots/alpha/cycles/" + "x" * 300, 404, "cycle_not_found"),
    ],
)
async def test_nul_in_path_is_404_not_500(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    await create_bot(client)
    response = await client.request(method, path, headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_bot_key_on_its_own_bot_with_nul_cycle_id(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await client.get("/v1/bots/alpha/cycles/a%00b", headers=headers)
    assert (response.status_code, response.json()["code"]) == (404, "cycle_not_found")


@pytest.mark.parametrize("body", [{"id": "a\u0000b"}, {"id": "nul", "name": "a\u0000b"}])
async def test_nul_in_bot_create_body_is_422(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    response = await client.post("/v1/bots", json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert (await client.get("/v1/bots", headers=ADMIN)).json()["items"] == []


async def test_lone_surrogate_in_a_body_is_400(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    for path, body in (
        ("/v1/bots", b'{"id": "x", "name": "\\ud800"}'),
        (
            "/v1/bots/alpha/events",
            b'{"events": [{"type": "price", "symbol": "\\ud800", "ts": 1767225600000, "price": NaN}]}',
        ),
    ):
        response = await client.post(path, content=body, headers={**ADMIN, "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
    assert await row_counts_via(client, headers) == 0


async def row_counts_via(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    counts = (await client.get("/v1/bots/alpha/health", headers=headers)).json()["counts"]
    return int(counts["signals"] + counts["trades"] + counts["prices"])


# --- item 7: integers beyond int4/int8 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
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
    ],
)
async def test_out_of_range_integers_are_4xx(
    client: httpx.AsyncClient, method: str, path: str, body: Any, status: int
) -> None:
    await create_bot(client)
    response = await client.request(method, path, json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


# --- item 8: digit checks are ASCII decimal --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/bots/alpha/params/versions",
        "/v1/bots/alpha/cycles",
        "/v1/bots/alpha/audit",
        "/v1/bots/alpha/reports/signals",
        "/v1/bots/alpha/reports/gates",
        "/v1/bots/alpha/reports/combos",
        "/v1/bots/alpha/reports/missed",
    ],
)
@pytest.mark.parametrize("raw", ["²", "٣", "1²"])
async def test_non_ascii_digit_cursor_is_422(client: httpx.AsyncClient, path: str, raw: str) -> None:
    headers = await create_bot(client)
    if "/reports/" in path:
        await cycle(client, headers)  # reports exist once a cycle has run
    response = await client.get(path, params={"cursor": cursor(raw)}, headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_cursor")


@pytest.mark.parametrize("etag", [b'"\xb2"', '"٣"'.encode(), b'"99999999999999999999999"'])  # \xb2: latin-1 "²"
async def test_if_none_match_with_non_ascii_digits_is_ignored(client: httpx.AsyncClient, etag: bytes) -> None:
    headers = await create_bot(client)
    for _ in range(2):  # the second request is answered from the caches (the fast path)
        response = await client.get("/v1/bots/alpha/params", headers={**headers, "If-None-Match": etag})  # type: ignore[dict-item]
        assert response.status_code == 200
        assert response.json()["version"] == 1


# --- item 11: inputs looser than the contract ------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "message"),
    [
        ("2026-W01-5T03:04:05Z", "RFC 3339"),
        ("20260102T030405Z", "RFC 3339"),
        ("2026-01-02T03:04:05", "offset"),
        ("2026-01-0２T03:04:05Z", "RFC 3339"),
        (1796393000, "looks like epoch seconds; send milliseconds"),
        (0, "looks like epoch seconds; send milliseconds"),
    ],
)
async def test_times_outside_the_contract_are_422(
    client: httpx.AsyncClient, database_url: str, ts: Any, message: str
) -> None:
    headers = await create_bot(client)
    response = await post_events(client, headers, [signal(), signal(ts=ts)])
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["index"], error["loc"]) == (1, "ts")
    assert message in error["msg"]
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


async def test_rfc3339_with_offset_and_epoch_ms_are_accepted(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    events = [signal(ts="2026-01-02T03:04:05.123+02:00"), signal(ts="2026-01-02t03:04:05z"), signal(ts=10**11)]
    response = await post_events(client, headers, events)
    assert response.json() == {"accepted": 3, "duplicates": 0}


@pytest.mark.parametrize(
    "patch",
    [{"auto_apply": "yes"}, {"auto_apply": 1}, {"min_outcomes": 4546.0}, {"min_t": "3"}, {"schedule": {"enabled": 0}}],
)
async def test_config_is_strict(client: httpx.AsyncClient, patch: dict[str, Any]) -> None:
    await create_bot(client)
    response = await client.patch("/v1/bots/alpha/config", json=patch, headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_config")
    config = (await client.get("/v1/bots/alpha", headers=ADMIN)).json()["config"]
    assert config["auto_apply"] is True and config["min_outcomes"] == 50


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/bots/alpha/params/rollback", {"version": 1.0}),
        ("/v1/bots/alpha/params/rollback", {"version": "1"}),
        ("/v1/bots/alpha/cycles", {"dry_run": "yes"}),
        ("/v1/bots/alpha/cycles", {"dry_run": 0}),
    ],
)
async def test_bodies_are_strict(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    await create_bot(client)
    response = await client.post(path, json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert (await client.get("/v1/bots/alpha/cycles", headers=ADMIN)).json()["items"] == []


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/bots/alpha/events", "text/plain"),
        ("/v1/bots/alpha/events", None),
        ("/v1/bots/alpha/events", "application/x-www-form-urlencoded"),
        ("/v1/bots/alpha/cycles", "text/plain"),
        ("/v1/bots", "text/plain"),
        ("/v1/bots/alpha/events", "application/json; charset=utf-16"),
    ],
)
async def test_json_bodies_need_a_json_content_type(
    client: httpx.AsyncClient, database_url: str, path: str, content_type: str | None
) -> None:
    headers = await create_bot(client)
    body = orjson.dumps({"events": [signal()]} if path.endswith("events") else {"id": "beta"})
    sent = {**ADMIN, **({"Content-Type": content_type} if content_type else {})}
    response = await client.post(path, content=body, headers=sent)
    assert response.status_code == 415, response.text
    assert response.json()["code"] in ("unsupported_media_type", "unsupported_charset")
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}
    assert (await client.get("/v1/bots", headers=ADMIN)).json()["items"][0]["id"] == "alpha"
    del headers


@pytest.mark.parametrize("path", ["/v1/bots/alpha/events", "/v1/bots"])
async def test_utf16_bodies_are_415(client: httpx.AsyncClient, database_url: str, path: str) -> None:
    await create_bot(client)
    doc = {"events": [signal()]} if path.endswith("events") else {"id": "beta"}
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        body = orjson.dumps(doc).decode().encode(encoding)
        response = await client.post(path, content=body, headers={**ADMIN, "Content-Type": "application/json"})
        assert (response.status_code, response.json()["code"]) == (415, "unsupported_charset"), encoding
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


@pytest.mark.parametrize("with_header", [True, False])
@pytest.mark.parametrize("media", ["application/json", "application/x-ndjson"])
async def test_gzip_bodies_are_a_clear_415(
    client: httpx.AsyncClient, database_url: str, with_header: bool, media: str
) -> None:
    await create_bot(client)
    raw = orjson.dumps({"events": [signal()]}) if media == "application/json" else orjson.dumps(signal())
    headers = {**ADMIN, "Content-Type": media, **({"Content-Encoding": "gzip"} if with_header else {})}
    response = await client.post("/v1/bots/alpha/events", content=gzip.compress(raw), headers=headers)
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_content_encoding")
    assert "uncompressed" in response.json()["detail"]
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


async def test_merge_patch_media_type_is_json(client: httpx.AsyncClient) -> None:
    await create_bot(client)
    response = await client.patch(
        "/v1/bots/alpha/config",
        content=b'{"min_t": 2.5}',
        headers={**ADMIN, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["min_t"] == 2.5


# --- item 10 end to end: a bot that posts only trades ----------------------------------------------


async def test_a_bot_with_only_trades_gets_a_successful_cycle(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    trades = [trade(signal_event_id="never-sent"), trade(), trade(symbol="ETHUSDT", direction="short")]
    assert (await post_events(client, headers, trades)).status_code == 200
    for kind in ("continuous", "comprehensive"):
        record = await cycle(client, headers, kind)
        assert record["inputs"]["trades"] == 3 and record["inputs"]["signals"] == 0
