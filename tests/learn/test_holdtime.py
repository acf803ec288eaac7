"""Hold time moves only when another horizon beats the current target on the same signals, significantly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from core.learn.cycle import run_cycle
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from tests.learn.markets import market

CONFIG = LearningConfig()


def strategy_market(seed: int, follow: bool):  # type: ignore[no-untyped-def]
    m = market(seed=seed, n_signals=600, plant_horizon_s=3600, components={"ofi": 0.5})
    sig = m.inputs.signals.copy()
    if follow:  # executed signals that call the 1h move
        sig["direction"] = pd.array(np.where(m.future > 0, "long", "short"), dtype="str")
    sig["strategy"] = np.full(len(sig), "momo", dtype=object)
    return replace(m, inputs=replace(m.inputs, signals=sig))


def test_noise_sets_no_hold_target() -> None:
    # Issue #18: +0.1 bps at 1h over 50 outcomes set `target 3600 s`. Random directions: nothing beats 15m.
    for seed in range(6):
        m = strategy_market(seed, follow=False)
        p = run_cycle(m.inputs, default_sections(CONFIG), CONFIG, "comprehensive", m.now_ms)
        assert p.sections.hold_time.by_strategy == {}, seed


def test_a_horizon_that_pays_more_on_the_same_signals_becomes_the_target() -> None:
    m = strategy_market(1, follow=True)
    p = run_cycle(m.inputs, default_sections(CONFIG), CONFIG, "comprehensive", m.now_ms)
    policy = p.sections.hold_time.by_strategy["momo"]
    assert (policy.target_s, policy.max_s) == (3600, 7200)
    (change,) = [c for c in p.changes if c.path == "hold_time.by_strategy.momo"]
    assert change.stats["compared_to_s"] == 900 and change.stats["t"] > 3  # type: ignore[operator]
    assert "more at 1h than at 15m" in change.reason and "significant among 4 alternative horizons" in change.reason
    again = run_cycle(m.inputs, p.sections, CONFIG, "comprehensive", m.now_ms)
    assert not [c for c in again.changes if c.path.startswith("hold_time.")]
