"""Load what a cycle reads about one bot into the learning engine's frames (core/learn/frames.py).

Bulk selects straight into pandas: one query per table, plain tuples, no per-row ORM objects.
The window is event time: ``[watermark - lookback, watermark]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from core.learn.frames import (
    OUTCOME_COLUMNS,
    PRICE_COLUMNS,
    SIGNAL_COLUMNS,
    TRADE_COLUMNS,
    CycleInputs,
    empty_components,
    empty_frame,
)
from core.store import repos


@dataclass(frozen=True)
class Window:
    """Event-time window a cycle or a resolution reads, epoch ms, both ends inclusive."""

    since_ms: int
    until_ms: int

    @classmethod
    def back_from(cls, watermark_ms: int, lookback_s: int) -> Window:
        return cls(watermark_ms - lookback_s * 1000, watermark_ms)


def frame(rows: Sequence[tuple[Any, ...]], columns: dict[str, str]) -> pd.DataFrame:
    """Rows (tuples in ``columns`` order) -> a frame with the contract's dtypes; None -> NaN in float columns."""
    if not rows:
        return empty_frame(columns)
    names = list(columns)
    cols = list(zip(*rows, strict=True))
    data: dict[str, pd.Series[Any]] = {}
    for name, values in zip(names, cols, strict=True):
        dtype = columns[name]
        if dtype == "float64":
            data[name] = pd.Series(np.array([np.nan if v is None else v for v in values], dtype=np.float64))
        elif dtype == "int64":
            data[name] = pd.Series(np.array(values, dtype=np.int64))
        else:
            data[name] = pd.Series(list(values), dtype=dtype)
    return pd.DataFrame(data)


def components_frame(components: Sequence[dict[str, float]]) -> pd.DataFrame:
    """Wide float64 frame, one sorted column per component, NaN where a signal lacks it."""
    if not components:
        return empty_components(0)
    names = sorted({name for c in components for name in c})
    matrix = np.full((len(components), len(names)), np.nan, dtype=np.float64)
    index = {name: j for j, name in enumerate(names)}
    for i, c in enumerate(components):
        for name, value in c.items():
            matrix[i, index[name]] = value
    return pd.DataFrame(matrix, columns=pd.Index(names, dtype=object))


async def load_signals(session: AsyncSession, bot_id: str, window: Window) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(signals, components) of the window, in time order."""
    rows = await repos.signal_rows(session, bot_id, window.since_ms, window.until_ms)
    signals = frame([row[:-1] for row in rows], SIGNAL_COLUMNS)
    return signals, components_frame([row[-1] for row in rows])


async def load_prices(session: AsyncSession, bot_id: str, symbols: Sequence[str], window: Window) -> pd.DataFrame:
    return frame(
        await repos.price_rows(session, bot_id, sorted(set(symbols)), window.since_ms, window.until_ms), PRICE_COLUMNS
    )


async def load_outcomes(session: AsyncSession, bot_id: str, window: Window) -> pd.DataFrame:
    """Stored outcomes of the window's signals."""
    return frame(await repos.outcome_rows(session, bot_id, window.since_ms, window.until_ms), OUTCOME_COLUMNS)


async def load_cycle_inputs(session: AsyncSession, bot_id: str, window: Window) -> CycleInputs:
    """Everything a cycle reads: signals (+ components), trades, the marks of their symbols, stored outcomes."""
    signals, components = await load_signals(session, bot_id, window)
    trades = frame(await repos.trade_rows(session, bot_id, window.since_ms, window.until_ms), TRADE_COLUMNS)
    symbols = [*signals["symbol"].unique().tolist(), *trades["symbol"].unique().tolist()]
    prices = await load_prices(session, bot_id, symbols, window)
    outcomes = await load_outcomes(session, bot_id, window)
    return CycleInputs(signals=signals, components=components, trades=trades, prices=prices, outcomes=outcomes)
