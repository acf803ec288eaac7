"""The retention job runs from the schedule on both queues: arq workers (cron) and the embedded runner."""

from __future__ import annotations

from core.services.context import ServiceContext, wall_clock_ms
from core.settings import Settings
from core.store import lifecycle, repos
from tests.services.test_retention import counters_match, seeded
from tests.workers.conftest import eventually, run_burst
from workers.queue import open_job_queue

HOUR = 3_600_000


def on_the_hour() -> int:
    """The next full hour of the wall clock: a scheduler tick then is due to start the retention runs."""
    return (wall_clock_ms() // HOUR + 1) * HOUR


async def _run_ms(ctx: ServiceContext) -> int | None:
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, "alpha")
    assert bot is not None
    return bot.retention_run_ms


async def nothing_before(ctx: ServiceContext, cutoff: int) -> None:
    async with ctx.sessions() as session:
        oldest = await lifecycle.oldest_events(session, "alpha")
    assert all(t is None or t >= cutoff for t in oldest.values()), oldest  # the market has no trades


async def test_arq_cron_runs_retention(arq_ctx: ServiceContext, arq_settings: Settings) -> None:
    cutoff = await seeded(arq_ctx)
    at = on_the_hour()
    await run_burst(arq_settings, clock=lambda: at)  # the startup tick fans out; the burst runs the jobs
    async with arq_ctx.sessions() as session:
        bot = await repos.get_bot(session, "alpha")
    assert bot is not None and bot.retention_run_ms == at and bot.retention_cutoff_ms == cutoff
    await counters_match(arq_ctx)
    await nothing_before(arq_ctx, cutoff)


async def test_embedded_runner_runs_retention(ctx: ServiceContext) -> None:
    cutoff = await seeded(ctx)
    at = on_the_hour()
    ctx.clock = lambda: at
    async with open_job_queue(ctx, tick_s=3600):  # one tick at start, none after

        async def ran() -> bool:
            return await _run_ms(ctx) == at

        await eventually(ran, 15)
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, "alpha")
    assert bot is not None and bot.retention_cutoff_ms == cutoff
    await counters_match(ctx)
    await nothing_before(ctx, cutoff)
