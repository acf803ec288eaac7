"""Activations over gRPC: ReportActivation, the metadata header on GetParams, expires_at, GetHealth."""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest

from proto.edgeloop.v1 import learning_pb2, learning_pb2_grpc
from tests.grpc.conftest import Metadata


async def test_report_activation_and_the_metadata_header_reach_the_rest_history(
    stub: learning_pb2_grpc.LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    done = await stub.ReportActivation(learning_pb2.ReportActivationRequest(bot_id="alpha", version=1), metadata=alpha)
    assert done.version == 1 and done.first_seen and done.key_id.startswith("k_")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ReportActivation(learning_pb2.ReportActivationRequest(bot_id="alpha", version=5), metadata=alpha)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.value.trailing_metadata() or ())["edgeloop-code"] == "unknown_version"

    response = await stub.GetParams(
        learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=(*alpha, ("edgeloop-active-version", "1"))
    )
    assert response.document.expires_at > response.document.created_at
    health = await stub.GetHealth(learning_pb2.GetHealthRequest(bot_id="alpha"), metadata=alpha)
    assert (health.current_version, health.active_version) == (1, 1)
    headers = {"Authorization": dict(alpha)["authorization"]}
    await asyncio.sleep(0.05)
    items = (await client.get("/v1/bots/alpha/activations", headers=headers)).json()["items"]
    assert [(a["version"], a["key_id"]) for a in items] == [(1, done.key_id)]  # one stretch: same key, version
