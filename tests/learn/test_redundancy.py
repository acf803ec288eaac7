"""Redundancy on real EURUSD hourly bars: a near copy of a real component (score correlation > 0.9) does not
double its influence: the copy's weight stays at most 1 while the original's rises; noise copies and
uncorrelated components are left alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.learn.cycle import run_cycle
from core.learn.enrich import resolve_and_enrich
from core.learn.redundancy import redundant_caps
from core.schemas.params import ParamSections
from tests.learn.hourly import config, hourly_market
from tests.learn.markets import Market


def with_copy(seed: int, rho: float = 0.25, noise: float = 0.3) -> Market:
    """``ofi`` predicts the next bar (correlation ``rho``); ``copy`` = ofi + noise x N(0, 1)."""
    m = hourly_market(seed)
    rng = np.random.default_rng(seed + 5)
    z = (m.future - m.future.mean()) / m.future.std()
    comps = m.inputs.components.copy()
    comps["ofi"] = rho * z + np.sqrt(1 - rho * rho) * rng.normal(size=z.size)
    comps["copy"] = comps["ofi"] + noise * rng.normal(size=z.size)
    comps = comps[sorted(comps.columns)]
    return Market(inputs=replace(m.inputs, components=comps), now_ms=m.now_ms, future=m.future)


def test_a_redundant_copy_does_not_double_the_influence() -> None:
    cfg = config()
    m = with_copy(8)
    assert np.corrcoef(m.inputs.components["ofi"], m.inputs.components["copy"])[0, 1] > 0.9
    sections = ParamSections()
    reasons: list[str] = []
    for _ in range(6):
        proposal = run_cycle(m.inputs, sections, cfg, "continuous", m.now_ms)
        sections = proposal.sections
        reasons += [c.reason for c in proposal.changes if c.path == "weights.copy"]
    assert sections.weights["ofi"] > 1.2
    assert sections.weights["copy"] <= 1.0 + 1e-6
    assert any("ofi" in r and "correlates 0.9" in r for r in reasons), reasons
    # without the joint estimate the copy would have risen like the original
    free = ParamSections()
    for _ in range(6):
        free = run_cycle(m.inputs, free, config(redundancy_threshold=0.99), "continuous", m.now_ms).sections
    assert free.weights["copy"] > 1.2


def test_a_capped_weight_above_one_comes_down_within_max_step() -> None:
    cfg = config()
    m = with_copy(9)
    start = ParamSections().model_copy(update={"weights": {"copy": 1.5, "momentum": 1.0, "ofi": 1.0}})
    proposal = run_cycle(m.inputs, start, cfg, "continuous", m.now_ms)
    [change] = [c for c in proposal.changes if c.path == "weights.copy"]
    assert change.old == 1.5 and isinstance(change.new, float)
    assert 1.5 * (1 - cfg.max_step) - 1e-6 <= change.new < 1.5


def test_uncorrelated_components_are_not_capped() -> None:
    cfg = config()
    for seed in range(3):
        m = hourly_market(60 + seed)  # ofi and momentum: independent noise
        enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 3600)
        assert redundant_caps(enriched, ParamSections(), cfg) == {}
