"""Event ingestion over REST: formats, atomicity, idempotency, every validation rule, limits."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest

from tests.builders import create_bot, mixed_batch, price, row_counts, signal, trade
from tests.conftest import ADMIN


async def post(http: httpx.AsyncClient, headers: dict[str, str], events: list[Any]) -> httpx.Response:
    return await http.post("/v1/bots/alpha/events", json={"events": events}, headers=headers)


async def test_mixed_batch_is_stored_and_counted(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    response = await post(client, headers, mixed_batch(30))
    assert response.json() == {"accepted": 30, "duplicates": 0}
    assert await row_counts(database_url) == {"signals": 10, "trades": 10, "prices": 10}


async def test_ndjson_batch(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    body = b"\n".join(orjson.dumps(e) for e in mixed_batch(9)) + b"\n"
    response = await client.post(
        "/v1/bots/alpha/events", content=body, headers={**headers, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 9, "duplicates": 0}
    assert await row_counts(database_url) == {"signals": 3, "trades": 3, "prices": 3}


async def test_ndjson_error_index_is_the_line_number(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    lines = [orjson.dumps(signal()), b"", orjson.dumps(signal(price=-1.0))]
    response = await client.post(
        "/v1/bots/alpha/events", content=b"\n".join(lines), headers={**headers, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 422
    assert [(e["index"], e["loc"]) for e in response.json()["errors"]] == [(2, "price")]


async def test_resending_a_batch_is_all_duplicates(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    batch = mixed_batch(60)
    assert (await post(client, headers, batch)).json() == {"accepted": 60, "duplicates": 0}
    before = await row_counts(database_url)
    assert (await post(client, headers, batch)).json() == {"accepted": 0, "duplicates": 60}
    assert await row_counts(database_url) == before


async def test_duplicates_inside_one_batch_and_marks_by_symbol_and_ts(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    s = signal()
    mark = price(ts=1_767_225_600_000)
    response = await post(client, headers, [s, s, mark, {**mark, "price": 101.0, "event_id": "other"}])
    assert response.json() == {"accepted": 2, "duplicates": 2}


async def test_one_bad_event_rejects_the_whole_batch(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    batch = mixed_batch(500)
    batch[317] = signal(conviction=1.5)
    response = await post(client, headers, batch)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_events" and problem["status"] == 422
    assert [(e["index"], e["loc"]) for e in problem["errors"]] == [(317, "conviction")]
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.mark.parametrize(
    ("event", "loc"),
    [
        (signal(ts="2026-01-01T00:00:00"), "ts"),  # naive time
        # ahead of the server by far more than the 5-minute allowance: the value is computed when the
        # suite is collected, and a loaded run reaches this case many minutes later
        (signal(ts=_now_ms() + 30 * 86_400_000), "ts"),
        (signal(ts="yesterday"), "ts"),
        (signal(ts=True), "ts"),
        (signal(price=0), "price"),
        (signal(price="100"), "price"),  # numbers must be numbers
        (signal(direction="up"), "direction"),
        (signal(components={}), "components"),
        (signal(components={f"c{i}": 1.0 for i in range(65)}), "components"),
        (signal(components={"ofi": "high"}), "components.ofi"),
        (signal(decision="blocked"), ""),  # blocked_by required iff blocked
        (signal(blocked_by="fee_gate"), ""),
        (signal(event_id=""), "event_id"),
        (signal(event_id="x" * 129), "event_id"),
        (signal(colour="red"), "colour"),  # unknown fields are rejected
        (trade(ts=1_767_225_600_000, opened_at=1_767_225_700_000), ""),  # closed before opened
        (trade(fees=-1.0), "fees"),
        (trade(quantity=0), "quantity"),
        (price(symbol=""), "symbol"),
        (signal(symbol="BTC\x00USDT"), "symbol"),  # NUL cannot be stored in a text column
        (signal(strategy="momo\x00"), "strategy"),
        (trade(signal_event_id="s\x001"), "signal_event_id"),
        ({"type": "quote", "event_id": "q"}, "type"),
        ({"event_id": "no-type"}, "type"),
        ("not an object", ""),
    ],
)
async def test_each_validation_rule_names_the_field(client: httpx.AsyncClient, event: Any, loc: str) -> None:
    headers = await create_bot(client)
    response = await post(client, headers, [price(), event])
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {e["index"] for e in errors} == {1}
    assert loc in {e["loc"] for e in errors}, errors
    if "\x00" in str(event):
        assert [e["msg"] for e in errors if e["loc"] == loc] == ["must not contain the NUL character (\\u0000)"]


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
async def test_non_finite_json_tokens_are_a_422_naming_the_event(client: httpx.AsyncClient, token: bytes) -> None:
    headers = await create_bot(client)
    body = (
        b'{"events": ['
        + orjson.dumps(price())
        + b","
        + orjson.dumps(signal()).replace(b'"price":100.0', b'"price":' + token)
        + b"]}"
    )
    response = await client.post(
        "/v1/bots/alpha/events", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert [(e["index"], e["loc"]) for e in response.json()["errors"]] == [(1, "price")]


async def test_non_finite_component_is_rejected(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    body = b'{"events": [' + orjson.dumps(signal()).replace(b'"ofi":1.0', b'"ofi":NaN') + b"]}"
    response = await client.post(
        "/v1/bots/alpha/events", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "components.ofi"


async def test_rfc3339_with_offset_and_epoch_ms_are_the_same_time(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    a = price(ts="2026-01-02T04:04:05.123+01:00")
    b = price(ts=1_767_323_045_123)
    assert (await post(client, headers, [a, b])).json() == {"accepted": 1, "duplicates": 1}


async def test_old_times_are_fine_for_backfill(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await post(client, headers, [price(ts="2019-03-01T00:00:00Z")])
    assert response.json() == {"accepted": 1, "duplicates": 0}


@pytest.mark.parametrize("body", [b"{not json", b"\x80\xfe", b""], ids=["broken", "binary", "empty"])
async def test_body_that_is_not_json_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    headers = await create_bot(client)
    response = await client.post(
        "/v1/bots/alpha/events", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"


@pytest.mark.parametrize("doc", [[], {"evts": []}, {"events": {}}, {"events": [], "x": 1}])
async def test_body_of_the_wrong_shape_is_422(client: httpx.AsyncClient, doc: Any) -> None:
    headers = await create_bot(client)
    response = await client.post("/v1/bots/alpha/events", json=doc, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_batch"


async def test_unknown_bot_is_404_for_admin(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/bots/ghost/events", json={"events": [price()]}, headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["code"] == "bot_not_found"
