"""Retention (DESIGN.md section 11, data lifecycle): remove a bot's raw events older than its window.

A bot keeps its signals, trades, price marks and outcomes for ``retention`` of event time back from
its watermark (config; the default is derived from what a cycle reads, see
``LearningConfig.retention_seconds``). The scheduler queues ``apply_retention`` for every bot every
``EDGELOOP_RETENTION_EVERY_S`` (arq worker or embedded runner alike, ``workers/jobs.py``). Param
versions, cycles and the audit log are never touched. With ``EDGELOOP_ARCHIVE_DIR`` each expiring
period is first written to Parquet and verified (``core/store/archive.py``); a failed archive stops
the run before anything of that period is removed, and `retention_overdue` shows it after two missed
intervals.

Event time, like learning: a cycle at watermark W reads ``[W - lookback, W]`` and the marks after
it, so removing what is older than ``W - retention`` (retention >= lookback + horizon + tolerance)
changes no proposal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import not_found
from core.learn.health import LEVELS
from core.schemas.config import LearningConfig
from core.schemas.lifecycle import DataStats
from core.schemas.timefmt import ms_to_rfc3339
from core.services.context import ServiceContext
from core.store import archive, lifecycle, repos

log = logging.getLogger("edgeloop.retention")

DAY_MS = 86_400_000


@dataclass(frozen=True)
class RetentionResult:
    """What one run did: the cutoff (event time; None: the bot has no events), rows removed per table,
    archive files written."""

    bot_id: str
    cutoff_ms: int | None
    removed: dict[str, int] = field(default_factory=dict)
    archived: list[str] = field(default_factory=list)


async def _expire_table(
    ctx: ServiceContext, bot_id: str, spec: lifecycle.EventTable, cutoff_ms: int, result: RetentionResult
) -> None:
    """Period by period (UTC days), oldest first: read (and archive), then delete exactly those rows in chunks."""
    root = Path(ctx.settings.archive_dir) if ctx.settings.archive_dir else None
    since: int | None = None
    while True:
        async with ctx.sessions() as session:
            first = await lifecycle.oldest(session, spec, bot_id, since)
        if first is None or first >= cutoff_ms:
            return
        lo = first - first % DAY_MS
        hi = min(lo + DAY_MS, cutoff_ms)
        async with ctx.sessions() as session:
            columns = await lifecycle.read_period(session, spec, bot_id, lo, hi, full=root is not None)
        if root is not None:
            entry = await asyncio.to_thread(archive.write_period, root, bot_id, spec, lo, hi, columns, ctx.clock())
            result.archived.append(entry.file)
        keys = list(zip(*(columns[name] for name in spec.key), strict=True))
        for at in range(0, len(keys), lifecycle.CHUNK_ROWS):
            async with ctx.sessions.begin() as session:
                if not await repos.lock_bot(session, bot_id):
                    return
                removed = await lifecycle.delete_rows(session, spec, bot_id, keys[at : at + lifecycle.CHUNK_ROWS])
            result.removed[spec.name] = result.removed.get(spec.name, 0) + removed
            await asyncio.sleep(0)  # let other tasks of this process take the write lock between chunks
        if hi == cutoff_ms:  # [first day, cutoff) is done and nothing was older than its first row
            return
        since = hi


async def apply_retention(ctx: ServiceContext, bot_id: str) -> RetentionResult:
    """Remove (after archiving, when configured) the bot's raw events older than its retention window,
    and note the run on the bot row. Idempotent; safe beside ingest and cycles (short transactions,
    each taking the bot row's lock first, as every writer of the bot does)."""
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, bot_id)
        if bot is None:
            raise not_found("bot", bot_id)
        config = LearningConfig.model_validate(bot.config)
        watermark = bot.watermark_ms
    cutoff = None if watermark is None else watermark - config.retention_seconds() * 1000
    result = RetentionResult(bot_id, cutoff)
    if cutoff is not None:
        for spec in lifecycle.TABLES:
            await _expire_table(ctx, bot_id, spec, cutoff, result)
    async with ctx.sessions.begin() as session:
        await lifecycle.record_run(session, bot_id, ctx.clock(), cutoff)
    if result.removed:
        log.info("retention(%s): removed %s before %s", bot_id, result.removed, ms_to_rfc3339(cutoff or 0))
    return result


