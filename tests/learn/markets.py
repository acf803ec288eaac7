"""Seeded synthetic markets for the learner tests: builders with keyword defaults, a known answer each.

Prices are geometric random walks on a one-minute grid per symbol; signals sit on the grid so every
horizon's mark exists exactly at ts + h. A planted component with accuracy p points the right way
(the sign of the realised return at ``plant_horizon_s``) with probability p.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.learn.cycle import CycleKind, run_cycle
from core.learn.frames import CycleInputs, empty_outcomes, empty_trades
from core.learn.proposal import Proposal
from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE = 60_000


@dataclass(frozen=True, eq=False)
class Market:
    """Inputs plus what the builder knows: per-signal future return at the planted horizon, now."""

    inputs: CycleInputs
    now_ms: int
    future: np.ndarray


def price_grid(
    rng: np.random.Generator, symbols: list[str], n_marks: int, vol: float, drift: float = 0.0
) -> np.ndarray:
    """symbols x n_marks prices: 100 * exp(cumulative normal log-returns)."""
    steps = rng.normal(drift, vol, size=(len(symbols), n_marks))
    steps[:, 0] = 0.0
    return np.asarray(100.0 * np.exp(np.cumsum(steps, axis=1)))


def prices_frame(symbols: list[str], grid: np.ndarray, start_ms: int = T0, step_ms: int = MINUTE) -> pd.DataFrame:
    k = grid.shape[1]
    return pd.DataFrame(
        {
            "symbol": np.repeat(np.array(symbols, dtype=object), k).astype(str),
            "ts": np.tile(start_ms + np.arange(k, dtype=np.int64) * step_ms, len(symbols)),
            "price": grid.ravel(),
        }
    )


def signals_frame(
    *,
    event_id: np.ndarray,
    ts: np.ndarray,
    symbol: np.ndarray,
    direction: np.ndarray,
    price: np.ndarray,
    conviction: np.ndarray | None = None,
    decision: np.ndarray | None = None,
    blocked_by: np.ndarray | None = None,
    strategy: np.ndarray | None = None,
    expected_edge_bps: np.ndarray | None = None,
) -> pd.DataFrame:
    n = len(event_id)
    none = np.full(n, None, dtype=object)
    return pd.DataFrame(
        {
            "event_id": pd.array(event_id, dtype="str"),
            "ts": np.asarray(ts, dtype=np.int64),
            "symbol": pd.array(symbol, dtype="str"),
            "direction": pd.array(direction, dtype="str"),
            "price": np.asarray(price, dtype=np.float64),
            "conviction": np.full(n, 0.6) if conviction is None else np.asarray(conviction, dtype=np.float64),
            "decision": pd.array(np.full(n, "executed", dtype=object) if decision is None else decision, dtype="str"),
            "blocked_by": none.copy() if blocked_by is None else np.asarray(blocked_by, dtype=object),
            "strategy": none.copy() if strategy is None else np.asarray(strategy, dtype=object),
            "expected_edge_bps": np.full(n, np.nan)
            if expected_edge_bps is None
            else np.asarray(expected_edge_bps, dtype=np.float64),
            "regime": none.copy(),
        }
    )


def market(
    *,
    seed: int = 0,
    symbols: tuple[str, ...] = ("AAA", "BBB", "CCC", "DDD"),
    n_signals: int = 2000,
    spacing_min: int = 5,
    vol: float = 0.001,
    drift: float = 0.0,
    components: dict[str, float] | None = None,
    plant_horizon_s: int = 300,
    tail_min: int = 120,
) -> Market:
    """Round-robin signals on ``symbols`` every ``spacing_min`` minutes per symbol; components planted.

    ``components`` maps name -> accuracy (0.5 = noise, 0.6 = right 60% of the time, 0.4 = wrong 60%).
    Directions are random (weights do not depend on them); decisions are "executed".
    """
    rng = np.random.default_rng(seed)
    components = {"ofi": 0.6, "noise": 0.5, "contrarian": 0.4} if components is None else components
    nsym = len(symbols)
    per_symbol = -(-n_signals // nsym)
    n_marks = per_symbol * spacing_min + tail_min + 1
    grid = price_grid(rng, list(symbols), n_marks, vol, drift)
    i = np.arange(n_signals)
    sym_i = i % nsym
    slot = (i // nsym) * spacing_min
    ts = T0 + slot.astype(np.int64) * MINUTE
    p0 = grid[sym_i, slot]
    lag = plant_horizon_s // 60
    future = grid[sym_i, slot + lag] / p0 - 1.0
    truth = np.where(future > 0, 1.0, np.where(future < 0, -1.0, rng.choice([-1.0, 1.0], size=n_signals)))
    comps: dict[str, np.ndarray] = {}
    for name in sorted(components):
        right = rng.random(n_signals) < components[name]
        comps[name] = np.where(right, truth, -truth) * rng.exponential(1.0, size=n_signals)
    signals = signals_frame(
        event_id=np.array([f"s{k:07d}" for k in i], dtype=object),
        ts=ts,
        symbol=np.array(symbols, dtype=object)[sym_i],
        direction=np.where(rng.random(n_signals) < 0.5, "long", "short").astype(object),
        price=p0,
        conviction=rng.random(n_signals),
    )
    inputs = CycleInputs(
        signals=signals,
        components=pd.DataFrame(comps),
        trades=empty_trades(),
        prices=prices_frame(list(symbols), grid),
        outcomes=empty_outcomes(),
    )
    return Market(inputs=inputs, now_ms=T0 + (n_marks - 1) * MINUTE, future=future)


def trades_frame(
    *,
    symbol: np.ndarray,
    direction: np.ndarray,
    ret: np.ndarray,
    ts: np.ndarray,
    notional: float = 1000.0,
    fee_rate: float = 0.0004,
    conviction: np.ndarray | None = None,
    strategy: np.ndarray | None = None,
    signal_event_id: np.ndarray | None = None,
    prefix: str = "t",
) -> pd.DataFrame:
    """Closed trades with net return ``ret`` (pnl = ret * notional, entry 100, qty notional / 100)."""
    n = len(ret)
    none = np.full(n, None, dtype=object)
    entry = np.full(n, 100.0)
    qty = np.full(n, notional / 100.0)
    return pd.DataFrame(
        {
            "event_id": pd.array([f"{prefix}{k:07d}" for k in range(n)], dtype="str"),
            "symbol": pd.array(symbol, dtype="str"),
            "direction": pd.array(direction, dtype="str"),
            "opened_at": np.asarray(ts, dtype=np.int64) - 5 * MINUTE,
            "ts": np.asarray(ts, dtype=np.int64),
            "entry_price": entry,
            "exit_price": entry * (1 + np.asarray(ret)),
            "quantity": qty,
            "pnl": np.asarray(ret, dtype=np.float64) * notional,
            "fees": np.full(n, fee_rate * notional),
            "strategy": none.copy() if strategy is None else np.asarray(strategy, dtype=object),
            "conviction": np.full(n, np.nan) if conviction is None else np.asarray(conviction, dtype=np.float64),
            "signal_event_id": none.copy() if signal_event_id is None else np.asarray(signal_event_id, dtype=object),
            "venue": none.copy(),
            "regime": none.copy(),
        }
    )


def combo_trades(
    *, seed: int, symbol: str, direction: str, n: int, win_rate: float, win: float, loss: float, end_ms: int
) -> pd.DataFrame:
    """``n`` trades of one combo with exactly round(win_rate * n) winners of +win and losers of -loss."""
    rng = np.random.default_rng(seed)
    wins = round(win_rate * n)
    ret = np.concatenate([np.full(wins, win), np.full(n - wins, -loss)])
    rng.shuffle(ret)
    ts = end_ms - np.arange(n, dtype=np.int64)[::-1] * 10 * MINUTE
    return trades_frame(
        symbol=np.full(n, symbol, dtype=object),
        direction=np.full(n, direction, dtype=object),
        ret=ret,
        ts=ts,
        prefix=f"{symbol}-{direction}-",
    )


def with_trades(m: Market, trades: pd.DataFrame) -> Market:
    return replace(m, inputs=replace(m.inputs, trades=trades.reset_index(drop=True)))


def block(m: Market, mask: np.ndarray, gate: str, *, winners: bool | None = True, seed: int = 0) -> Market:
    """Mark the signals in ``mask`` as blocked by ``gate``; point them with (True), against (False) or
    at random to (None) the realised move at the planted horizon."""
    rng = np.random.default_rng(seed)
    sig = m.inputs.signals.copy()
    up = m.future > 0
    if winners is None:
        up = rng.random(len(sig)) < 0.5
    elif not winners:
        up = ~up
    direction = np.where(up, "long", "short")
    sig["direction"] = pd.array(np.where(mask, direction, sig["direction"].to_numpy()), dtype="str")
    sig["decision"] = pd.array(np.where(mask, "blocked", sig["decision"].to_numpy()), dtype="str")
    sig["blocked_by"] = np.where(mask, gate, sig["blocked_by"].to_numpy()).astype(object)
    sig.loc[~mask & sig["blocked_by"].isna(), "blocked_by"] = None
    return replace(m, inputs=replace(m.inputs, signals=sig))


def noise_trades(
    *,
    seed: int,
    n: int,
    end_ms: int,
    symbols: tuple[str, ...] = ("AAA", "BBB", "CCC", "DDD"),
    mean: float = 0.0,
    sd: float = 0.002,
    strategies: tuple[str, ...] = ("momo", "revert"),
) -> pd.DataFrame:
    """``n`` trades with iid normal returns, random symbol/direction/strategy/conviction."""
    rng = np.random.default_rng(seed)
    return trades_frame(
        symbol=np.array(symbols, dtype=object)[rng.integers(0, len(symbols), size=n)],
        direction=np.where(rng.random(n) < 0.5, "long", "short").astype(object),
        ret=rng.normal(mean, sd, size=n),
        ts=end_ms - rng.integers(0, 3 * 24 * 60, size=n).astype(np.int64) * MINUTE,
        conviction=rng.random(n),
        strategy=np.array(strategies, dtype=object)[rng.integers(0, len(strategies), size=n)],
        prefix="n",
    )


def cycles(
    inputs: CycleInputs,
    sections: ParamSections,
    config: LearningConfig,
    now_ms: int,
    count: int,
    kind: CycleKind = "continuous",
) -> list[Proposal]:
    """Run ``count`` cycles, feeding each one's sections and new outcomes into the next."""
    out: list[Proposal] = []
    for _ in range(count):
        p = run_cycle(inputs, sections, config, kind, now_ms)
        out.append(p)
        sections = p.sections
        if len(p.new_outcomes):
            inputs = replace(inputs, outcomes=pd.concat([inputs.outcomes, p.new_outcomes], ignore_index=True))
    return out
