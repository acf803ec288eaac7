"""Hardening over gRPC (issue 11, items 6, 11 and 13): the REST rules, the same codes, useful errors."""

from __future__ import annotations

import grpc
import httpx
import pytest

from api.grpc.interceptor import COMMITTED_KEYS, error_detail
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import mixed_batch, price, row_counts, signal
from tests.conftest import ADMIN
from tests.grpc.conftest import ADMIN_MD, Metadata, batch


async def failure(call: object) -> tuple[grpc.StatusCode, str, grpc.aio.AioRpcError]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    detail = error_detail(caught.value)
    assert detail is not None
    return caught.value.code(), detail.code, caught.value


@pytest.mark.parametrize(
    ("bot", "cycle", "rest_path", "code"),
    [
        ("a\x00b", None, "/v1/bots/a%00b/health", "bot_not_found"),
        ("alpha", "a\x00b", "/v1/bots/alpha/cycles/a%00b", "cycle_not_found"),
        ("a\x00b", "c", "/v1/bots/a%00b/cycles/c", "bot_not_found"),
        ("alpha", "x" * 10_000, "/v1/bots/alpha/cycles/" + "x" * 10_000, "cycle_not_found"),
    ],
)
async def test_impossible_ids_are_not_found_on_both_doors(
    stub: LearningServiceStub,
    client: httpx.AsyncClient,
    alpha: Metadata,
    bot: str,
    cycle: str | None,
    rest_path: str,
    code: str,
) -> None:
    if cycle is None:
        call = stub.GetHealth(learning_pb2.GetHealthRequest(bot_id=bot), metadata=ADMIN_MD)
    else:
        call = stub.GetCycle(learning_pb2.GetCycleRequest(bot_id=bot, cycle_id=cycle), metadata=ADMIN_MD)
    status, grpc_code, error = await failure(call)
    assert (status, grpc_code) == (grpc.StatusCode.NOT_FOUND, code)
    assert len(error.details() or "") < 600  # a 10k-character id is not echoed whole
    rest = await client.get(rest_path, headers=ADMIN)
    assert (rest.status_code, rest.json()["code"]) == (404, code)


@pytest.mark.parametrize("ts", [1796393000, "2026-W01-5T03:04:05Z", "20260102T030405Z"])
async def test_times_outside_the_contract_same_error_on_both_doors(
    stub: LearningServiceStub, client: httpx.AsyncClient, alpha: Metadata, database_url: str, ts: object
) -> None:
    events = [signal(), signal(ts=ts)]
    status, code, error = await failure(stub.IngestEvents(batch("alpha", events), metadata=alpha))
    detail = error_detail(error)
    assert detail is not None
    rest = await client.post("/v1/bots/alpha/events", json={"events": events}, headers={"Authorization": alpha[0][1]})
    assert (
        (status, code)
        == (grpc.StatusCode.INVALID_ARGUMENT, rest.json()["code"])
        == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid_events",
        )
    )
    assert [{"index": e.index, "loc": e.loc, "msg": e.msg} for e in detail.errors] == rest.json()["errors"]
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


async def test_stream_error_reports_what_was_committed_before_it(
    stub: LearningServiceStub, alpha: Metadata, database_url: str
) -> None:
    requests = [
        batch("alpha", mixed_batch(3)),
        batch("alpha", mixed_batch(6)),
        batch("alpha", [signal(), signal(conviction=-1.0)]),
    ]
    status, code, error = await failure(stub.StreamEvents(iter(requests), metadata=alpha))
    assert (status, code) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_events")
    detail = error.details() or ""
    assert detail.startswith("batch 2: ")
    assert "nothing was stored" not in detail
    assert "2 earlier batch(es) were stored (9 accepted, 0 duplicates)" in detail
    trailers = dict(error.trailing_metadata() or ())
    assert [trailers[k] for k in COMMITTED_KEYS] == ["2", "9", "0"]
    assert await row_counts(database_url) == {"signals": 3, "trades": 3, "prices": 3}


async def test_huge_echoed_ids_do_not_overflow_the_trailers(
    stub: LearningServiceStub, alpha: Metadata, database_url: str
) -> None:
    long_id = "e" * 10_000
    events = [price(), *[signal(components={f"{long_id}{i}": 1.0}) for i in range(300)]]  # loc echoes the name
    status, code, error = await failure(stub.IngestEvents(batch("alpha", events), metadata=alpha))
    assert (status, code) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_events")
    detail = error_detail(error)
    assert detail is not None and detail.errors  # the first errors are there, the rest counted
    assert "more field errors not shown" in detail.detail
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}
    # And a stream whose failing batch echoes a 10k-character id.
    requests = [batch("alpha", [price()]), batch("alpha", [signal(components={long_id: 1.0})])]
    status, code, error = await failure(stub.StreamEvents(iter(requests), metadata=alpha))
    assert (status, code) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_events")


@pytest.mark.parametrize("method", ["GetHealth", "GetCycle", "IngestEvents", "StreamEvents"])
async def test_bad_utf8_in_a_request_is_invalid_argument(
    channel: grpc.aio.Channel, alpha: Metadata, method: str
) -> None:
    raw = b"\x0a\x03a\xffb"  # field 1 (bot_id) holding 3 bytes that are not UTF-8
    path = f"/edgeloop.v1.LearningService/{method}"
    if method == "StreamEvents":
        call = channel.stream_unary(path)(iter([raw]), metadata=ADMIN_MD)
    else:
        call = channel.unary_unary(path)(raw, metadata=ADMIN_MD)
    status, code, _ = await failure(call)
    assert (status, code) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_body")
