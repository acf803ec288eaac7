"""Sizing: multipliers follow realized expectancy per conviction bucket, within caps and bounds."""

from __future__ import annotations

import numpy as np

from core.learn.cycle import run_cycle
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from tests.learn.markets import cycles, market, trades_frame, with_trades

CONFIG = LearningConfig()
CENTRES = np.array([0.125, 0.375, 0.625, 0.875])


def bucket_trades(seed: int, means_bps: list[float], per_bucket: int = 300, sd_bps: float = 20.0, end_ms: int = 0):
    rng = np.random.default_rng(seed)
    k = len(means_bps)
    which = np.repeat(np.arange(k), per_bucket)
    ret = rng.normal(np.array(means_bps)[which] / 1e4, sd_bps / 1e4)
    n = which.size
    return trades_frame(
        symbol=np.full(n, "AAA", dtype=object),
        direction=np.full(n, "long", dtype=object),
        ret=ret,
        ts=end_ms - np.arange(n, dtype=np.int64) * 60_000,
        conviction=CENTRES[which] + rng.uniform(-0.1, 0.1, size=n),
    )


def multipliers(sections) -> list[float]:
    return [b.multiplier for b in sections.sizing.buckets]


def test_higher_expectancy_never_gets_the_lower_multiplier() -> None:
    m = market(seed=6, n_signals=100)
    for seed, means in enumerate([[-5, 0, 5, 15], [10, -5, 20, 0], [8, 8, 2, 30], [0, 12, 12, -10]]):
        trades = bucket_trades(seed, means, end_ms=m.now_ms)
        runs = cycles(with_trades(m, trades).inputs, default_sections(CONFIG), CONFIG, m.now_ms, 8)
        realized = [
            trades["pnl"][(trades["conviction"] >= lo) & (trades["conviction"] < lo + 0.25)].mean()
            for lo in (0.0, 0.25, 0.5, 0.75)
        ]
        for p in runs:
            mult = multipliers(p.sections)
            for i in range(4):
                for j in range(4):
                    if realized[i] > realized[j]:
                        assert mult[i] >= mult[j], (means, realized, mult)
            for c in p.changes:
                if c.path.startswith("sizing.") and isinstance(c.old, float) and isinstance(c.new, float):
                    assert abs(c.new / c.old - 1) <= CONFIG.max_step + 1e-9
                    assert 0.25 <= c.new <= 3.0
        final = multipliers(runs[-1].sections)
        assert final[int(np.argmax(realized))] > 1.0 and final[int(np.argmin(realized))] < 1.0


def test_flat_expectancy_leaves_sizing_alone() -> None:
    m = market(seed=7, n_signals=100)
    trades = bucket_trades(3, [4, 4, 4, 4], end_ms=m.now_ms)
    p = run_cycle(with_trades(m, trades).inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    assert multipliers(p.sections) == [1.0, 1.0, 1.0, 1.0]


def test_too_few_trades_per_bucket_leave_sizing_alone() -> None:
    m = market(seed=7, n_signals=100)
    trades = bucket_trades(3, [-50, 0, 50, 100], per_bucket=10, end_ms=m.now_ms)
    p = run_cycle(with_trades(m, trades).inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    assert multipliers(p.sections) == [1.0, 1.0, 1.0, 1.0]
