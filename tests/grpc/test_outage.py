"""A database that becomes unreachable answers UNAVAILABLE over gRPC (same code as REST), and recovers by itself."""

from __future__ import annotations

import logging

import grpc
import httpx
import pytest

from api.grpc.interceptor import error_detail
from api.grpc.server import start_grpc_server, stop_grpc_server
from core.services.context import ServiceContext
from core.settings import Settings
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import create_bot
from tests.conftest import ADMIN, ADMIN_TOKEN
from tests.grpc.conftest import ADMIN_MD
from tests.outage import PG_ONLY, REFUSED_URL, UNAVAILABLE_DETAIL, outage


def assert_unavailable(error: grpc.aio.AioRpcError) -> None:
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == UNAVAILABLE_DETAIL
    detail = error_detail(error)
    assert detail is not None and (detail.code, detail.title) == ("database_unavailable", "Database unavailable")
    assert dict(error.trailing_metadata())["edgeloop-code"] == "database_unavailable"  # type: ignore[arg-type]


@PG_ONLY
async def test_a_database_that_goes_away_answers_unavailable_until_it_comes_back(
    client: httpx.AsyncClient, stub: LearningServiceStub, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await create_bot(client, "alpha")
    request = learning_pb2.GetParamsRequest(bot_id="alpha")
    async with outage(database_url):
        caplog.clear()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetParams(request, metadata=ADMIN_MD)
        assert_unavailable(caught.value)
        [record] = [r for r in caplog.records if r.name == "edgeloop.grpc"]  # logged once, server-side
        assert record.levelno == logging.WARNING and "GetParams" in record.getMessage()
        with pytest.raises(grpc.aio.AioRpcError) as streamed:
            await stub.WatchParams(learning_pb2.WatchParamsRequest(bot_id="alpha"), metadata=ADMIN_MD).read()
        assert_unavailable(streamed.value)
        # Parity: REST names the same failure with the same code.
        rest = await client.get("/v1/bots/alpha/params", headers=ADMIN)
        assert rest.status_code == 503 and rest.json()["code"] == "database_unavailable"
    reply = await stub.GetParams(request, metadata=ADMIN_MD)  # back without a restart
    assert reply.version == 1 and reply.document.bot_id == "alpha"


async def test_a_refused_connection_answers_unavailable() -> None:
    ctx = ServiceContext.create(Settings(database_url=REFUSED_URL, admin_token=ADMIN_TOKEN, redis_url=None))  # type: ignore[arg-type]
    server, port = await start_grpc_server(ctx, "127.0.0.1", 0, health_interval_s=0.1)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await LearningServiceStub(channel).GetCycle(
                    learning_pb2.GetCycleRequest(bot_id="alpha", cycle_id="c_1"), metadata=ADMIN_MD
                )
        assert_unavailable(caught.value)
    finally:
        await stop_grpc_server(server, 0.5)
        await ctx.close()
