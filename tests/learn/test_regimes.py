"""Regime-aware weights on real EURUSD hourly bars: a component that pays only in one regime gets a regime
weight there (near the target that regime would have as a bot of its own) and stays near 1 where it is
noise; shuffled regimes list nothing."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from core.learn.cycle import run_cycle
from core.learn.enrich import resolve_and_enrich
from core.learn.regimes import learn_regime_weights, regime_stats
from core.schemas.params import ParamSections
from tests.learn.hourly import config, hourly_market
from tests.learn.markets import Market


def pays_in_trend(seed: int, rho: float = 0.25) -> Market:
    """``ofi`` predicts the next bar in regime "trend" only (noise in "range")."""
    m = hourly_market(seed, bars=2500)
    rng = np.random.default_rng(seed + 1)
    z = (m.future - m.future.mean()) / m.future.std()
    trend = (m.inputs.signals["regime"] == "trend").to_numpy()
    noise = rng.normal(size=z.size)
    comps = m.inputs.components.copy()
    comps["ofi"] = np.where(trend, rho * z + np.sqrt(1 - rho * rho) * noise, noise)
    return Market(inputs=replace(m.inputs, components=comps), now_ms=m.now_ms, future=m.future)


def test_a_component_that_pays_in_one_regime_gets_a_regime_weight_there() -> None:
    cfg = config()
    m = pays_in_trend(5)
    enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 900)
    stats = {(s.regime, s.component): s for s in regime_stats(enriched, ParamSections(), cfg)}
    own_target = stats[("trend", "ofi")].target  # the target "trend" would have as a bot of its own
    assert own_target > 1.2
    sections = ParamSections()
    used: list[float] = []
    for _ in range(12):  # the same window, cycle after cycle: the weight converges within max_step
        sections = run_cycle(m.inputs, sections, cfg, "comprehensive", m.now_ms).sections
        by_regime = sections.weights_by_regime
        used.append(by_regime.get("trend", {}).get("ofi", sections.weights.get("ofi", 1.0)))
        range_weight = by_regime.get("range", {}).get("ofi", sections.weights.get("ofi", 1.0))
    assert "ofi" in sections.weights_by_regime["trend"]
    assert abs(used[-1] / own_target - 1.0) <= 0.10, (used, own_target)
    assert all(b >= a for a, b in itertools.pairwise(used))  # moves one way, within max_step
    assert 0.9 <= range_weight <= 1.1
    assert "momentum" not in sections.weights_by_regime.get("trend", {})


def test_shuffled_regimes_list_no_regime_weight() -> None:
    cfg = config()
    for seed in range(3):
        m = pays_in_trend(20 + seed)
        rng = np.random.default_rng(seed)
        signals = m.inputs.signals.copy()
        signals["regime"] = rng.permutation(signals["regime"].to_numpy())
        enriched, _ = resolve_and_enrich(replace(m.inputs, signals=signals), cfg, m.now_ms, 900)
        changes, clocks, stats = learn_regime_weights(enriched, ParamSections(), cfg, m.now_ms)
        assert len(stats) == 4 and changes == [] and clocks == {}
