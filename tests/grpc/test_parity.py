"""The same failure gives the same stable `code` (and the same field errors) over REST and gRPC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest

from api.grpc.interceptor import error_detail
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import create_bot, mixed_batch, price, signal, trade
from tests.grpc.conftest import Metadata, batch


async def _grpc_failure(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str, list[tuple[int | None, str]]]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    detail = error_detail(caught.value)
    assert detail is not None
    assert dict(caught.value.trailing_metadata())["edgeloop-code"] == detail.code
    assert caught.value.details() == detail.detail
    return caught.value.code(), detail.code, [(e.index if e.HasField("index") else None, e.loc) for e in detail.errors]


def _rest_failure(response: httpx.Response) -> tuple[int, str, list[tuple[int | None, str]]]:
    problem = response.json()
    return response.status_code, problem["code"], [(e.get("index"), e["loc"]) for e in problem.get("errors", [])]


BAD_BATCH = [signal(), signal(conviction=2.0), trade(fees=-1.0), price(price=0.0), {"type": "price", "symbol": "X"}]

CASES: dict[str, tuple[int, grpc.StatusCode]] = {
    "no_key": (401, grpc.StatusCode.UNAUTHENTICATED),
    "bad_key": (401, grpc.StatusCode.UNAUTHENTICATED),
    "other_bot": (404, grpc.StatusCode.NOT_FOUND),
    "bad_batch": (422, grpc.StatusCode.INVALID_ARGUMENT),
    "too_many": (413, grpc.StatusCode.RESOURCE_EXHAUSTED),
}


@pytest.mark.parametrize("case", CASES)
async def test_same_failure_same_code(
    case: str, stub: LearningServiceStub, client: httpx.AsyncClient, alpha: Metadata
) -> None:
    await create_bot(client, "beta")
    headers = {"Authorization": alpha[0][1]}
    bot, events, md = "alpha", mixed_batch(3), alpha
    if case == "no_key":
        headers, md = {}, ()
    elif case == "bad_key":
        headers, md = {"Authorization": "Bearer elk_nope"}, (("authorization", "Bearer elk_nope"),)
    elif case == "other_bot":
        bot = "beta"
    elif case == "bad_batch":
        events = BAD_BATCH
    elif case == "too_many":
        events = [price(ts=1_767_225_600_000 + i) for i in range(10_001)]
    rest = _rest_failure(await client.post(f"/v1/bots/{bot}/events", json={"events": events}, headers=headers))
    request = learning_pb2.IngestEventsRequest(bot_id=bot, events=batch(bot, events).events)
    over_grpc = await _grpc_failure(stub.IngestEvents(request, metadata=md))
    assert (rest[0], over_grpc[0]) == CASES[case]
    assert rest[1:] == over_grpc[1:]


async def test_bad_batch_errors_are_the_rest_errors_field_by_field(
    stub: LearningServiceStub, client: httpx.AsyncClient, alpha: Metadata
) -> None:
    rest = (
        await client.post("/v1/bots/alpha/events", json={"events": BAD_BATCH}, headers={"Authorization": alpha[0][1]})
    ).json()["errors"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.IngestEvents(batch("alpha", BAD_BATCH), metadata=alpha)
    detail = error_detail(caught.value)
    assert detail is not None
    assert [{"index": e.index, "loc": e.loc, "msg": e.msg} for e in detail.errors] == rest


Call = Callable[[LearningServiceStub, Metadata], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "GetParams": lambda s, md: s.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=md),
    "StreamEvents": lambda s, md: s.StreamEvents(iter([batch("alpha", mixed_batch(3))]), metadata=md),
    "GetCycle": lambda s, md: s.GetCycle(learning_pb2.GetCycleRequest(bot_id="alpha", cycle_id="x"), metadata=md),
    "TriggerCycle": lambda s, md: s.TriggerCycle(learning_pb2.TriggerCycleRequest(bot_id="alpha"), metadata=md),
    "WatchParams": lambda s, md: s.WatchParams(learning_pb2.WatchParamsRequest(bot_id="alpha"), metadata=md).read(),
}


async def test_every_method_needs_a_key(stub: LearningServiceStub, alpha: Metadata) -> None:
    for method, call in CALLS.items():
        for md in ((), (("authorization", "Bearer elk_nope"),), (("authorization", "Basic abc"),)):
            status, code, _ = await _grpc_failure(call(stub, md))
            assert (status, code) == (grpc.StatusCode.UNAUTHENTICATED, "unauthenticated"), (method, md)
