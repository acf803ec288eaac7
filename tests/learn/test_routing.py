"""Direction routing on real EURUSD hourly bars: a symbol whose shorts lose is routed long_only; noise is not
routed; a route is released when its evidence lapses."""

from __future__ import annotations

from core.learn.cycle import run_cycle
from core.learn.enrich import resolve_and_enrich
from core.learn.routing import learn_routing
from core.schemas.params import ParamSections
from tests.learn.hourly import config, hourly_market, losing_shorts


def test_a_symbol_whose_shorts_lose_is_routed_long_only() -> None:
    cfg = config()
    m = hourly_market(1, plant=losing_shorts("EURUSD_B", 0.6))
    proposal = run_cycle(m.inputs, ParamSections(), cfg, "comprehensive", m.now_ms)
    assert proposal.sections.direction_routing == {"EURUSD_B": "long_only"}
    (change,) = [c for c in proposal.changes if c.path.startswith("direction_routing.")]
    assert change.new == "long_only" and "short signals lose" in change.reason
    assert isinstance(change.stats["short_t"], float) and change.stats["short_t"] < -cfg.min_t
    assert proposal.facts["evidence"]["direction_routing.EURUSD_B"] == m.now_ms  # type: ignore[index]
    # a continuous cycle does not route (routing is the comprehensive cycle's)
    assert run_cycle(m.inputs, ParamSections(), cfg, "continuous", m.now_ms).sections.direction_routing == {}


def test_pure_noise_routes_nothing() -> None:
    cfg = config()
    routed = 0
    for seed in range(6):
        m = hourly_market(100 + seed)
        enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 900)
        changes, _, tests = learn_routing(enriched, {}, cfg, m.now_ms)
        assert len(tests) == 6 and all(t.evidence.n > 500 for t in tests)
        routed += len(changes)
    assert routed == 0


def test_a_route_is_kept_while_evidence_is_fresh_and_released_when_it_lapses() -> None:
    cfg = config(evidence_ttl="3d")
    m = hourly_market(7)  # noise: the route has no evidence now
    enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 900)
    routes = {"EURUSD": "long_only"}
    path = "direction_routing.EURUSD"
    kept, clocks, _ = learn_routing(enriched, routes, cfg, m.now_ms, {path: m.now_ms - 2 * 86_400_000})
    assert kept == [] and clocks == {path: m.now_ms - 2 * 86_400_000}
    released, clocks, _ = learn_routing(enriched, routes, cfg, m.now_ms, {path: m.now_ms - 3 * 86_400_000})
    assert [(c.path, c.old, c.new) for c in released] == [(path, "long_only", None)] and clocks == {}
    assert "released" in released[0].reason
