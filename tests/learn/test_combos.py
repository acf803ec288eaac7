"""Blocked combos: block a proven loser (against the bot's other trades, bursts counted once, controlled
across the combos tested), spare winners, small samples and noise; release on significant counterfactual
proof, with t and an interval."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from core.learn.cycle import run_cycle
from core.learn.frames import rfc3339_ms
from core.schemas.config import LearningConfig
from core.schemas.params import BlockedCombo, default_sections
from tests.learn.markets import MINUTE, block, combo_trades, market, trades_frame, with_trades

CONFIG = LearningConfig()


def pool(end_ms: int, n: int = 60, seed: int = 10) -> pd.DataFrame:
    """Ordinary combos around a 50% win rate: the bot's other trades."""
    return pd.concat(
        [
            combo_trades(seed=seed + k, symbol=s, direction=d, n=n, win_rate=0.5, win=0.003, loss=0.003, end_ms=end_ms)
            for k, (s, d) in enumerate([("AAA", "long"), ("AAA", "short"), ("CCC", "long"), ("CCC", "short")])
        ],
        ignore_index=True,
    )


def blocks(p) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.path for c in p.changes if c.path.startswith("blocked_combos") and c.old is None]


def test_losing_combo_is_blocked_but_winners_and_small_samples_are_not() -> None:
    m = market(seed=4, n_signals=200, symbols=("BAD", "OK", "FEW", "AAA", "CCC"))
    trades = pd.concat(
        [
            pool(m.now_ms),
            combo_trades(
                seed=1, symbol="BAD", direction="long", n=60, win_rate=0.2, win=0.004, loss=0.003, end_ms=m.now_ms
            ),
            combo_trades(
                seed=2, symbol="OK", direction="short", n=60, win_rate=0.45, win=0.006, loss=0.003, end_ms=m.now_ms
            ),
            combo_trades(
                seed=3, symbol="FEW", direction="long", n=8, win_rate=0.0, win=0.002, loss=0.003, end_ms=m.now_ms
            ),
        ],
        ignore_index=True,
    )
    p = run_cycle(with_trades(m, trades).inputs, default_sections(CONFIG), CONFIG, "comprehensive", m.now_ms)
    assert blocks(p) == ["blocked_combos[BAD:long]"]
    (entry,) = p.sections.blocked_combos
    assert (entry.symbol, entry.direction, entry.trades, entry.win_rate) == ("BAD", "long", 60, 0.2)
    assert entry.pnl < 0 and entry.since == rfc3339_ms(m.now_ms)
    (change,) = [c for c in p.changes if c.path == "blocked_combos[BAD:long]"]
    assert change.stats["wilson_high"] < 0.5 and change.stats["t"] < -3  # type: ignore[operator]
    assert change.stats["p"] < 0.01 / 6 and change.stats["pooled_win_rate"] > 0.4  # type: ignore[operator]
    assert "significant among 6 combos tested" in change.reason
    report = {(r["symbol"], r["direction"]): r for r in p.reports["combos"]}
    assert report[("BAD", "long")]["blocked"] is True
    assert report[("OK", "short")]["blocked"] is False and report[("OK", "short")]["pnl"] > 0  # type: ignore[operator]
    assert report[("FEW", "long")]["trades"] == 8


def burst_combo(end_ms: int, bursts: int, per_burst: int, losing_bursts: int) -> pd.DataFrame:
    """``bursts`` bursts of ``per_burst`` same-direction trades seconds apart; a burst wins or loses as one."""
    n = bursts * per_burst
    outcome = np.where(np.arange(bursts) < losing_bursts, -0.003, 0.003)
    ts = end_ms - (np.repeat(np.arange(bursts), per_burst) * 120 + np.tile(np.arange(per_burst), bursts)) * MINUTE // 10
    return trades_frame(
        symbol=np.full(n, "BUR", dtype=object),
        direction=np.full(n, "long", dtype=object),
        ret=np.repeat(outcome, per_burst),
        ts=ts,
        prefix="bur",
    )


