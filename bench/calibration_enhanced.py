"""Noise behaviour of the enhanced learners (regime weights, direction routing, daily rules).

For each seed: three symbols of real EURUSD hourly bars (random stretches), one signal per bar with random
direction, conviction, strategy and regime and two pure-noise components (tests/learn/hourly.py builds
the same market); one comprehensive-cycle pass of each learner from an empty document. Counted: seeds
where any regime weight, any route or any rule appears. Target (issue #14): none in >= 95% of seeds.
Then the same seeds with a planted edge, as a same-run power baseline: shorts of one symbol that lose
(routing), longs in one 4-hour window of one weekday that lose (rules).

    .venv/bin/python bench/calibration_enhanced.py --seeds 100
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.learn.enrich import resolve_and_enrich
from core.learn.regimes import learn_regime_weights
from core.learn.routing import learn_routing
from core.learn.rules import learn_rules
from core.schemas.params import ParamSections
from tests.learn.hourly import config, hourly_market, losing_longs_at, losing_shorts


def wilson(k: int, n: int) -> tuple[float, float]:
    from core.learn.significance import wilson as _wilson

    return _wilson(k, n)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first", type=int, default=9000)
    parser.add_argument("--bars", type=int, default=1500)
    parser.add_argument("--rule-fdr", type=float, default=0.05)
    args = parser.parse_args()
    cfg = config(rule_fdr=args.rule_fdr)
    started = time.perf_counter()
    hits = {"regime": 0, "route": 0, "rule": 0, "any": 0}
    power = {"route": 0, "rule": 0}
    candidates = 0
    for seed in range(args.first, args.first + args.seeds):
        m = hourly_market(seed, bars=args.bars)
        enriched, _ = resolve_and_enrich(m.inputs, cfg, m.now_ms, 900)
        regime = bool(learn_regime_weights(enriched, ParamSections(), cfg, m.now_ms)[0])
        route = bool(learn_routing(enriched, {}, cfg, m.now_ms)[0])
        rule_changes, tested = learn_rules(enriched, [], cfg, m.now_ms)
        candidates += len(tested)
        rule = bool(rule_changes)
        for key, moved in (("regime", regime), ("route", route), ("rule", rule)):
            hits[key] += moved
        hits["any"] += regime or route or rule
        planted = hourly_market(seed, bars=args.bars, plant=losing_shorts("EURUSD_B", 0.6))
        e2, _ = resolve_and_enrich(planted.inputs, cfg, planted.now_ms, 900)
        power["route"] += any(c.new == "long_only" for c in learn_routing(e2, {}, cfg, planted.now_ms)[0])
        planted = hourly_market(seed, bars=3000, plant=losing_longs_at(2, 3, 0.8))
        e3, _ = resolve_and_enrich(planted.inputs, cfg.model_copy(update={"rule_min_support": 50}), planted.now_ms, 900)
        found = learn_rules(e3, [], cfg.model_copy(update={"rule_min_support": 50}), planted.now_ms)[0]
        power["rule"] += any(
            isinstance(c.new, dict) and c.new.get("effect") == "avoid" and c.new["when"].get("hour_bucket") == 3
            for c in found
        )
    n = args.seeds
    elapsed = time.perf_counter() - started
    load = os.getloadavg()[0]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.2f}, {n} seeds from {args.first}")
    print(f"rule_fdr {cfg.rule_fdr}")
    for key, k in hits.items():
        lo, hi = wilson(k, n)
        print(f"noise: seeds with any {key:6s}: {k}/{n} = {k / n:.1%} (95% {lo:.1%}-{hi:.1%}); clean {1 - k / n:.1%}")
    print(f"rule candidates tested per seed: {candidates / n:.0f}")
    for key, k in power.items():
        print(f"planted: {key} found in {k}/{n} = {k / n:.1%}")
    print(f"elapsed {elapsed:.1f} s")


if __name__ == "__main__":
    main()
