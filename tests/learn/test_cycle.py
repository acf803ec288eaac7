"""Whole cycles: pure noise moves nothing, determinism, gaps, comprehensive learners, diff and apply."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from core.learn.cycle import apply_changes, run_cycle
from core.learn.diff import diff_sections
from core.learn.health import assess_health
from core.learn.outcomes import symbols_without_marks
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from tests.learn.markets import block, cycles, market, noise_trades, signals_frame, with_trades

CONFIG = LearningConfig()


def noisy_bot(seed: int = 11):
    m = market(seed=seed, n_signals=3000, components={f"c{i}": 0.5 for i in range(6)}, plant_horizon_s=900)
    rng = np.random.default_rng(seed)
    conv = m.inputs.signals["conviction"].to_numpy()
    gate = np.where(conv < 0.3, "conviction_gate", np.where(rng.random(len(conv)) < 0.1, "fee_gate", None))
    for name in ("conviction_gate", "fee_gate"):
        m = block(m, gate == name, name, winners=None, seed=seed)
    sig = m.inputs.signals.copy()
    sig["expected_edge_bps"] = np.where(gate == "fee_gate", rng.uniform(0, 5, len(sig)), rng.uniform(5, 20, len(sig)))
    m = replace(m, inputs=replace(m.inputs, signals=sig))
    return with_trades(m, noise_trades(seed=seed, n=1500, end_ms=m.now_ms, symbols=("AAA", "BBB", "CCC", "DDD")))


def start(min_conviction: float = 0.3, min_edge: float = 5.0):
    s = default_sections(CONFIG)
    gates = s.gates.model_copy(deep=True)
    gates.conviction.min_conviction = min_conviction
    gates.fee.min_expected_edge_bps = min_edge
    return s.model_copy(update={"gates": gates})


def test_pure_noise_moves_nothing() -> None:
    m = noisy_bot()
    runs = cycles(m.inputs, start(), CONFIG, m.now_ms, 3)
    first = runs[0]
    assert {c.path for c in first.changes} == {f"weights.c{i}" for i in range(6)}
    assert all(c.new == 1.0 for c in first.changes)
    for p in runs:
        s = p.sections
        assert set(s.weights.values()) == {1.0} and s.signal_horizons == {}
        assert s.gates == start().gates
        assert [b.multiplier for b in s.sizing.buckets] == [1.0] * 4
        assert s.blocked_combos == []
    assert runs[1].changes == [] and runs[2].changes == []


def test_two_runs_give_identical_json() -> None:
    m = noisy_bot(12)
    a = run_cycle(m.inputs, start(), CONFIG, "comprehensive", m.now_ms).to_json()
    b = run_cycle(m.inputs, start(), CONFIG, "comprehensive", m.now_ms).to_json()
    assert a.encode() == b.encode()
    doc = json.loads(a)
    assert set(doc) == {"kind", "now_ms", "changes", "sections", "inputs", "reports", "facts"}
    assert set(doc["facts"]) == {"component_outcomes", "symbols_without_marks", "outcomes_pending", "evidence"}
    assert "NaN" not in a and "Infinity" not in a


def test_signals_without_marks_are_gaps_not_outcomes() -> None:
    m = market(seed=13, n_signals=200)
    n = 30
    ghost = signals_frame(
        event_id=np.array([f"z{i}" for i in range(n)], dtype=object),
        ts=m.now_ms - 3 * 3600_000 + np.arange(n, dtype=np.int64) * 60_000,
        symbol=np.full(n, "ZZZ", dtype=object),
        direction=np.full(n, "long", dtype=object),
        price=np.full(n, 5.0),
    )
    signals = pd.concat([m.inputs.signals, ghost], ignore_index=True)
    comps = pd.concat([m.inputs.components, pd.DataFrame({"ofi": np.ones(n)})], ignore_index=True)
    inputs = replace(m.inputs, signals=signals, components=comps[sorted(comps.columns)])
    p = run_cycle(inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    gaps = p.new_outcomes[p.new_outcomes["status"] == "gap"]
    assert len(gaps) == n * 5 and set(gaps["reason"]) == {"no_marks"}
    assert set(gaps["signal_event_id"].str[0]) == {"z"}
    assert p.inputs["gaps"] == n * 5 and p.inputs["outcomes"] == 200 * 5
    missing = symbols_without_marks(inputs.signals, inputs.prices)
    assert p.facts["symbols_without_marks"] == missing == {"ZZZ": 30}
    assert p.facts["outcomes_pending"] == p.pending
    # ofi is carried by the 200 marked signals (resolved at every horizon) and the 30 ghosts (never).
    assert p.facts["component_outcomes"]["ofi"] == 200  # type: ignore[index]
    health = assess_health(
        now_ms=m.now_ms,
        counts={"signals": 230},
        component_outcomes={},
        required=50,
        weights={},
        symbols_without_marks=missing,
    )
    (problem,) = health["problems"]  # type: ignore[misc]
    assert problem["code"] == "no_price_marks"
    assert problem["detail"] == {"symbols": [{"symbol": "ZZZ", "signals": 30}], "signals": 30}
    assert "ZZZ" in problem["message"]


def test_comprehensive_cycle_allocates_and_sets_hold_times() -> None:
    m = market(seed=14, n_signals=2000, plant_horizon_s=900, components={"ofi": 0.7})
    sig = m.inputs.signals.copy()
    sig["direction"] = pd.array(np.where(m.future > 0, "long", "short"), dtype="str")  # executed signals that work
    sig["strategy"] = np.where(np.arange(len(sig)) % 2 == 0, "momo", "revert").astype(object)
    m = replace(m, inputs=replace(m.inputs, signals=sig))
    trades = noise_trades(seed=3, n=600, end_ms=m.now_ms)
    trades.loc[trades["strategy"] == "momo", "pnl"] += 3.0  # momo earns 30 bps more per trade
    m = with_trades(m, trades)
    runs = cycles(m.inputs, default_sections(CONFIG), CONFIG, m.now_ms, 12, kind="comprehensive")
    for p in runs:
        for fractions in (p.sections.allocation.strategies, p.sections.allocation.symbols):
            assert math.isclose(math.fsum(fractions.values()), 1.0, abs_tol=1e-12)
            assert min(fractions.values()) >= 0.05 - 1e-6
    first = runs[0].sections.allocation.strategies
    assert first["momo"] > first["revert"]
    final = runs[-1].sections.allocation.strategies
    assert final["momo"] > 0.8 and final["revert"] >= 0.05 - 1e-6
    # The signals pay at 15m, the default target's horizon: no other horizon beats it, nothing is set.
    assert runs[0].sections.hold_time.by_strategy == {}
    assert runs[-1].changes == []


def test_diff_matches_the_changes_and_apply_is_consistent() -> None:
    m = noisy_bot(15)
    m = market(seed=1, n_signals=3000)
    p = run_cycle(m.inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    diff = diff_sections(default_sections(CONFIG), p.sections)
    assert [(d["path"], d["old"], d["new"]) for d in diff] == sorted(
        [(c.path, c.old, c.new) for c in p.changes], key=lambda t: (t[0].split(".")[0] != "weights", t[0])
    )
    assert apply_changes(default_sections(CONFIG), p.changes) == p.sections
    assert diff_sections(p.sections, p.sections) == []


def test_continuous_cycles_carry_the_comprehensive_learners_evidence_clocks() -> None:
    # Routing, regime weights and allocation run only in comprehensive cycles; a continuous cycle in
    # between must hand their clocks on, or evidence_ttl would restart at every comprehensive cycle.
    m = noisy_bot(13)
    clocks = {
        "direction_routing.AAA": m.now_ms - 1_000,
        "weights_by_regime.calm.c0": m.now_ms - 2_000,
        "allocation.strategies.alpha": m.now_ms - 3_000,
    }
    p = run_cycle(m.inputs, start(), CONFIG, "continuous", m.now_ms, evidence=clocks)
    carried = p.facts["evidence"]
    assert isinstance(carried, dict)
    assert {k: carried.get(k) for k in clocks} == clocks
