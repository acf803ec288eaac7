"""Per-slice component EV on real EURUSD hourly bars: pure noise flags no slice; a component that pays only
for one symbol's longs is flagged there; a small slice shows mostly the pooled figure (empirical Bayes)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.learn.enrich import resolve_and_enrich
from core.learn.slices import shrink_factors, slice_stats, slices_report
from core.schemas.params import ParamSections
from tests.learn.hourly import config, hourly_market
from tests.learn.markets import Market


def pays_for_one_slice(seed: int, rho: float = 0.4) -> Market:
    """``ofi`` predicts the next bar for EURUSD longs only (noise elsewhere)."""
    m = hourly_market(seed)
    sig = m.inputs.signals
    rng = np.random.default_rng(seed + 7)
    z = (m.future - m.future.mean()) / m.future.std()
    inside = ((sig["symbol"] == "EURUSD") & (sig["direction"] == "long")).to_numpy()
    noise = rng.normal(size=z.size)
    comps = m.inputs.components.copy()
    comps["ofi"] = np.where(inside, rho * z + np.sqrt(1 - rho * rho) * noise, noise)
    return Market(inputs=replace(m.inputs, components=comps), now_ms=m.now_ms, future=m.future)


def rows_of(m: Market) -> list[dict[str, object]]:
    cfg = config()
    enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 3600)
    return slices_report(slice_stats(enriched, ParamSections(), cfg), cfg)


def test_pure_noise_flags_no_slice() -> None:
    for seed in range(4):
        rows = rows_of(hourly_market(40 + seed))
        assert rows and sum(bool(r["eligible"]) for r in rows) >= 16  # 2 components x (6 + 2) slices
        assert not [r for r in rows if r["flagged"]], seed


def test_a_component_paying_for_one_symbols_longs_is_flagged_there_only() -> None:
    rows = rows_of(pays_for_one_slice(3))
    flagged = [(r["component"], r["symbol"], r["direction"]) for r in rows if r["flagged"]]
    assert flagged == [("ofi", "EURUSD", "long")]
    [row] = [r for r in rows if r["component"] == "ofi" and r["symbol"] == "EURUSD" and r["direction"] == "long"]
    assert isinstance(row["ev_bps"], float) and isinstance(row["pooled_ev_bps"], float)
    assert row["ev_bps"] > row["pooled_ev_bps"] > 0
    # a slice that stands out keeps most of its own figure
    assert isinstance(row["shrink"], float) and row["shrink"] > 0.5


def test_a_small_slice_shows_mostly_the_pooled_figure() -> None:
    m = pays_for_one_slice(4)
    sig = m.inputs.signals.copy()
    # 12 signals of a strategy of their own: far too few to say anything
    idx = np.flatnonzero((sig["symbol"] == "EURUSD_B").to_numpy())[:12]
    sig.loc[idx, "strategy"] = "tiny"
    rows = rows_of(Market(inputs=replace(m.inputs, signals=sig), now_ms=m.now_ms, future=m.future))
    [tiny] = [r for r in rows if r["component"] == "ofi" and r["strategy"] == "tiny"]
    assert tiny["n"] == 12 and not tiny["eligible"] and not tiny["flagged"]
    ev, pooled, shrunk = (float(tiny[k]) for k in ("ev_bps", "pooled_ev_bps", "shrunk_ev_bps"))  # type: ignore[arg-type]
    assert abs(shrunk - pooled) <= 0.25 * abs(ev - pooled)


def test_shrink_factors_follow_the_between_slice_variance() -> None:
    ses = np.array([1.0, 1.0, 1.0, 5.0])
    # slices that scatter no more than sampling noise: everything shows the pool
    assert np.all(shrink_factors(np.array([0.5, -0.5, 0.2, -0.1]), ses) == 0.0)
    spread = shrink_factors(np.array([10.0, -10.0, 5.0, -5.0]), ses)
    assert np.all((spread > 0) & (spread < 1)) and spread[3] < spread[0]
