"""Direction routing: symbols whose signals in one direction lose with significance (DESIGN.md section 11).

Statistic: per symbol x direction, the signals' aligned returns at the evaluation horizon net of the
median round-trip fee (``Enriched.net_counterfactual``), blocked and executed alike, tested by the
significance layer with overlap errors from each outcome's window (signal ts to resolving mark).
Family: every symbol x direction tested in the cycle, Holm at the p of |t| >= ``min_t``, so on pure
noise the chance that any route appears in a cycle is at most that p.
Route ``SYMBOL -> "long_only"`` where the shorts pass with a negative mean and n >= ``min_outcomes``
while the longs do not lose with significance (even as one test); ``short_only`` the mirror image.
Both losing is not a routing question (the symbol loses; blocked combos and allocation deal with it).
Release: a route whose routed-out direction has had no significant loss (one test at ``min_t``) for
``evidence_ttl`` of event time is released, as is one where the kept direction now loses too. Its
evidence clock (``direction_routing.<symbol>`` in the cycle's facts) records the last cycle that
found the loss significant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.learn.enrich import Enriched
from core.learn.frames import rfc3339_ms
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, evidence_stale, family, mean_test_members, overlap_reach
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds

ROUTE_FOR_LOSER = {"short": "long_only", "long": "short_only"}
PREFIX = "direction_routing."


@dataclass(frozen=True)
class DirectionTest:
    """The test of one symbol x direction's net signal returns."""

    symbol: str
    direction: str
    evidence: Evidence


def direction_tests(enriched: Enriched) -> list[DirectionTest]:
    """Per symbol x direction (sorted): the significance layer's test of the mean net aligned return at the
    evaluation horizon, over resolved signals, with overlap errors from the outcome windows."""
    sig = enriched.signals
    x = enriched.net_counterfactual()
    start, end = enriched.windows(enriched.eval_horizon_s)
    reach = overlap_reach(start, end)  # signals are sorted by ts: one population for every test
    symbols = sig["symbol"].to_numpy(dtype=object)
    directions = sig["direction"].to_numpy(dtype=object)
    resolved = np.isfinite(x)
    out: list[DirectionTest] = []
    for symbol in sorted({str(s) for s in symbols[resolved]}):
        in_symbol = resolved & (symbols == symbol)
        for direction in ("long", "short"):
            members = np.flatnonzero(in_symbol & (directions == direction))
            if members.size == 0:
                continue
            out.append(DirectionTest(symbol, direction, mean_test_members(x[members], members, reach)))
    return out


def _loses(ev: Evidence, min_t: float) -> bool:
    return ev.passes(min_t) and ev.mean < 0


def _numbers(tests: Mapping[str, DirectionTest]) -> dict[str, object]:
    out: dict[str, object] = {}
    for direction, test in sorted(tests.items()):
        ev = test.evidence
        out.update({f"{direction}_n": ev.n, f"{direction}_ev_bps": ev.mean * 1e4, f"{direction}_t": ev.t})
    return out


def learn_routing(
    enriched: Enriched,
    current: Mapping[str, str],
    config: LearningConfig,
    now_ms: int,
    evidence: Mapping[str, int] | None = None,
) -> tuple[list[Change], dict[str, int], list[DirectionTest]]:
    """Propose ``direction_routing.<symbol>`` changes (new route, release = new None).

    In: the enriched cycle data, the current routes, the config, now (watermark ms), the evidence clocks
    the previous cycle left. Out: the changes (sorted by symbol), the clocks to carry (one per route
    kept or made), and every test (for reports).
    """
    tests = direction_tests(enriched)
    by_symbol: dict[str, dict[str, DirectionTest]] = {}
    for test in tests:
        by_symbol.setdefault(test.symbol, {})[test.direction] = test
    eligible = [t for t in tests if t.evidence.n >= config.min_outcomes]
    passed = family([t.evidence for t in eligible], config.min_t, "holm")
    family_losers = {
        (t.symbol, t.direction) for t, ok in zip(eligible, passed, strict=True) if ok and t.evidence.mean < 0
    }
    ttl_ms = duration_seconds(config.evidence_ttl) * 1000
    prior = dict(evidence or {})
    label = enriched.labels[enriched.eval_horizon_s]
    changes: list[Change] = []
    clocks: dict[str, int] = {}

    for symbol in sorted(set(by_symbol) | set(current)):
        pair = by_symbol.get(symbol, {})
        path = PREFIX + symbol
        losers = [d for d in ("long", "short") if (symbol, d) in family_losers]
        proposed: str | None = None
        if len(losers) == 1:
            other = "short" if losers[0] == "long" else "long"
            if other not in pair or not _loses(pair[other].evidence, config.min_t):
                proposed = ROUTE_FOR_LOSER[losers[0]]
        old = current.get(symbol)
        numbers = make_stats(_numbers(pair))
        if old is None:
            if proposed is not None:
                clocks[path] = now_ms
                loser = pair[losers[0]].evidence
                reason = (
                    f"{symbol}: {losers[0]} signals lose {loser.mean * 1e4:+.1f} bps at {label} after fees over "
                    f"{loser.n} outcomes (t={loser.t:.1f}, significant across {len(eligible)} symbol x direction "
                    f"tests), the other direction does not: routed {proposed}"
                )
                changes.append(Change(path, None, proposed, reason, numbers))
            continue
        routed_out = "short" if old == "long_only" else "long"
        kept = "long" if routed_out == "short" else "short"
        if proposed is not None and proposed != old:  # the evidence turned around: route the other way
            clocks[path] = now_ms
            reason = f"{symbol}: now the {losers[0]} signals lose with significance: route {old} -> {proposed}"
            changes.append(Change(path, old, proposed, reason, numbers))
            continue
        still = routed_out in pair and _loses(pair[routed_out].evidence, config.min_t)
        since = now_ms if still else prior.get(path, now_ms)
        if kept in pair and _loses(pair[kept].evidence, config.min_t):
            reason = f"{symbol}: the {kept} signals lose with significance too; routing cannot help: released"
            changes.append(Change(path, old, None, reason, numbers))
        elif evidence_stale(since, now_ms, ttl_ms):
            reason = (
                f"{symbol}: no significant loss of {routed_out} signals since {rfc3339_ms(since)} "
                f"(evidence_ttl {config.evidence_ttl}): released"
            )
            changes.append(Change(path, old, None, reason, numbers))
        else:
            clocks[path] = since
    return changes, clocks, tests
