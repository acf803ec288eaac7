"""Issue 11, items 3 and 4: Redis restarts during a run; no cycle is lost, none is doubled, nobody restarts
the worker.

The test owns its redis-server (a free loopback port, no persistence, like the default compose Redis),
kills it and starts it again on the same port while the API and a worker (``run_until_stopped``, what
``edgeloop worker`` runs) keep going.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from api.rest.app import create_app
from core.services import cycles
from core.services.context import ServiceContext
from core.settings import Settings
from core.store import repos
from tests.conftest import ADMIN, REQUIRE_SERVICES
from tests.workers.conftest import eventually
from workers.settings import run_until_stopped


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A redis-server this test starts and kills (SIGKILL: whatever it held is gone)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if REQUIRE_SERVICES:
                pytest.fail("redis-server not installed and EDGELOOP_REQUIRE_SERVICES=1")
            pytest.skip("redis-server not installed")
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                subprocess.run(["sleep", "0.025"], check=True)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


@pytest.fixture
def restart_settings(settings: Settings, own_redis: OwnRedis) -> Settings:
    return settings.model_copy(update={"redis_url": own_redis.url})


@pytest.fixture
async def api(restart_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceContext]]:
    app = create_app(restart_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://edgeloop.test") as http:
            yield http, app.state.ctx


async def cycle_rows(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await http.get("/v1/bots/alpha/cycles", headers=ADMIN)).json()["items"]
    return items


async def finished(http: httpx.AsyncClient, cycle_id: str) -> bool:
    record = (await http.get(f"/v1/bots/alpha/cycles/{cycle_id}", headers=ADMIN)).json()
    assert record["status"] != "failed", record
    return bool(record["status"] == "succeeded")


async def test_redis_restart_loses_no_cycle_and_the_worker_carries_on(
    api: tuple[httpx.AsyncClient, ServiceContext], restart_settings: Settings, own_redis: OwnRedis
) -> None:
    http, ctx = api
    assert (await http.post("/v1/bots", json={"id": "alpha"}, headers=ADMIN)).status_code == 201
    stop = asyncio.Event()
    worker = asyncio.ensure_future(
        run_until_stopped(restart_settings, stop, poll_delay_s=0.05, min_backoff_s=0.2, max_backoff_s=1.0, grace_s=1.0)
    )
    try:
        first = (await http.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)).json()
        await eventually(lambda: finished(http, first["cycle_id"]))

        own_redis.kill()
        # Item 4: a trigger with the queue down is a 503 that commits nothing; retrying it changes nothing.
        for _ in range(3):
            refused = await http.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "queue_unavailable"
            assert int(refused.headers["retry-after"]) > 0
        assert len(await cycle_rows(http)) == 1
        # A cycle the schedule queues during the outage: committed, its job could not be sent.
        async with ctx.sessions.begin() as session:
            await repos.lock_bot(session, "alpha")
            lost = await cycles.queue_cycle(session, "alpha", "comprehensive", False, "system", ctx.clock())
        await cycles.enqueue(ctx, "alpha", lost.id)  # logged, not raised: recovery owns it now
        await asyncio.sleep(1.5)  # the worker has lost Redis by now and is backing off
        assert not worker.done()

        own_redis.start()  # empty: whatever the old one held is gone
        await eventually(lambda: finished(http, lost.id), timeout_s=30)
        after = (await http.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)).json()
        await eventually(lambda: finished(http, after["cycle_id"]), timeout_s=30)
        assert not worker.done()
    finally:
        stop.set()
        restarts = await asyncio.wait_for(worker, 30)
    assert restarts >= 1
    rows = await cycle_rows(http)
    assert sorted(r["cycle_id"] for r in rows) == sorted([first["cycle_id"], lost.id, after["cycle_id"]])
    assert all(r["status"] == "succeeded" for r in rows)
