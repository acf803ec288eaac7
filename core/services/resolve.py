"""Outcome resolution for one bot: decide (signal, horizon) pairs and store them in one bulk insert.

Runs as the scheduled `resolve_outcomes` job and at the start of every cycle. Idempotent: pairs
already stored are passed to the resolver as ``already`` and the insert skips duplicates, so a
retried or duplicated job stores nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from core.errors import not_found
from core.learn.enrich import resolve_pending
from core.learn.outcomes import Resolution
from core.schemas.config import LearningConfig
from core.services.context import ServiceContext
from core.services.learning_data import Loaded, Window, load_resolution_inputs
from core.store import repos

# SQLite outcome writes (see store_resolution); tuned with bench/embedded.py. A pause of half the
# hold measured ingest p99 at 2.0-2.7x idle during a cycle, a pause as long as the hold 1.6-2.2x.
SQLITE_PART_ROWS = 2_000  # a few ms of holding SQLite's write lock
SQLITE_MIN_PAUSE_S = 0.005
SQLITE_PAUSE_RATIO = 1.0  # the pause after a part, relative to how long it held the lock


@dataclass(frozen=True)
class ResolveResult:
    """``stored``: outcomes newly written; ``pending``: pairs still waiting for their mark."""

    stored: int
    pending: int


async def store_resolution(ctx: ServiceContext, bot_id: str, loaded: Loaded, resolution: Resolution) -> int:
    """Persist the outcomes ``resolution`` decided from ``loaded`` in a transaction of its own (on SQLite,
    in parts of ``SQLITE_PART_ROWS`` rows, each its own); returns how many were new. Outcomes are facts,
    not parameters: they are stored whatever becomes of the cycle that decided them (a retry finds them
    stored and decides nothing twice)."""
    if resolution.outcomes.empty:
        return 0
    batch = loaded.outcome_batch(bot_id, resolution.outcomes, resolution.rows)
    if ctx.engine.dialect.name != "sqlite":
        async with ctx.sessions.begin() as session:
            return await repos.insert_outcomes(session, batch)
    # SQLite has one writer at a time: a 600k-row transaction held the file for seconds and every
    # ingest waited. Parts of their own commit each (pairs already stored are skipped, so a part
    # that fails leaves nothing a retry would store twice), each followed by a pause as long as it
    # held the lock: a waiting writer polls (SQLite's busy handler sleeps up to 100 ms between tries)
    # and must find the lock free often, not in a 5 ms gap between two 40 ms parts. The lock is free
    # at least half the time; the write takes about twice as long, beside the engine's own work.
    stored = 0
    for part in batch.parts(SQLITE_PART_ROWS):
        started = time.monotonic()
        async with ctx.sessions.begin() as session:
            stored += await repos.insert_outcomes(session, part)
        await asyncio.sleep(max((time.monotonic() - started) * SQLITE_PAUSE_RATIO, SQLITE_MIN_PAUSE_S))
    return stored


async def resolve_bot(ctx: ServiceContext, bot_id: str) -> ResolveResult:
    """Resolve the outcomes of the bot's signals within ``lookback`` of its watermark.

    In: the stored signals, marks and outcomes. Out: how many outcomes were stored and how many
    pairs are pending. A bot that has sent nothing yet resolves nothing.
    """
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, bot_id)
        if bot is None:
            raise not_found("bot", bot_id)
        if bot.watermark_ms is None:
            return ResolveResult(0, 0)
        config = LearningConfig.model_validate(bot.config)
        window = Window.back_from(bot.watermark_ms, config.lookback_seconds())
        loaded = await load_resolution_inputs(session, bot_id, window, config.horizon_seconds())
    if loaded.inputs.signals.empty:
        return ResolveResult(0, 0)
    resolution = await asyncio.to_thread(resolve_pending, loaded.inputs, config, bot.watermark_ms)
    stored = await store_resolution(ctx, bot_id, loaded, resolution)
    return ResolveResult(stored, resolution.pending)
