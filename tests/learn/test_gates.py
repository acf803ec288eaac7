"""Conviction and fee gates, and the counterfactual reports behind them."""

from __future__ import annotations

import numpy as np

from core.learn.cycle import run_cycle
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from tests.learn.markets import block, market, noise_trades, trades_frame, with_trades

CONFIG = LearningConfig()


def gated(min_conviction: float = 0.0, min_edge: float = 0.0):
    s = default_sections(CONFIG)
    gates = s.gates.model_copy(deep=True)
    gates.conviction.min_conviction = min_conviction
    gates.fee.min_expected_edge_bps = min_edge
    return s.model_copy(update={"gates": gates})


def test_conviction_gate_that_only_blocks_winners_is_lowered_and_missed_shows_them() -> None:
    m = market(seed=8, n_signals=1200, plant_horizon_s=900)
    conv = m.inputs.signals["conviction"].to_numpy()
    m = block(m, (conv >= 0.25) & (conv < 0.5), "conviction_gate", winners=True)
    m = with_trades(m, noise_trades(seed=1, n=100, end_ms=m.now_ms))
    p = run_cycle(m.inputs, gated(0.5), CONFIG, "comprehensive", m.now_ms)
    (change,) = [c for c in p.changes if c.path == "gates.conviction.min_conviction"]
    assert (change.old, change.new) == (0.5, 0.25)
    assert "would have made +" in change.reason and "at 15m after fees" in change.reason
    missed = p.reports["missed"]
    assert len(missed) == 20 and all(r["blocked_by"] == "conviction_gate" for r in missed)
    assert all(r["would_be_pnl"] is not None and r["would_be_pnl"] > 0 for r in missed)  # type: ignore[operator]
    returns = [r["would_be_return_bps"] for r in missed]
    assert returns == sorted(returns, reverse=True)  # type: ignore[type-var]
    (gate,) = p.reports["gates"]
    assert gate["gate"] == "conviction_gate" and gate["missed_pnl"] > gate["saved_pnl"]  # type: ignore[operator]


def test_conviction_gate_blocking_losers_stays() -> None:
    m = market(seed=8, n_signals=1200, plant_horizon_s=900)
    conv = m.inputs.signals["conviction"].to_numpy()
    m = block(m, (conv >= 0.25) & (conv < 0.5), "conviction_gate", winners=False)
    p = run_cycle(m.inputs, gated(0.5), CONFIG, "comprehensive", m.now_ms)
    assert p.sections.gates.conviction.min_conviction == 0.5
    assert p.reports["missed"] == []
    (gate,) = p.reports["gates"]
    assert gate["saved_pnl"] is None and gate["saved_return_bps"] > 0  # type: ignore[operator]


def test_conviction_gate_rises_when_low_conviction_trades_lose() -> None:
    m = market(seed=9, n_signals=100)
    rng = np.random.default_rng(0)
    n = 200
    conv = rng.uniform(0, 1, size=n)
    ret = np.where(conv < 0.25, rng.normal(-0.003, 0.002, size=n), rng.normal(0.001, 0.002, size=n))
    trades = trades_frame(
        symbol=np.full(n, "AAA", dtype=object),
        direction=np.full(n, "long", dtype=object),
        ret=ret,
        ts=m.now_ms - np.arange(n, dtype=np.int64) * 60_000,
        conviction=conv,
    )
    p = run_cycle(with_trades(m, trades).inputs, gated(0.0), CONFIG, "continuous", m.now_ms)
    (change,) = [c for c in p.changes if c.path == "gates.conviction.min_conviction"]
    assert (change.old, change.new) == (0.0, 0.25)
    assert change.stats["n"] == int((conv < 0.25).sum())


def test_fee_gate_rises_when_thin_edges_lose_after_fees() -> None:
    m = market(seed=10, n_signals=400)
    sig = m.inputs.signals.copy()
    rng = np.random.default_rng(1)
    sig["expected_edge_bps"] = rng.uniform(0, 20, size=len(sig))
    edge = sig["expected_edge_bps"].to_numpy()
    n = len(sig)
    ret = np.where(edge < 5, rng.normal(-0.0008, 0.0005, size=n), rng.normal(0.0005, 0.0005, size=n))
    trades = trades_frame(
        symbol=sig["symbol"].to_numpy(dtype=object),
        direction=sig["direction"].to_numpy(dtype=object),
        ret=ret,
        ts=sig["ts"].to_numpy() + 600_000,
        signal_event_id=sig["event_id"].to_numpy(dtype=object),
    )
    m = with_trades(m, trades)
    inputs = m.inputs.__class__(
        signals=sig, components=m.inputs.components, trades=trades, prices=m.inputs.prices, outcomes=m.inputs.outcomes
    )
    p = run_cycle(inputs, gated(), CONFIG, "continuous", m.now_ms)
    (change,) = [c for c in p.changes if c.path == "gates.fee.min_expected_edge_bps"]
    assert change.old == 0.0 and change.new == 2.0  # capped at max(20% of |gate|, 2 bps)
    again = run_cycle(inputs, p.sections, CONFIG, "continuous", m.now_ms)
    (change,) = [c for c in again.changes if c.path == "gates.fee.min_expected_edge_bps"]
    assert change.old == 2.0 and change.new == 4.0
