"""Outcome resolution for one bot: decide (signal, horizon) pairs and store them in one bulk insert.

Runs as the scheduled `resolve_outcomes` job and at the start of every cycle. Idempotent: pairs
already stored are passed to the resolver as ``already`` and the insert skips duplicates, so a
retried or duplicated job stores nothing twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core.errors import not_found
from core.learn.outcomes import resolve_outcomes
from core.schemas.config import LearningConfig
from core.services.context import ServiceContext
from core.services.learning_data import Window, load_resolution_inputs
from core.store import repos


@dataclass(frozen=True)
class ResolveResult:
    """``stored``: outcomes newly written; ``pending``: pairs still waiting for their mark."""

    stored: int
    pending: int


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
        watermark = bot.watermark_ms
        window = Window.back_from(watermark, config.lookback_seconds())
        horizons = config.horizon_seconds()
        loaded = await load_resolution_inputs(session, bot_id, window, horizons)
    inputs = loaded.inputs
    if inputs.signals.empty:
        return ResolveResult(0, 0)
    resolution = await asyncio.to_thread(
        resolve_outcomes, inputs.signals, inputs.prices, horizons, watermark, inputs.outcomes, loaded.outcome_rows
    )
    batch = loaded.outcome_batch(bot_id, resolution.outcomes, resolution.rows)
    stored = 0
    if len(batch):
        async with ctx.sessions.begin() as session:
            stored = await repos.insert_outcomes(session, batch)
    return ResolveResult(stored, resolution.pending)