def test_a_burst_counts_once() -> None:
    # 40 trades in 10 bursts of 4, 8 bursts losing: a 20% win rate over 10 decisions, not 40: no block.
    # The same record as 40 separate decisions (40 bursts of 1) is blocked.
    m = market(seed=4, n_signals=100, symbols=("BUR", "AAA", "CCC"))
    bursts = with_trades(m, pd.concat([pool(m.now_ms), burst_combo(m.now_ms, 10, 4, 8)], ignore_index=True))
    p = run_cycle(bursts.inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    assert blocks(p) == []
    single = with_trades(m, pd.concat([pool(m.now_ms), burst_combo(m.now_ms, 40, 1, 32)], ignore_index=True))
    p = run_cycle(single.inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    assert blocks(p) == ["blocked_combos[BUR:long]"]


def test_noise_combos_are_blocked_in_few_bots() -> None:
    # 60 bots x 10 combos x 25 trades with a 45% win rate (fees) and random sizes: the combos of a cycle are
    # one family (BH at 1%), so a bot has any false block with probability ~1%; allow up to 3 of 60
    # (P(>= 4 | p = 1%) < 0.4%).
    m = market(seed=3, n_signals=20, symbols=("S0", "S1", "S2", "S3", "S4"))
    moved = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = 250
        trades = trades_frame(
            symbol=np.array(["S0", "S1", "S2", "S3", "S4"], dtype=object)[np.arange(n) % 5],
            direction=np.where((np.arange(n) // 5) % 2 == 0, "long", "short").astype(object),
            ret=np.where(rng.random(n) < 0.45, 1.0, -1.0) * rng.exponential(0.002, size=n),
            ts=m.now_ms - np.arange(n, dtype=np.int64) * 20 * MINUTE,
        )
        p = run_cycle(with_trades(m, trades).inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
        moved += bool(blocks(p))
    assert moved <= 3


def blocked_bad_long() -> BlockedCombo:
    return BlockedCombo(
        symbol="BAD", direction="long", since="2026-01-01T00:00:00.000Z", reason="x", trades=30, win_rate=0.2, pnl=-10.0
    )


def test_blocked_combo_is_released_when_its_blocked_signals_would_have_paid() -> None:
    m = market(seed=5, n_signals=400, symbols=("BAD", "AAA"), plant_horizon_s=900)
    is_bad = (m.inputs.signals["symbol"] == "BAD").to_numpy() & (m.future > 0)
    m = block(m, is_bad, "blocked_combo", winners=True)  # longs on BAD that went up
    current = default_sections(CONFIG).model_copy(update={"blocked_combos": [blocked_bad_long()]})
    p = run_cycle(m.inputs, current, CONFIG, "continuous", m.now_ms)
    (change,) = [c for c in p.changes if c.path.startswith("blocked_combos")]
    assert change.path == "blocked_combos[BAD:long]" and change.new is None
    assert isinstance(change.old, dict) and change.old["symbol"] == "BAD"
    assert p.sections.blocked_combos == []
    assert "would have made +" in change.reason and "95% interval" in change.reason
    stats = change.stats
    assert stats["t"] > 3 and 0 < stats["ev_low_bps"] < stats["ev_bps"] < stats["ev_high_bps"]  # type: ignore[operator]


def test_a_barely_positive_block_is_not_released() -> None:
    # 40 blocked signals whose would-be returns average a hair above zero (t ~ 0): the block stays.
    m = market(seed=5, n_signals=400, symbols=("BAD", "AAA"), plant_horizon_s=900)
    is_bad = (m.inputs.signals["symbol"] == "BAD").to_numpy()
    m = block(m, is_bad, "blocked_combo", winners=None, seed=2)
    m2 = m.inputs.signals.copy()
    m2["direction"] = pd.array(np.where(is_bad, "long", m2["direction"].to_numpy()), dtype="str")
    current = default_sections(CONFIG).model_copy(update={"blocked_combos": [blocked_bad_long()]})
    p = run_cycle(replace(m.inputs, signals=m2), current, CONFIG, "continuous", m.now_ms)
    assert p.sections.blocked_combos == [blocked_bad_long()]


def test_blocked_combo_stays_when_its_blocked_signals_would_have_lost() -> None:
    m = market(seed=5, n_signals=400, symbols=("BAD", "AAA"), plant_horizon_s=900)
    is_bad = (m.inputs.signals["symbol"] == "BAD").to_numpy() & (m.future < 0)
    m = block(m, is_bad, "blocked_combo", winners=False)
    current = default_sections(CONFIG).model_copy(update={"blocked_combos": [blocked_bad_long()]})
    p = run_cycle(m.inputs, current, CONFIG, "continuous", m.now_ms)
    assert p.sections.blocked_combos == [blocked_bad_long()]
    assert np.all([not c.path.startswith("blocked_combos") for c in p.changes])
