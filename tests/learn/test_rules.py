"""Daily rules on real EURUSD hourly bars: a planted losing pattern (longs in one 4-hour window on one
weekday) becomes an avoid rule; pure noise gives no rule; rules renew, expire and are capped."""

from __future__ import annotations

import itertools

from core.learn.cycle import run_cycle
from core.learn.enrich import resolve_and_enrich
from core.learn.frames import rfc3339_ms
from core.learn.rules import learn_rules, rule_id
from core.schemas.params import ParamSections
from tests.learn.hourly import config, hourly_market, losing_longs_at

PLANTED = {"direction": "long", "weekday": 2, "hour_bucket": 3}


def test_a_planted_losing_pattern_becomes_an_avoid_rule() -> None:
    cfg = config(rule_min_support=50)
    m = hourly_market(3, bars=3000, plant=losing_longs_at(weekday=2, hour_bucket=3, p_drop=0.8))
    proposal = run_cycle(m.inputs, ParamSections(), cfg, "comprehensive", m.now_ms)
    rules = proposal.sections.rules
    assert rules, proposal.reports["rules"][:3]
    top = rules[0]
    assert top.effect == "avoid" and len(top.when) == 2
    assert set(top.when.items()) <= set(PLANTED.items())
    assert top.stats["t"] < 0 and top.stats["n"] >= 50 and top.id == rule_id(list(top.when.items()))
    assert (top.since, top.expires_at) == (rfc3339_ms(m.now_ms), rfc3339_ms(m.now_ms + 3 * 86_400_000))
    assert all(abs(a.stats["t"]) >= abs(b.stats["t"]) for a, b in itertools.pairwise(rules))
    report = proposal.reports["rules"]
    kept = [row for row in report if row["kept"]]
    assert {row["id"] for row in kept} == {r.id for r in rules}
    rejected = [row for row in report if not row["kept"]]
    assert rejected and all(isinstance(row["rejected_because"], str) for row in rejected)
    assert all(int(row["n"]) >= 50 for row in report)  # type: ignore[call-overload]
    changed = [c for c in proposal.changes if c.path == f"rules[{top.id}]"]
    assert changed and "avoid, new" in changed[0].reason


def test_pure_noise_gives_no_rule() -> None:
    cfg = config()
    for seed in range(4):
        m = hourly_market(200 + seed)
        enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 900)
        changes, candidates = learn_rules(enriched, [], cfg, m.now_ms)
        assert len(candidates) > 100 and all(c.evidence.n >= cfg.rule_min_support for c in candidates)
        assert changes == [] and not any(c.kept for c in candidates)


def test_rules_renew_expire_and_are_capped() -> None:
    cfg = config(rule_min_support=50, max_rules=1, evidence_ttl="3d")
    m = hourly_market(3, bars=3000, plant=losing_longs_at(weekday=2, hour_bucket=3, p_drop=0.8))
    enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 900)
    changes, candidates = learn_rules(enriched, [], cfg, m.now_ms)
    assert len(changes) == 1 and sum(c.kept for c in candidates) >= 1
    first = run_cycle(m.inputs, ParamSections(), cfg, "comprehensive", m.now_ms).sections.rules
    (rule,) = first
    later = m.now_ms + 86_400_000  # found again a day later: renewed, same since
    renewed, _ = learn_rules(enriched, first, cfg, later)
    assert [c.path for c in renewed] == [f"rules[{rule.id}]"]
    assert renewed[0].new["since"] == rule.since and renewed[0].new["expires_at"] > rule.expires_at  # type: ignore[index, call-overload, operator]
    noise = hourly_market(201)
    quiet, _ = resolve_and_enrich(noise.inputs, cfg, noise.now_ms, 900)
    assert learn_rules(quiet, first, cfg, m.now_ms + 86_400_000)[0] == []  # not found, not expired: kept
    expired, _ = learn_rules(quiet, first, cfg, m.now_ms + 3 * 86_400_000)
    assert [(c.path, c.new) for c in expired] == [(f"rules[{rule.id}]", None)] and "expired" in expired[0].reason