def retention_due(now_ms: int, tick_ms: int, every_s: int) -> bool:
    """Whether the scheduler tick at ``now_ms`` is the first since a line of the ``every_s`` grid."""
    every = every_s * 1000
    return every <= tick_ms or now_ms // every != (now_ms - tick_ms) // every


# --- what /health and /v1/status show --------------------------------------------------------


@dataclass(frozen=True)
class DataSnapshot:
    stats: DataStats
    oldest_ms: int | None
    watermark_ms: int | None
    retention_ms: int
    run_ms: int | None
    created_at_ms: int


async def data_snapshot(session: Any, bot: Any) -> DataSnapshot:
    """Read the bot's data age and size (counters from the bot row, oldest times by index probes)."""
    config = LearningConfig.model_validate(bot.config)
    oldest = await lifecycle.oldest_events(session, bot.id)
    present = [t for t in oldest.values() if t is not None]
    first = min(present, default=None)

    def when(ms: int | None) -> str | None:
        return None if ms is None else ms_to_rfc3339(ms)

    stats = DataStats(
        retention=config.retention,
        retention_s=config.retention_seconds(),
        oldest_event=when(first),
        oldest={name: when(ms) for name, ms in oldest.items()},
        rows={
            "signals": bot.signal_count,
            "trades": bot.trade_count,
            "price_marks": bot.price_count,
            "signal_outcomes": bot.resolved_count + bot.gap_count,
        },
        last_retention_run=when(bot.retention_run_ms),
        retention_cutoff=when(bot.retention_cutoff_ms),
    )
    return DataSnapshot(
        stats, first, bot.watermark_ms, config.retention_seconds() * 1000, bot.retention_run_ms, bot.created_at
    )


def overdue_problem(snap: DataSnapshot, now_ms: int, every_s: int) -> dict[str, Any] | None:
    """`retention_overdue`: events older than the window are still stored, and no retention run has
    completed for two intervals (since the bot was created, if never)."""
    if snap.oldest_ms is None or snap.watermark_ms is None:
        return None
    cutoff = snap.watermark_ms - snap.retention_ms
    reference = snap.run_ms if snap.run_ms is not None else snap.created_at_ms
    if snap.oldest_ms >= cutoff or now_ms - reference <= 2 * every_s * 1000:
        return None
    last = "never" if snap.run_ms is None else f"last at {ms_to_rfc3339(snap.run_ms)}"
    return {
        "code": "retention_overdue",
        "message": f"Events older than the retention window are still stored (oldest {ms_to_rfc3339(snap.oldest_ms)}, "
        f"window starts {ms_to_rfc3339(cutoff)}); the retention job has not completed for {2 * every_s} s ({last}). "
        "Is a worker running, and is the archive directory writable?",
        "detail": {
            "oldest_event": ms_to_rfc3339(snap.oldest_ms),
            "cutoff": ms_to_rfc3339(cutoff),
            "last_retention_run": None if snap.run_ms is None else ms_to_rfc3339(snap.run_ms),
            "interval_s": every_s,
        },
    }


def add_to_health(health: dict[str, Any], snap: DataSnapshot, now_ms: int, every_s: int) -> dict[str, Any]:
    """The health document with ``data`` (``DataStats``) and, when due, the `retention_overdue` problem (warn)."""
    problem = overdue_problem(snap, now_ms, every_s)
    if problem is not None:
        health["problems"] = [*health["problems"], problem]
        if LEVELS[health["level"]] < LEVELS["warn"]:
            health["level"] = "warn"
    health["data"] = snap.stats.model_dump()
    return health
