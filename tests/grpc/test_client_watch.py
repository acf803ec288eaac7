"""edgeloop_client's ParamWatcher over a real gRPC WatchParams stream (the client's hand-written decoder
against the server's generated encoder): same document as REST, switches on a new version, reports it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
from edgeloop_client import Params, ParamWatcher
from edgeloop_client.grpc_watch import DOCUMENT

from tests.builders import create_bot
from tests.conftest import ADMIN


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_grpc_watcher_serves_the_rest_document_and_follows_new_versions(
    grpc_port: int, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    headers = await create_bot(client, "alpha", config={"params_ttl": "3h"})
    key = headers["Authorization"].removeprefix("Bearer ")
    seen: list[Params] = []
    watcher = ParamWatcher(
        "http://127.0.0.1:1",  # unused: the watcher talks gRPC
        "alpha",
        key,
        grpc_target=f"127.0.0.1:{grpc_port}",
        cache_path=tmp_path / "p.json",
        wait_s=2,
        on_update=seen.append,
    ).start()
    try:
        await _until(lambda: len(seen) == 1)
        rest = (await client.get("/v1/bots/alpha/params", headers=headers)).json()
        fields = [name for name, _, _ in DOCUMENT.values()]
        assert {k: watcher.params.document[k] for k in fields} == {k: rest[k] for k in fields}
        rolled = await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)
        assert rolled.status_code == 201
        await _until(lambda: watcher.params.version == 2)
        assert [p.version for p in seen] == [1, 2] and watcher.active_version == 2
        for _ in range(200):  # ReportActivation follows the switch
            history = (await client.get("/v1/bots/alpha/activations", headers=headers)).json()["items"]
            if history[0]["version"] == 2:
                break
            await asyncio.sleep(0.02)
        assert [h["version"] for h in history] == [2, 1]
    finally:
        await asyncio.to_thread(watcher.close)
