"""Issue 11, item 4 on both doors: a trigger while the queue is down is UNAVAILABLE / 503
``queue_unavailable`` (REST with Retry-After), and nothing is committed, so a retry never doubles a cycle."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from api.grpc.interceptor import error_detail
from api.rest.app import create_app
from core.services.context import ServiceContext
from core.settings import Settings
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.conftest import ADMIN
from tests.grpc.conftest import ADMIN_MD
from workers.queue import ArqJobQueue, arq_redis


def refused_redis_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def down_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"redis_url": refused_redis_url()})


@pytest.fixture
async def down_client(down_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(down_settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as http:
        yield http


async def test_trigger_with_the_queue_down_commits_nothing_on_both_doors(
    down_client: httpx.AsyncClient, down_settings: Settings, grpc_ctx: ServiceContext, stub: LearningServiceStub
) -> None:
    assert down_settings.redis_url
    redis = arq_redis(down_settings.redis_url)
    grpc_ctx.jobs = ArqJobQueue(redis)
    try:
        assert (await down_client.post("/v1/bots", json={"id": "alpha"}, headers=ADMIN)).status_code == 201
        for _ in range(2):  # a client retrying its 503
            rest = await down_client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)
            assert (rest.status_code, rest.json()["code"]) == (503, "queue_unavailable")
            assert rest.headers["retry-after"] == "5"
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.TriggerCycle(
                    learning_pb2.TriggerCycleRequest(bot_id="alpha", kind=learning_pb2.CYCLE_KIND_CONTINUOUS),
                    metadata=ADMIN_MD,
                )
            detail = error_detail(caught.value)
            assert detail is not None
            assert (caught.value.code(), detail.code) == (grpc.StatusCode.UNAVAILABLE, "queue_unavailable")
        listed = await down_client.get("/v1/bots/alpha/cycles", headers=ADMIN)
        assert listed.json()["items"] == []
        audit = (await down_client.get("/v1/bots/alpha/audit", headers=ADMIN)).json()["items"]
        assert "cycle_queued" not in {entry["action"] for entry in audit}
        health = (await down_client.get("/v1/bots/alpha/health", headers=ADMIN)).json()
        assert health["level"] == "error" and "queue_unavailable" in {p["code"] for p in health["problems"]}
        over_grpc = await stub.GetHealth(learning_pb2.GetHealthRequest(bot_id="alpha"), metadata=ADMIN_MD)
        assert "queue_unavailable" in {p.code for p in over_grpc.problems}
    finally:
        grpc_ctx.jobs = None
        await redis.aclose(close_connection_pool=True)
