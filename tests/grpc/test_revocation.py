"""A revoked key ends the live gRPC calls made with it (DESIGN.md section 11): an open WatchParams stream ends
UNAUTHENTICATED within a second, although the revocation was made by another process (the REST app's context)."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
import pytest

from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import create_bot
from tests.conftest import ADMIN


async def test_an_open_watch_ends_unauthenticated_once_its_key_is_revoked(
    stub: LearningServiceStub, client: httpx.AsyncClient
) -> None:
    await create_bot(client, "alpha")
    created = (await client.post("/v1/bots/alpha/keys", headers=ADMIN)).json()
    metadata = (("authorization", f"Bearer {created['api_key']}"),)
    call = stub.WatchParams(learning_pb2.WatchParamsRequest(bot_id="alpha", known_version=1), metadata=metadata)
    try:
        await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
        assert (await asyncio.wait_for(call.read(), 2)).document.version == 2  # the stream is live
        revoked = time.monotonic()
        assert (await client.delete(f"/v1/bots/alpha/keys/{created['key_id']}", headers=ADMIN)).status_code == 204
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(call.read(), 5)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert time.monotonic() - revoked < 1.0
    finally:
        call.cancel()
    fresh = stub.WatchParams(learning_pb2.WatchParamsRequest(bot_id="alpha"), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await asyncio.wait_for(fresh.read(), 5)
    assert again.value.code() == grpc.StatusCode.UNAUTHENTICATED
