"""Blocked combos: block a proven loser, spare winners and small samples, release on counterfactual proof."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.cycle import run_cycle
from core.learn.frames import rfc3339_ms
from core.schemas.config import LearningConfig
from core.schemas.params import BlockedCombo, default_sections
from tests.learn.markets import block, combo_trades, market, with_trades

CONFIG = LearningConfig()


def test_losing_combo_is_blocked_but_winners_and_small_samples_are_not() -> None:
    m = market(seed=4, n_signals=200, symbols=("BAD", "OK", "FEW"))
    trades = pd.concat(
        [
            combo_trades(
                seed=1, symbol="BAD", direction="long", n=60, win_rate=0.25, win=0.004, loss=0.003, end_ms=m.now_ms
            ),
            combo_trades(
                seed=2, symbol="OK", direction="short", n=60, win_rate=0.45, win=0.006, loss=0.003, end_ms=m.now_ms
            ),
            combo_trades(
                seed=3, symbol="FEW", direction="long", n=8, win_rate=0.30, win=0.002, loss=0.003, end_ms=m.now_ms
            ),
        ],
        ignore_index=True,
    )
    p = run_cycle(with_trades(m, trades).inputs, default_sections(CONFIG), CONFIG, "comprehensive", m.now_ms)
    combos = [c for c in p.changes if c.path.startswith("blocked_combos")]
    assert [c.path for c in combos] == ["blocked_combos[BAD:long]"]
    (entry,) = p.sections.blocked_combos
    assert (entry.symbol, entry.direction, entry.trades, entry.win_rate) == ("BAD", "long", 60, 0.25)
    assert entry.pnl < 0 and entry.since == rfc3339_ms(m.now_ms)
    assert combos[0].old is None and combos[0].stats["wilson_high"] < 0.5  # type: ignore[operator]
    report = {(r["symbol"], r["direction"]): r for r in p.reports["combos"]}
    assert report[("BAD", "long")]["blocked"] is True
    assert report[("OK", "short")]["blocked"] is False and report[("OK", "short")]["pnl"] > 0  # type: ignore[operator]
    assert report[("FEW", "long")]["trades"] == 8


def test_blocked_combo_is_released_when_its_blocked_signals_would_have_paid() -> None:
    m = market(seed=5, n_signals=400, symbols=("BAD", "AAA"), plant_horizon_s=900)
    is_bad = (m.inputs.signals["symbol"] == "BAD").to_numpy() & (m.future > 0)
    m = block(m, is_bad, "blocked_combo", winners=True)  # longs on BAD that went up
    current = default_sections(CONFIG).model_copy(
        update={
            "blocked_combos": [
                BlockedCombo(
                    symbol="BAD",
                    direction="long",
                    since="2026-01-01T00:00:00.000Z",
                    reason="x",
                    trades=30,
                    win_rate=0.2,
                    pnl=-10.0,
                )
            ]
        }
    )
    p = run_cycle(m.inputs, current, CONFIG, "continuous", m.now_ms)
    (change,) = [c for c in p.changes if c.path.startswith("blocked_combos")]
    assert change.path == "blocked_combos[BAD:long]" and change.new is None
    assert isinstance(change.old, dict) and change.old["symbol"] == "BAD"
    assert p.sections.blocked_combos == []
    assert "would have made +" in change.reason


def test_blocked_combo_stays_when_its_blocked_signals_would_have_lost() -> None:
    m = market(seed=5, n_signals=400, symbols=("BAD", "AAA"), plant_horizon_s=900)
    is_bad = (m.inputs.signals["symbol"] == "BAD").to_numpy() & (m.future < 0)
    m = block(m, is_bad, "blocked_combo", winners=False)
    entry = BlockedCombo(
        symbol="BAD", direction="long", since="2026-01-01T00:00:00.000Z", reason="x", trades=30, win_rate=0.2, pnl=-10.0
    )
    current = default_sections(CONFIG).model_copy(update={"blocked_combos": [entry]})
    p = run_cycle(m.inputs, current, CONFIG, "continuous", m.now_ms)
    assert p.sections.blocked_combos == [entry]
    assert np.all([not c.path.startswith("blocked_combos") for c in p.changes])
