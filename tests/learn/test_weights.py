"""Signal weights on planted markets: order, targets, step caps, convergence, overlap, noise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.learn.cycle import run_cycle
from core.learn.enrich import Enriched, enrich
from core.learn.health import assess_health
from core.learn.outcomes import resolve_outcomes
from core.learn.weights import component_outcome_counts, component_stats
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from tests.learn.markets import Market, cycles, market

CONFIG = LearningConfig()


def enriched_of(m: Market, config: LearningConfig = CONFIG) -> Enriched:
    inputs = m.inputs
    out = resolve_outcomes(inputs.signals, inputs.prices, config.horizon_seconds(), m.now_ms).outcomes
    labels = dict(zip(config.horizon_seconds(), config.horizons, strict=True))
    return enrich(inputs, out, labels, m.now_ms, config.lookback_seconds(), 900)


def test_planted_edges_order_converge_and_then_stop() -> None:
    m = market(seed=1, n_signals=6000, components={"ofi": 0.6, "noise": 0.5, "contrarian": 0.4})
    runs = cycles(m.inputs, default_sections(CONFIG), CONFIG, m.now_ms, 6)
    w = runs[-1].sections.weights
    assert w["ofi"] > w["noise"] > w["contrarian"]
    assert abs(w["ofi"] - 1.5) < 0.1  # right 60% of the time -> profit factor near 0.6 / 0.4
    assert abs(w["contrarian"] - 1 / 1.5) < 0.07
    assert abs(w["noise"] - 1.0) <= 0.1
    assert runs[-1].sections.signal_horizons["ofi"] == "5m"
    for p in runs:
        for c in p.changes:
            if c.path.startswith("weights.") and isinstance(c.old, float) and isinstance(c.new, float):
                assert abs(c.new / c.old - 1) <= CONFIG.max_step + 1e-9, c
    first = {c.path: c for c in runs[0].changes}
    assert first["weights.ofi"].old is None and first["weights.ofi"].new == 1.2
    assert (
        "capped at +20%" in first["weights.ofi"].reason
        and "at 5m over 6000 outcomes (t=" in first["weights.ofi"].reason
    )
    assert first["weights.noise"].new == 1.0  # enters at the default, a change with a reason
    assert runs[-1].changes == [] and runs[-2].changes == []


def test_weight_settles_on_the_shrunk_profit_factor() -> None:
    m = market(seed=2, n_signals=2000, components={"ofi": 0.62})
    runs = cycles(m.inputs, default_sections(CONFIG), CONFIG, m.now_ms, 6)
    e = enriched_of(m)
    score = e.components["ofi"].to_numpy()
    x = np.sign(score) * e.signals["ret_300s"].to_numpy()
    gains, losses = x[x > 0].sum(), -x[x < 0].sum()
    k = CONFIG.min_outcomes * np.abs(x).mean() / 2
    target = (gains + k) / (losses + k)
    assert 1.3 < target < gains / losses
    assert abs(runs[-1].sections.weights["ofi"] - target) <= 0.005 * target + 1e-6


def test_overlapping_outcomes_are_not_significant_with_overlap_errors() -> None:
    config = LearningConfig(horizons=["1d"], lookback="90d")
    m = market(seed=9, symbols=("AAA",), n_signals=1440, spacing_min=60, components={"trend": 1.0}, tail_min=1500)
    m = replace(m, inputs=replace(m.inputs, components=pd.DataFrame({"trend": np.ones(1440)})))
    (s,) = component_stats(enriched_of(m, config), config)
    assert s.n == 1440 and s.evidence.method == "overlap" and s.n_eff < 1440 / 5
    assert abs(s.naive_t) > 5.0  # hourly 24h returns overlap 24-fold: the iid t is badly inflated
    assert abs(s.t) < config.min_t
    p = run_cycle(m.inputs, default_sections(config), config, "continuous", m.now_ms)
    assert p.sections.weights == {"trend": 1.0}


def test_below_min_outcomes_nothing_moves_and_health_says_why() -> None:
    m = market(seed=3, n_signals=40, components={"ofi": 0.9, "vol": 0.1})
    p = run_cycle(m.inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    assert p.sections.weights == {"ofi": 1.0, "vol": 1.0}
    assert p.sections.signal_horizons == {}
    assert {c.path for c in p.changes} == {"weights.ofi", "weights.vol"}
    assert "40 resolved outcomes so far, 50 needed" in p.changes[0].reason
    counts = component_outcome_counts(component_stats(enriched_of(m), CONFIG))
    assert p.facts["component_outcomes"] == counts
    assert counts == {"ofi": 40, "vol": 40}
    health = assess_health(
        now_ms=m.now_ms, counts={"signals": 40}, component_outcomes=counts, required=50, weights=p.sections.weights
    )
    (problem,) = health["problems"]  # type: ignore[misc]
    assert problem["code"] == "insufficient_outcomes"
    assert problem["detail"] == {
        "components": [{"name": "ofi", "outcomes": 40, "required": 50}, {"name": "vol", "outcomes": 40, "required": 50}]
    }
    assert "ofi 40/50" in problem["message"] and health["level"] == "warn"
    assert [c["status"] for c in health["components"]] == ["insufficient_data", "insufficient_data"]  # type: ignore[index,union-attr]


def test_components_summarised_in_parallel_give_the_serial_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.learn import weights

    m = market(seed=17, n_signals=3000, components={f"c{i}": 0.5 + i / 20 for i in range(6)})
    enriched = enriched_of(m)
    monkeypatch.setattr(weights, "PARALLEL_FROM", 10**12)  # serial
    serial = component_stats(enriched, CONFIG)
    monkeypatch.setattr(weights, "PARALLEL_FROM", 0)  # threads, whatever the size
    assert component_stats(enriched, CONFIG) == serial
    assert [s.component for s in serial] == sorted(s.component for s in serial)
