"""The scheduler tick (every minute, fanned out over every bot): due cycles, due resolutions, recovery.

When things are due is the pure ``core/services/schedule.py``; this module acts on it. Safe to run
from several workers at once: cycles are queued under the bot lock after re-checking what is due
and what is already queued, and the queue deduplicates resolution jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.schemas.config import LearningConfig
from core.services import retention, schedule
from core.services.context import ServiceContext
from core.services.cycle_run import SYSTEM
from core.services.cycles import enqueue, queue_cycle, recover_stale_cycles
from core.store import repos


@dataclass(frozen=True)
class TickResult:
    """What one scheduler tick did: cycles queued and resolutions sent per bot, cycles recovered."""

    cycles: dict[str, list[str]]
    resolves: list[str]
    recovered: list[str]
    retentions: list[str] = field(default_factory=list)


async def queue_due_cycles(ctx: ServiceContext, bot_id: str, now_ms: int) -> list[str]:
    """Queue the bot's scheduled cycles that are due and not already queued or running; returns their ids."""
    async with ctx.sessions.begin() as session:
        if not await repos.lock_bot(session, bot_id):
            return []
        bot = await repos.get_bot(session, bot_id)
        assert bot is not None
        sched = LearningConfig.model_validate(bot.config).schedule
        due = schedule.due_cycles(sched, await repos.last_cycle_bases(session, bot_id), bot.created_at, now_ms)
        busy = {c.kind for c in await repos.active_cycles(session, bot_id) if not c.dry_run}
        rows = [await queue_cycle(session, bot_id, kind, False, SYSTEM, now_ms) for kind in due if kind not in busy]
    for row in rows:
        await enqueue(ctx, bot_id, row.id)
    return [row.id for row in rows]


async def run_schedule(ctx: ServiceContext, tick_ms: int) -> TickResult:
    """One scheduler tick (every ``tick_ms``), fanned out over every bot: due cycles, due resolutions, recovery."""
    now = ctx.clock()
    async with ctx.sessions() as session:
        configs = {
            b.id: LearningConfig.model_validate(b.config)
            for b in await repos.list_bots(session, after=None, limit=1_000_000)
        }
    cycles: dict[str, list[str]] = {}
    resolves: list[str] = []
    # Retention runs for every bot, schedule enabled or not: a paused bot's data still expires.
    retain = ctx.jobs is not None and retention.retention_due(now, tick_ms, ctx.settings.retention_every_s)
    retentions: list[str] = []
    for bot_id, config in configs.items():
        queued = await queue_due_cycles(ctx, bot_id, now)
        if queued:
            cycles[bot_id] = queued
        if ctx.jobs is not None and schedule.resolve_due(config.schedule, now, tick_ms):
            await ctx.jobs.enqueue_resolve(bot_id)
            resolves.append(bot_id)
        if retain and ctx.jobs is not None:
            await ctx.jobs.enqueue_retention(bot_id)
            retentions.append(bot_id)
    return TickResult(cycles, resolves, await recover_stale_cycles(ctx), retentions)
