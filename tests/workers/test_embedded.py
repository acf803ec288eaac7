"""Without Redis the same jobs run in-process, on the same schedule."""

from __future__ import annotations

from core.services import bots, cycles, ingest, status
from core.services.context import ServiceContext
from core.store import repos
from tests.workers.conftest import eventually
from tests.workers.scenario import ADMIN_P, FAST, learnable_events
from workers.queue import open_job_queue


async def test_embedded_runner_runs_a_scheduled_cycle_without_redis(ctx: ServiceContext) -> None:
    assert ctx.settings.redis_url is None
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {**FAST, "schedule": {"continuous_every": "1s"}})
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", learnable_events())
    async with open_job_queue(ctx, tick_s=0.1) as queue:
        assert queue.backend == "embedded" and ctx.jobs is queue

        async def learned() -> bool:
            page = await cycles.list_cycles(ctx, ADMIN_P, "alpha")
            return any(c.status == "succeeded" and c.applied_version for c in page.items)

        await eventually(learned, 15)
        summary = await status.get_status(ctx, ADMIN_P)
    assert ctx.jobs is None
    assert summary.queue == "embedded" and summary.worker_heartbeat_age_s is not None
    [bot] = summary.bots
    assert bot.current_version >= 2 and bot.last_cycles["continuous"].status in ("succeeded", "queued", "running")
    assert set(bot.next_runs) == {"resolve", "continuous", "comprehensive"}
    async with ctx.sessions() as session:
        assert (await repos.last_cycles(session, "alpha"))["continuous"].requested_by == "system"
