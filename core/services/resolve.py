"""Outcome resolution for one bot: decide (signal, horizon) pairs and store them in one bulk insert.

Runs as the scheduled `resolve_outcomes` job and at the start of every cycle. Idempotent: pairs
already stored are passed to the resolver as ``already`` and the insert skips duplicates, so a
retried or duplicated job stores nothing twice.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.errors import not_found
from core.learn.outcomes import resolve_outcomes
from core.schemas.config import LearningConfig
from core.services.context import ServiceContext
from core.services.learning_data import Window, load_outcomes, load_prices, load_signals
from core.store import repos


@dataclass(frozen=True)
class ResolveResult:
    """``stored``: outcomes newly written; ``pending``: pairs still waiting for their mark."""

    stored: int
    pending: int


def outcome_rows(bot_id: str, outcomes: pd.DataFrame) -> list[dict[str, Any]]:
    """Outcome frame -> insert rows (NaN returns become NULL)."""
    columns = [outcomes[c].tolist() for c in ("signal_event_id", "horizon_s", "status", "ret", "mark_ts", "reason")]
    return [
        {
            "bot_id": bot_id,
            "signal_event_id": sid,
            "horizon_s": int(h),
            "status": status,
            "ret": None if ret is None or math.isnan(ret) else float(ret),
            "mark_ts": int(mark),
            "reason": reason if isinstance(reason, str) else None,
        }
        for sid, h, status, ret, mark, reason in zip(*columns, strict=True)
    ]


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
        signals, _ = await load_signals(session, bot_id, window)
        prices = await load_prices(session, bot_id, signals["symbol"].unique().tolist(), window)
        already = await load_outcomes(session, bot_id, window)
    if signals.empty:
        return ResolveResult(0, 0)
    resolution = await asyncio.to_thread(
        resolve_outcomes, signals, prices, config.horizon_seconds(), watermark, already
    )
    rows = outcome_rows(bot_id, resolution.outcomes)
    stored = 0
    if rows:
        async with ctx.sessions.begin() as session:
            stored = await repos.insert_outcomes(session, rows)
    return ResolveResult(stored, resolution.pending)
