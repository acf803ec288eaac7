"""`/v1/status`: what the service is and how each bot's learning loop is doing."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from core import __version__
from core.schemas.config import LearningConfig
from core.schemas.enums import CycleStatus, HealthLevel, QueueBackend
from core.schemas.lifecycle import DataStats
from core.schemas.timefmt import Rfc3339, ms_to_rfc3339
from core.services import insight, retention, schedule
from core.services.auth import Principal
from core.services.context import ServiceContext
from core.services.metrics import QUEUE_DEPTH
from core.services.params import observe_version
from core.store import repos
from core.store.db import DATABASE_FAILURES

log = logging.getLogger("edgeloop.status")


class CycleSummary(BaseModel):
    cycle_id: str
    status: CycleStatus
    finished_at: Rfc3339 | None


class BotStatus(BaseModel):
    id: str
    health: HealthLevel = Field(..., description="Learning health level (`ok`, `warn`, `error`); details at /health.")
    problems: list[str] = Field(default_factory=list, description="Codes of the health problems; details at /health.")
    current_version: int
    active_version: int | None = Field(
        None, description="The version the bot last reported running (see /health); null: never reported."
    )
    watermark: Rfc3339 | None
    events: dict[str, int] = Field(..., description="Stored signals, trades and price marks.")
    last_cycles: dict[str, CycleSummary] = Field(..., description="Latest cycle of each kind.")
    next_runs: dict[str, Rfc3339 | None] = Field(
        default_factory=dict,
        description="Next scheduled run of `resolve`, `continuous` and `comprehensive` (RFC 3339, UTC; a past time "
        "means due now); null when the bot's schedule is disabled.",
    )
    data: DataStats | None = Field(None, description="Age and size of the bot's raw events, and its retention.")


class WorkerRead(BaseModel):
    worker_id: str
    queue: str = Field(..., description="`arq` or `embedded`.")
    heartbeat_age_s: float = Field(..., description="Seconds since it last reported.")


class StatusRead(BaseModel):
    version: str = Field(..., description="edgeloop version.")
    uptime_s: float
    queue: QueueBackend = Field(..., description="`arq` (Redis + workers) or `embedded` (in-process jobs).")
    worker_heartbeat_age_s: float | None = Field(None, description="Seconds since a worker last reported; null: never.")
    workers: list[WorkerRead] = Field(default_factory=list, description="Workers that reported, latest first.")
    bots: list[BotStatus]


async def get_status(ctx: ServiceContext, principal: Principal) -> StatusRead:
    """Service summary; a bot key sees only its own bot."""
    now = ctx.clock()
    async with ctx.sessions() as session:
        ids = await repos.all_bot_ids(session) if principal.is_admin else [principal.bot_id or ""]
        heartbeat = await repos.last_heartbeat(session)
        workers = [
            WorkerRead(worker_id=w.worker_id, queue=w.queue, heartbeat_age_s=round((now - w.last_seen) / 1000, 3))
            for w in await repos.heartbeats(session)
        ]
        bots = []
        for bot_id in ids:
            row = await repos.get_bot(session, bot_id)
            if row is None:
                continue
            cycles = await repos.last_cycles(session, bot_id)
            runs = schedule.next_runs(
                LearningConfig.model_validate(row.config).schedule,
                await repos.last_cycle_bases(session, bot_id),
                row.created_at,
                now,
            )
            observe_version(ctx, bot_id, row.current_version)
            health = await insight.get_health(ctx, principal, bot_id)
            problems = health.get("problems") or []
            bots.append(
                BotStatus(
                    id=row.id,
                    health=str(health["level"]),
                    problems=[str(p["code"]) for p in problems if isinstance(p, dict)],
                    current_version=row.current_version,
                    active_version=health["active_version"],
                    watermark=ms_to_rfc3339(row.watermark_ms) if row.watermark_ms is not None else None,
                    events=await repos.event_counts(session, bot_id),
                    last_cycles={
                        kind: CycleSummary(
                            cycle_id=c.id,
                            status=c.status,
                            finished_at=ms_to_rfc3339(c.finished_at) if c.finished_at else None,
                        )
                        for kind, c in cycles.items()
                    },
                    next_runs={job: ms_to_rfc3339(at) if at is not None else None for job, at in runs.items()},
                    data=(await retention.data_snapshot(session, row)).stats,
                )
            )
    return StatusRead(
        version=__version__,
        uptime_s=round((now - ctx.started_at_ms) / 1000, 3),
        queue=ctx.settings.queue_backend,
        worker_heartbeat_age_s=round((now - heartbeat) / 1000, 3) if heartbeat is not None else None,
        workers=workers,
        bots=bots,
    )


async def record_heartbeat(ctx: ServiceContext, worker_id: str, queue: str) -> None:
    """A worker (arq or the embedded runner) says it is alive; `/v1/status` and `worker_missing` read it."""
    async with ctx.sessions.begin() as session:
        await repos.upsert_heartbeat(session, worker_id, queue, ctx.clock())


async def refresh_gauges(ctx: ServiceContext) -> None:
    """Set the gauges a scrape reads (queue depth). A database that cannot answer leaves their last values."""
    try:
        async with ctx.sessions() as session:
            QUEUE_DEPTH.set(await repos.queued_cycle_count(session))
    except DATABASE_FAILURES as exc:
        log.warning("metrics: queue depth not refreshed (%s: %s)", type(exc).__name__, exc)
