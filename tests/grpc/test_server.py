"""Standard health (flips with the database) and server reflection."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from api.grpc.interceptor import SERVICE_NAME, error_detail
from core.services.context import ServiceContext
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.conftest import pg_admin
from tests.grpc.conftest import ADMIN_MD

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _eventually(channel: grpc.aio.Channel, service: str, wanted: int, within_s: float = 5.0) -> None:
    """Wait (on the standard Watch stream) until ``service`` reports ``wanted``."""
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=service))
    try:
        async with asyncio.timeout(within_s):
            async for update in watch:
                if update.status == wanted:
                    return
    finally:
        watch.cancel()


async def test_health_is_serving_for_the_server_and_the_service(channel: grpc.aio.Channel) -> None:
    await _eventually(channel, "", SERVING)
    await _eventually(channel, SERVICE_NAME, SERVING)


async def test_health_flips_to_not_serving_when_the_database_goes_away(
    channel: grpc.aio.Channel, stub: LearningServiceStub, database_url: str, grpc_ctx: ServiceContext
) -> None:
    await _eventually(channel, SERVICE_NAME, SERVING)
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert (await watch.read()).status == SERVING
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        path.unlink()
        path.mkdir()  # the file is now a directory: SQLite cannot open it
        await grpc_ctx.engine.dispose()  # drop pooled connections to the old file
    else:
        conn = await pg_admin()
        try:
            await conn.execute(f'DROP DATABASE "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await conn.close()
    update = await asyncio.wait_for(watch.read(), 5)
    assert update.status == NOT_SERVING
    watch.cancel()
    await _eventually(channel, "", NOT_SERVING)
    # A call that needs the database says it is unavailable, without leaking what went wrong inside.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=ADMIN_MD)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert caught.value.details() == "The database is unavailable; retry later."
    detail = error_detail(caught.value)
    assert detail is not None and detail.code == "database_unavailable"


async def _reflect(channel: grpc.aio.Channel, request: reflection_pb2.ServerReflectionRequest) -> Any:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo()
    await call.write(request)
    response = await call.read()
    await call.done_writing()
    return response


async def test_reflection_lists_and_describes_the_service(channel: grpc.aio.Channel) -> None:
    listed = await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in listed.list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    described = await _reflect(channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME))
    files = described.file_descriptor_response.file_descriptor_proto
    assert any(b"LearningService" in f for f in files)
