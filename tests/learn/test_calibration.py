"""Calibration under the null, degenerate samples, events after the watermark, evidence expiry.

Seeded simulations on a smaller sample than bench/calibration.py (which measures the targets): rates
are asserted within binomial tolerance, and each test also shows the miscalibrated method failing
on the same data, so it could fail.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from core.learn.cycle import run_cycle
from core.learn.frames import CycleInputs, empty_outcomes
from core.learn.significance import ZERO_VARIANCE, mean_test, overlap_clusters
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from tests.learn.markets import T0, cycles, market
from tests.learn.old_t import hac_lag, summarize

CONFIG = LearningConfig()
HOUR = 3_600_000


def _upper(rate: float, trials: int, sds: float = 3.0) -> float:
    return rate + sds * math.sqrt(rate * (1 - rate) / trials)


def _overlapping_null(rng: np.random.Generator, n: int, horizon_ms: int, half_life_ms: float):  # type: ignore[no-untyped-def]
    """Poisson arrivals (mean gap 2 min) on a minute random walk; x = sign(persistent score) * return
    over [ts, first minute at or after ts + h]: overlapping windows, persistent scores, no edge."""
    ts = np.cumsum(rng.exponential(120_000.0, size=n)).astype(np.int64)
    minutes = int(ts[-1] // 60_000) + horizon_ms // 60_000 + 3
    logp = np.cumsum(rng.normal(0.0, 1e-4, size=minutes))
    start_min = ts // 60_000
    end_min = -(-(ts + horizon_ms) // 60_000)
    ret = logp[end_min] - logp[start_min]
    a = 0.5 ** (np.diff(ts, prepend=ts[0]) / half_life_ms)
    e = rng.normal(size=n)
    s = np.empty(n)
    s[0] = e[0]
    for i in range(1, n):
        s[i] = a[i] * s[i - 1] + math.sqrt(1 - a[i] * a[i]) * e[i]
    return np.sign(s) * ret, ts, end_min * 60_000


def test_overlap_errors_are_calibrated_where_the_median_spacing_lag_is_not() -> None:
    rng = np.random.default_rng(2026)
    trials = 400
    overlap_t, old_t = [], []
    for _ in range(trials):
        x, start, end = _overlapping_null(rng, 1500, 15 * 60_000, HOUR)
        overlap_t.append(mean_test(x, start_ms=start, end_ms=end).t)
        old_t.append(summarize(x, lag=hac_lag(start, 900)).t)
    t_new, t_old = np.array(overlap_t), np.array(old_t)
    nominal = 2 * (1 - 0.9772498680518208)  # P(|z| >= 2)
    assert np.mean(np.abs(t_new) >= 2) <= _upper(nominal, trials)
    assert 0.8 <= np.mean(t_new**2) <= 1.25
    assert np.mean(t_old**2) > 1.3  # the Bartlett kernel at ceil(h / median spacing) under-covers


def test_bursts_of_trades_are_calibrated_with_clusters() -> None:
    # 20 zero-edge trades in 4 bursts of 5 (a burst shares its market move): the iid t rejects often
    rng = np.random.default_rng(7)
    trials = 2000
    opened = np.repeat(np.arange(4) * 10 * HOUR, 5) + np.tile(np.arange(5) * 60_000, 4)
    closed = opened + 30 * 60_000
    labels = overlap_clusters(opened, closed)
    assert labels.tolist() == np.repeat(np.arange(4), 5).tolist()
    iid_pass = cluster_pass = 0
    for _ in range(trials):
        x = np.repeat(rng.normal(size=4), 5) + 0.3 * rng.normal(size=20)
        iid_pass += mean_test(x).passes(3.0)
        cluster_pass += mean_test(x, clusters=labels).passes(3.0)
    assert iid_pass / trials > 0.05
    assert cluster_pass / trials <= _upper(0.0027, trials)


def _noise_market(seed: int):  # type: ignore[no-untyped-def]
    return market(
        seed=seed,
        symbols=("AAA", "BBB"),
        n_signals=3000,
        spacing_min=1,
        components={"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5},
        tail_min=120,
    )


def test_noise_weights_stay_put_over_cycles_with_outcomes_carried() -> None:
    moved = 0
    bots = 12
    for seed in range(bots):
        m = _noise_market(100 + seed)
        for p in cycles(m.inputs, default_sections(CONFIG), CONFIG, m.now_ms, 2):
            moved += any(c.path.startswith("weights.") and c.old is not None for c in p.changes)
    # 4 noise components x 5 horizons per bot, each family at 0.27%: a handful of bots at most
    assert moved <= 1


def test_a_degenerate_sample_is_no_evidence_and_says_so() -> None:
    m = market(seed=5, n_signals=400, components={"flat": 0.5})
    prices = m.inputs.prices.assign(price=100.0)  # the price never moves: every return is exactly 0
    signals = m.inputs.signals.assign(price=100.0)
    inputs = replace(m.inputs, prices=prices, signals=signals)
    p = run_cycle(inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms)
    (change,) = p.changes
    assert change.new == 1.0 and "no evidence (all values identical)" in change.reason
    # returns equal up to rounding: numerically zero variance, not t = 1e16
    ev = mean_test(np.full(30, -1.2) / (1.1 * np.linspace(3.0, 3.0 + 1e-13, 30)))
    assert ev.degenerate == ZERO_VARIANCE and ev.t == 0.0


def test_events_after_the_watermark_never_affect_a_cycle() -> None:
    m = market(seed=8, n_signals=4000, components={"ofi": 0.6, "noise": 0.5})
    full = m.inputs
    now = T0 + 100 * 60_000 * 2  # the middle of the history
    sig_ts = full.signals["ts"].to_numpy()
    upto = sig_ts <= now
    sliced = CycleInputs(
        signals=full.signals[upto].reset_index(drop=True),
        components=full.components[upto].reset_index(drop=True),
        trades=full.trades,
        prices=full.prices[full.prices["ts"] <= now].reset_index(drop=True),
    )
    # the whole history resolved as of the end: outcomes decided after now, marks and signals after now
    late = run_cycle(full, default_sections(CONFIG), CONFIG, "continuous", m.now_ms).new_outcomes
    leaked = replace(full, outcomes=late)
    a = run_cycle(leaked, default_sections(CONFIG), CONFIG, "comprehensive", now)
    b = run_cycle(sliced, default_sections(CONFIG), CONFIG, "comprehensive", now)
    da, db = a.to_dict(), b.to_dict()
    for key in ("changes", "sections", "reports", "facts"):
        assert da[key] == db[key], key
    # the same outcomes are used: stored ones decided by now, plus those this cycle decides
    assert a.inputs["outcomes"] + a.inputs["gaps"] == b.inputs["outcomes"] + b.inputs["gaps"]
    assert a.inputs["signals"] == int(upto.sum()) < len(full.signals)
    assert (a.new_outcomes["mark_ts"] <= now).all()
    assert pd.Series(late["mark_ts"]).max() > now  # the leak was there to ignore


def test_evidence_expiry_steps_back_toward_the_default_after_the_ttl() -> None:
    m = _noise_market(3)
    now = m.now_ms
    sections = default_sections(CONFIG).model_copy(update={"weights": {"a": 1.5, "b": 1.0, "c": 1.0, "d": 1.0}})
    ttl = 3 * 24 * HOUR  # evidence_ttl "3d"
    # no clock yet: it starts now, nothing moves
    p = run_cycle(m.inputs, sections, CONFIG, "continuous", now)
    assert p.changes == [] and p.facts["evidence"] == {"weights.a": now}
    # the clock is younger than the ttl: nothing moves, the clock is kept
    p = run_cycle(m.inputs, sections, CONFIG, "continuous", now, evidence={"weights.a": now - ttl + 1})
    assert p.changes == [] and p.facts["evidence"] == {"weights.a": now - ttl + 1}
    # stale: one max_step back toward 1.0, with a reason; the clock stays where it was
    p = run_cycle(m.inputs, sections, CONFIG, "continuous", now, evidence={"weights.a": now - ttl})
    (change,) = p.changes
    assert change.path == "weights.a" and abs(change.new - 1.2) < 2e-6  # type: ignore[operator]
    assert "no significant evidence since" in change.reason and "evidence_ttl 3d" in change.reason
    assert p.facts["evidence"] == {"weights.a": now - ttl}
    # a real edge keeps its evidence: a stale clock is renewed, the weight is not decayed
    edge = market(seed=1, n_signals=6000, components={"ofi": 0.6})
    strong = default_sections(CONFIG).model_copy(update={"weights": {"ofi": 1.5}})
    p = run_cycle(edge.inputs, strong, CONFIG, "continuous", edge.now_ms, evidence={"weights.ofi": 0})
    assert p.sections.weights["ofi"] >= 1.45 and p.facts["evidence"] == {"weights.ofi": edge.now_ms}


def test_outcomes_stored_later_than_now_are_dropped_even_without_other_late_events() -> None:
    m = market(seed=2, n_signals=600, components={"x": 0.5})
    done = run_cycle(m.inputs, default_sections(CONFIG), CONFIG, "continuous", m.now_ms).new_outcomes
    now = int(m.inputs.signals["ts"].iloc[300])
    early = replace(m.inputs, outcomes=done)
    kept = early.as_of(now)
    assert (kept.outcomes["mark_ts"] <= now).all() and len(kept.outcomes) < len(done)
    assert kept.as_of(now) is kept and replace(m.inputs, outcomes=empty_outcomes()).as_of(m.now_ms).outcomes.empty
