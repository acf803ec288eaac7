"""TriggerCycle, GetCycle and GetHealth over gRPC."""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest

from api.grpc.interceptor import error_detail
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.conftest import ADMIN
from tests.grpc.conftest import ADMIN_MD, Metadata

CONTINUOUS = learning_pb2.CYCLE_KIND_CONTINUOUS


async def test_bot_key_queues_a_dry_run_and_reads_it_back(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    queued = await stub.TriggerCycle(
        learning_pb2.TriggerCycleRequest(bot_id="alpha", kind=CONTINUOUS, dry_run=True), metadata=alpha
    )
    assert queued.status == learning_pb2.CYCLE_STATUS_QUEUED and queued.cycle_id
    cycle = await stub.GetCycle(learning_pb2.GetCycleRequest(bot_id="alpha", cycle_id=queued.cycle_id), metadata=alpha)
    rest = (await client.get(f"/v1/bots/alpha/cycles/{queued.cycle_id}", headers=ADMIN)).json()
    assert (cycle.cycle_id, cycle.bot_id, cycle.kind, cycle.dry_run) == (queued.cycle_id, "alpha", CONTINUOUS, True)
    assert cycle.status == learning_pb2.CYCLE_STATUS_QUEUED and cycle.queued_at == rest["queued_at"]
    assert not cycle.HasField("started_at") and not cycle.HasField("applied_version")


async def test_bot_key_asking_for_a_real_cycle_is_permission_denied(stub: LearningServiceStub, alpha: Metadata) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.TriggerCycle(learning_pb2.TriggerCycleRequest(bot_id="alpha", kind=CONTINUOUS), metadata=alpha)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    detail = error_detail(caught.value)
    assert detail is not None and detail.code == "admin_required"
    admin = await stub.TriggerCycle(
        learning_pb2.TriggerCycleRequest(bot_id="alpha", kind=CONTINUOUS), metadata=ADMIN_MD
    )
    assert admin.status == learning_pb2.CYCLE_STATUS_QUEUED


async def test_missing_kind_and_unknown_cycle(stub: LearningServiceStub, alpha: Metadata) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.TriggerCycle(learning_pb2.TriggerCycleRequest(bot_id="alpha", dry_run=True), metadata=alpha)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail(caught.value)
    assert detail is not None and [e.loc for e in detail.errors] == ["kind"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetCycle(learning_pb2.GetCycleRequest(bot_id="alpha", cycle_id="nope"), metadata=alpha)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    detail = error_detail(caught.value)
    assert detail is not None and detail.code == "cycle_not_found"


async def test_get_health_is_the_rest_document(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    health = await stub.GetHealth(learning_pb2.GetHealthRequest(bot_id="alpha"), metadata=alpha)
    rest = (await client.get("/v1/bots/alpha/health", headers=ADMIN)).json()
    assert learning_pb2.HealthLevel.Name(health.level) == "HEALTH_LEVEL_" + rest["level"].upper()
    assert [p.code for p in health.problems] == [p["code"] for p in rest["problems"]]
    assert health.counts.signals == rest["counts"]["signals"] == 0


async def test_get_health_carries_the_evidence_of_the_last_cycle(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    before = await stub.GetHealth(learning_pb2.GetHealthRequest(bot_id="alpha"), metadata=alpha)
    assert not before.HasField("evidence")
    queued = await client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)
    cycle_id = queued.json()["cycle_id"]
    async with asyncio.timeout(15):  # the REST app's embedded runner runs it
        while True:
            record = (await client.get(f"/v1/bots/alpha/cycles/{cycle_id}", headers=ADMIN)).json()
            if record["status"] == "succeeded":
                break
            await asyncio.sleep(0.05)
    health = await stub.GetHealth(learning_pb2.GetHealthRequest(bot_id="alpha"), metadata=alpha)
    rest = (await client.get("/v1/bots/alpha/health", headers=ADMIN)).json()
    assert health.evidence.cycle_id == rest["evidence"]["cycle_id"] == cycle_id
    assert health.evidence.as_of == rest["evidence"]["as_of"]
    # Levels and statuses are enums, the same values as the REST strings.
    assert health.last_cycles["continuous"].status == learning_pb2.CYCLE_STATUS_SUCCEEDED
    assert learning_pb2.HealthLevel.Name(health.level) == "HEALTH_LEVEL_" + rest["level"].upper()
    assert [learning_pb2.ComponentStatus.Name(c.status) for c in health.components] == [
        "COMPONENT_STATUS_" + c["status"].upper() for c in rest["components"]
    ]
