"""Allocation tilts only on evidence: noise keeps the fractions, a real edge wins them, stale tilts go back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.allocation import learn_allocation
from core.learn.enrich import Enriched
from core.schemas.params import Allocation

DAY = 86_400_000


def book(seed: int, means_bps: dict[str, float], n: int | dict[str, int] = 40, sd_bps: float = 10.0) -> Enriched:
    """``n`` independent trades per strategy (on two symbols) with the given mean returns."""
    rng = np.random.default_rng(seed)
    names = sorted(means_bps)
    counts = n if isinstance(n, dict) else {s: n for s in names}
    strategy = np.concatenate([np.full(counts[s], s, dtype=object) for s in names])
    ret = np.concatenate([rng.normal(means_bps[s] / 1e4, sd_bps / 1e4, size=counts[s]) for s in names])
    opened = np.concatenate([np.arange(counts[s], dtype=np.int64) * 3_600_000 for s in names])
    trades = pd.DataFrame(
        {
            "ret": ret,
            "strategy": strategy,
            "symbol": np.array([f"S{k % 2}" for k in range(ret.size)], dtype=object),
            "opened_at": opened,
            "ts": opened + 600_000,
        }
    )
    return Enriched(pd.DataFrame(), pd.DataFrame(), trades, (), {}, 0.0, 300, 0, int(opened.max()) + 600_000)


EQUAL = Allocation(strategies={"A": 0.5, "B": 0.5}, symbols={"S0": 0.5, "S1": 0.5})


def test_half_a_bps_either_way_moves_nothing() -> None:
    # Issue #18: A at +0.5 bps and B at -0.5 bps (sd 10 bps, 40 trades each, t ~ 0.2) got 95% / 5%.
    for seed in range(20):
        changes, clocks = learn_allocation(book(seed, {"A": 0.5, "B": -0.5}), EQUAL, 20, 0.2)
        assert changes == [] and clocks == {}, seed


def test_a_real_edge_tilts_toward_its_strategy_with_a_reason() -> None:
    enriched = book(1, {"A": 12.0, "B": 0.0, "C": 0.0}, n={"A": 80, "B": 400, "C": 400}, sd_bps=8.0)
    third = Allocation(strategies={"A": 0.4, "B": 0.3, "C": 0.3}, symbols=EQUAL.symbols)
    changes, clocks = learn_allocation(enriched, third, 20, 0.2)
    moved = {c.path: c for c in changes}
    a, b = moved["allocation.strategies.A"], moved["allocation.strategies.B"]
    assert abs(float(a.new) - 0.48) < 1e-4 and float(b.new) < 0.3  # type: ignore[arg-type]  # A at the 20% cap
    assert "significant among the strategies and symbols" in a.reason and a.stats["significant"] is True
    assert "not significantly different from the pool; moves because A does" in b.reason
    assert b.stats["moved_by"] == "allocation.strategies.A" and b.stats["significant"] is False
    assert a.stats["target"] > 0.6  # type: ignore[operator]
    assert clocks["allocation.strategies"] > 0 and "allocation.symbols" not in clocks


def test_a_stale_tilt_goes_back_toward_equal_after_evidence_ttl() -> None:
    noise = book(3, {"A": 0.0, "B": 0.0})
    tilted = Allocation(strategies={"A": 0.7, "B": 0.3}, symbols={"S0": 0.5, "S1": 0.5})
    now = noise.now_ms
    ttl = 3 * DAY
    old = {"allocation.strategies": now - 4 * DAY}
    changes, clocks = learn_allocation(noise, tilted, 20, 0.2, evidence=old, evidence_ttl_ms=ttl)
    moved = {c.path: c.new for c in changes}
    assert moved["allocation.strategies.A"] < 0.7 and moved["allocation.strategies.B"] > 0.3  # type: ignore[operator]
    assert abs(float(moved["allocation.strategies.B"]) / 0.3 - 1) <= 0.2 + 1e-6  # type: ignore[arg-type]
    assert all("back toward equal" in c.reason for c in changes)
    assert clocks == old
    fresh = {"allocation.strategies": now - DAY}
    assert learn_allocation(noise, tilted, 20, 0.2, evidence=fresh, evidence_ttl_ms=ttl)[0] == []
