"""Real EURUSD hourly bars as several symbols' marks, with one signal per bar: the builder of the enhanced
learners' tests (direction routing, rules). Each symbol is a different stretch of the real series.

``plant`` sees the signals frame (with the builder's ``future`` = the next bar's return) and the rng and
returns it with directions changed: that is how a losing pattern is planted on real prices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from backtesting.test import EURUSD

from core.learn.frames import CycleInputs, empty_outcomes, empty_trades
from core.schemas.config import LearningConfig
from tests.learn.markets import T0, Market, signals_frame

HOUR = 3_600_000
Plant = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


def config(**overrides: object) -> LearningConfig:
    """Hourly outcomes (the bars' spacing) over the whole market."""
    return LearningConfig.model_validate({"horizons": ["1h"], "lookback": "365d", **overrides})


def hourly_market(
    seed: int,
    *,
    symbols: tuple[str, ...] = ("EURUSD", "EURUSD_B", "EURUSD_C"),
    bars: int = 1500,
    plant: Plant | None = None,
    components: tuple[str, ...] = ("ofi", "momentum"),
    strategies: tuple[str, ...] = ("breakout", "reversion"),
    regimes: tuple[str, ...] = ("trend", "range"),
) -> Market:
    """``bars`` hourly marks per symbol (a random stretch of EURUSD closes), one signal per bar but the
    last, random direction, conviction, strategy, regime and noise components (independent of the future)."""
    rng = np.random.default_rng(seed)
    closes = EURUSD["Close"].to_numpy(dtype=np.float64)
    frames, marks = [], []
    for k, symbol in enumerate(symbols):
        first = int(rng.integers(0, closes.size - bars - 1))
        path = closes[first : first + bars]
        ts = T0 + np.arange(bars, dtype=np.int64) * HOUR
        marks.append(pd.DataFrame({"symbol": np.full(bars, symbol), "ts": ts, "price": path}))
        n = bars - 1
        frames.append(
            pd.DataFrame(
                {
                    "event_id": [f"{k}-{i:05d}" for i in range(n)],
                    "ts": ts[:n],
                    "symbol": np.full(n, symbol, dtype=object),
                    "direction": np.where(rng.random(n) < 0.5, "long", "short").astype(object),
                    "price": path[:n],
                    "future": path[1:] / path[:n] - 1.0,
                }
            )
        )
    raw = pd.concat(frames, ignore_index=True).sort_values(["ts", "symbol"], kind="stable", ignore_index=True)
    if plant is not None:
        raw = plant(raw, rng)
    n = len(raw)
    signals = signals_frame(
        event_id=raw["event_id"].to_numpy(dtype=object),
        ts=raw["ts"].to_numpy(dtype=np.int64),
        symbol=raw["symbol"].to_numpy(dtype=object),
        direction=raw["direction"].to_numpy(dtype=object),
        price=raw["price"].to_numpy(dtype=np.float64),
        conviction=rng.random(n),
        strategy=rng.choice(np.array(strategies, dtype=object), size=n),
    )
    signals["regime"] = rng.choice(np.array(regimes, dtype=object), size=n)
    inputs = CycleInputs(
        signals=signals,
        components=pd.DataFrame({c: rng.normal(size=n) for c in sorted(components)}),
        trades=empty_trades(),
        prices=pd.concat(marks, ignore_index=True).astype({"symbol": "str"}),
        outcomes=empty_outcomes(),
    )
    return Market(inputs=inputs, now_ms=T0 + (bars - 1) * HOUR + HOUR, future=raw["future"].to_numpy())


def losing_shorts(symbol: str, p_wrong: float) -> Plant:
    """``symbol``'s shorts that would win (a falling bar) are dropped with probability ``p_wrong``: the shorts
    left lose; the longs are untouched."""

    def plant(raw: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        short = (raw["symbol"] == symbol) & (raw["direction"] == "short")
        wrong = rng.random(len(raw)) < p_wrong
        falls = raw["future"] < 0
        return raw[~(short & falls & wrong)].reset_index(drop=True)

    return plant


def losing_longs_at(weekday: int, hour_bucket: int, p_drop: float) -> Plant:
    """In one 4-hour window (UTC ``hour_bucket``) of one ``weekday`` (0 = Monday) the bot goes long (9 signals
    in 10, as a strategy that buys that session would), and its longs there that would win are dropped with
    probability ``p_drop``: the longs left there lose; everything else is untouched."""

    def plant(raw: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        ts = raw["ts"].to_numpy(dtype=np.int64)
        when = (((ts // 86_400_000) + 3) % 7 == weekday) & ((ts % 86_400_000) // (4 * HOUR) == hour_bucket)
        raw = raw.copy()
        raw.loc[when & (rng.random(len(raw)) < 0.9), "direction"] = "long"
        winning_long = (raw["direction"] == "long").to_numpy() & (raw["future"] > 0).to_numpy()
        drop = when & winning_long & (rng.random(len(raw)) < p_drop)
        return raw[~drop].reset_index(drop=True)

    return plant
