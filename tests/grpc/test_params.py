"""GetParams and WatchParams over gRPC."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
import pytest

from api.grpc.interceptor import error_detail
from proto.edgeloop.v1 import learning_pb2, params_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import create_bot
from tests.conftest import ADMIN
from tests.grpc.conftest import Metadata, bearer


async def test_get_params_is_the_rest_document(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    response = await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=alpha)
    rest = (await client.get("/v1/bots/alpha/params", headers=ADMIN)).json()
    doc = response.document
    assert response.version == doc.version == rest["version"] == 1 and not response.not_modified
    assert doc.source == params_pb2.PARAM_SOURCE_DEFAULT and not doc.HasField("cycle_id")
    assert (doc.bot_id, doc.created_at, doc.default_weight) == (rest["bot_id"], rest["created_at"], 1.0)
    assert [(b.min_conviction, b.max_conviction, b.multiplier) for b in doc.sizing.buckets] == [
        (b["min_conviction"], b["max_conviction"], b["multiplier"]) for b in rest["sizing"]["buckets"]
    ]
    assert (doc.hold_time.default.target_s, doc.hold_time.default.max_s) == (
        rest["hold_time"]["default"]["target_s"],
        rest["hold_time"]["default"]["max_s"],
    )
    assert doc.gates.conviction.min_conviction == rest["gates"]["conviction"]["min_conviction"]


async def test_known_version_answers_not_modified_quickly(stub: LearningServiceStub, alpha: Metadata) -> None:
    started = time.monotonic()
    response = await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha", known_version=1), metadata=alpha)
    assert time.monotonic() - started < 0.5
    assert response.not_modified and response.version == 1 and not response.HasField("document")


async def test_long_poll_returns_the_new_version(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    request = learning_pb2.GetParamsRequest(bot_id="alpha", known_version=1, wait_s=10)
    call = asyncio.ensure_future(stub.GetParams(request, metadata=alpha))
    await asyncio.sleep(0.2)
    assert not call.done()
    assert (await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)).status_code == 201
    response = await asyncio.wait_for(call, 2)
    assert response.version == 2 and response.document.source == params_pb2.PARAM_SOURCE_ROLLBACK


async def test_another_bots_params_are_not_found(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    beta = bearer(await create_bot(client, "beta"))
    for bot_id, key in (("beta", alpha), ("alpha", beta), ("nobody", alpha)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetParams(learning_pb2.GetParamsRequest(bot_id=bot_id), metadata=key)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        detail = error_detail(caught.value)
        assert detail is not None and detail.code == "bot_not_found"


async def test_watch_sends_current_then_each_new_version_within_a_second(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    call = stub.WatchParams(learning_pb2.WatchParamsRequest(bot_id="alpha"), metadata=alpha)
    try:
        first = await asyncio.wait_for(call.read(), 2)
        assert first.document.version == 1
        for expected in (2, 3):
            response = await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
            assert response.status_code == 201
            started = time.monotonic()
            update = await asyncio.wait_for(call.read(), 1.0)
            assert update.document.version == expected and time.monotonic() - started < 1.0
            assert update.document.source == params_pb2.PARAM_SOURCE_ROLLBACK
    finally:
        call.cancel()


async def test_watch_from_a_known_version_skips_it(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    call = stub.WatchParams(learning_pb2.WatchParamsRequest(bot_id="alpha", known_version=1), metadata=alpha)
    try:
        await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
        update = await asyncio.wait_for(call.read(), 1.5)
        assert update.document.version == 2
    finally:
        call.cancel()


async def test_watch_another_bot_is_not_found(stub: LearningServiceStub, alpha: Metadata) -> None:
    call = stub.WatchParams(learning_pb2.WatchParamsRequest(bot_id="beta"), metadata=alpha)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
