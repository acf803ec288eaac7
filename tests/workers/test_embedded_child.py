"""`edgeloop serve`'s embedded jobs in a child process: a killed child loses no cycle, the API keeps serving."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.rest.app import create_app
from core.services import cycles
from core.services.context import ServiceContext
from core.settings import Settings
from core.store import repos
from tests.conftest import ADMIN
from tests.workers.conftest import eventually
from tests.workers.scenario import ADMIN_P, learnable_bot, learnable_events
from workers.child import ChildJobs
from workers.queue import open_job_queue

# The child, with an engine that hangs on its first call only: the first child is killed mid-cycle,
# the one started after it runs the real engine.
SLOW_ONCE_CHILD = """
import os, sys, time
import core.learn.cycle as engine
from workers.child import main

marker, real = sys.argv[1], engine.run_cycle

def slow_once(*args, **kwargs):
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(120)  # killed long before this returns
    return real(*args, **kwargs)

engine.run_cycle = slow_once
main()
"""


@pytest.fixture
async def child_ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    # A 2 s lease, so the dead child's cycle is recoverable soon; a params cache that only a
    # notification from the child can clear within this test.
    fast = settings.model_copy(update={"cycle_lease_s": 2, "params_cache_ttl_s": 60.0})
    context = ServiceContext.create(fast)
    try:
        yield context
    finally:
        await context.close()


async def test_killed_child_keeps_the_version_recovers_the_cycle_and_the_api_serves_throughout(
    child_ctx: ServiceContext, tmp_path: Path
) -> None:
    ctx = child_ctx
    await learnable_bot(ctx)
    script = tmp_path / "slow_once_child.py"
    script.write_text(textwrap.dedent(SLOW_ONCE_CHILD))
    jobs = ChildJobs(ctx, tick_s=0.2, command=(sys.executable, str(script), str(tmp_path / "killed-once")))
    ctx.jobs = jobs
    await jobs.start()
    app = create_app(ctx.settings, ctx=ctx)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as http:
        try:
            first = await http.get("/v1/bots/alpha/params", headers=ADMIN)
            assert first.headers["etag"] == '"1"'
            queued = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "continuous", False)

            async def status() -> str:
                return (await cycles.get_cycle(ctx, ADMIN_P, "alpha", queued.cycle_id)).status

            async def in_engine() -> bool:  # the cycle is claimed and the first child is computing it
                return (tmp_path / "killed-once").exists() and await status() == "running"

            await eventually(in_engine, 30)
            assert jobs.process is not None
            os.kill(jobs.process.pid, signal.SIGKILL)
            await jobs.process.wait()

            # The serving process answers while its child is dead, and the version is untouched.
            dead = await http.get("/v1/bots/alpha/params", headers=ADMIN)
            assert dead.status_code == 200 and dead.headers["etag"] == '"1"'
            more = learnable_events(n=5, prefix="late")
            for event in more:
                event["ts"] += 200 * 120_000
            posted = await http.post("/v1/bots/alpha/events", json={"events": more}, headers=ADMIN)
            assert posted.status_code == 200, posted.text
            poll = asyncio.ensure_future(
                http.get("/v1/bots/alpha/params?wait=30", headers={**ADMIN, "If-None-Match": '"1"'})
            )

            async def succeeded() -> bool:
                return await status() == "succeeded"

            await eventually(succeeded, 40)  # a new child, the lease runs out, its tick recovers
            woke = await asyncio.wait_for(poll, 10)
            assert woke.status_code == 200 and woke.headers["etag"] == '"2"'
            # The child's version cleared this process's 60 s params cache at once.
            now = await http.get("/v1/bots/alpha/params", headers=ADMIN)
            assert now.headers["etag"] == '"2"' and now.json()["cycle_id"] == queued.cycle_id
        finally:
            await jobs.stop()
    assert jobs.restarts == 1 and jobs.process is not None and jobs.process.returncode == 0
    async with ctx.sessions() as session:
        row = await repos.get_cycle(session, "alpha", queued.cycle_id)
        assert row is not None and row.applied_version == 2 and row.attempts == 2
        audit = await repos.list_audit(session, "alpha", before=None, limit=100)
    assert ("cycle_requeued", queued.cycle_id) in [(e.action, e.detail.get("cycle_id")) for e in audit]


async def test_serve_queue_runs_resolutions_and_retention_in_the_child_and_stops_it(ctx: ServiceContext) -> None:
    await learnable_bot(ctx)
    async with open_job_queue(ctx, tick_s=60, in_child=True) as jobs:
        assert isinstance(jobs, ChildJobs) and jobs.backend == "embedded"
        assert jobs.process is not None and jobs.process.pid != os.getpid()
        await jobs.enqueue_resolve("alpha")

        async def resolved() -> bool:  # only the child can have run it
            async with ctx.sessions() as session:
                return bool(await repos.outcome_rows(session, "alpha", 0, 2**62))

        await eventually(resolved, 30)
        await jobs.enqueue_retention("alpha")

        async def retention_done() -> bool:  # the child ran it and said so
            return "retention:alpha" not in jobs._pending

        await eventually(retention_done, 30)
        child = jobs.process
    assert ctx.jobs is None and child.returncode == 0  # stopped cleanly when the queue closed


async def test_a_child_that_cannot_start_does_not_hold_up_the_server_and_is_retried(tmp_path: Path) -> None:
    context = ServiceContext.create(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    jobs = ChildJobs(context, command=(sys.executable, "-c", "raise SystemExit(3)"))
    try:
        started = asyncio.get_running_loop().time()
        await jobs.start()
        assert asyncio.get_running_loop().time() - started < 10  # not the 60 s ready timeout
        await jobs.enqueue_cycle("alpha", "c1")  # kept for the next child, not lost

        async def retried() -> bool:
            return jobs.restarts >= 1

        await eventually(retried, 10)
        assert await jobs.has_cycle_job("c1") and not await jobs.has_cycle_job("c2")
        await jobs.check_available()  # the job waits for the next child: the queue is not "down"
    finally:
        await jobs.stop()
        await context.close()
