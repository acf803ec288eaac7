"""A real gRPC server on 127.0.0.1, port 0, over the test database, and a real channel to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import grpc
import httpx
import pytest

from api.grpc.convert import event_from_dict
from api.grpc.server import start_grpc_server, stop_grpc_server
from core.services.context import ServiceContext
from core.settings import Settings
from proto.edgeloop.v1 import learning_pb2, learning_pb2_grpc
from tests.builders import create_bot
from tests.conftest import ADMIN_TOKEN

Metadata = tuple[tuple[str, str], ...]
ADMIN_MD: Metadata = (("authorization", f"Bearer {ADMIN_TOKEN}"),)


def bearer(headers: Mapping[str, str]) -> Metadata:
    """REST auth headers -> gRPC metadata."""
    return (("authorization", headers["Authorization"]),)


def batch(bot_id: str, events: Iterable[Mapping[str, Any]]) -> learning_pb2.IngestEventsRequest:
    return learning_pb2.IngestEventsRequest(bot_id=bot_id, events=[event_from_dict(e) for e in events])


@pytest.fixture
async def grpc_ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    """The gRPC server's own service context (as a separate process would have)."""
    ctx = ServiceContext.create(settings)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def grpc_port(grpc_ctx: ServiceContext) -> AsyncIterator[int]:
    """A server on an ephemeral port."""
    server, port = await start_grpc_server(grpc_ctx, "127.0.0.1", 0, health_interval_s=0.1)
    try:
        yield port
    finally:
        await stop_grpc_server(server, 0.5)


@pytest.fixture
async def channel(grpc_port: int) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as chan:
        yield chan


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> learning_pb2_grpc.LearningServiceStub:
    return learning_pb2_grpc.LearningServiceStub(channel)


@pytest.fixture
async def alpha(client: httpx.AsyncClient) -> Metadata:
    """Bot "alpha" created over REST; its key as gRPC metadata."""
    return bearer(await create_bot(client, "alpha"))
