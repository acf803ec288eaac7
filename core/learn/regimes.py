"""Regime-aware weights: ``weights_by_regime`` (DESIGN.md section 11; comprehensive cycle).

Statistic: per regime r and component c, over the signals carrying c (score != 0) with an outcome at
c's horizon (``signal_horizons[c]``, else the evaluation horizon), x = the test weight of the score
(``weights.test_weights``, as the pooled weights use) x the return. The question "does c's EV in r
differ from its pooled EV?" is the contrast mean_r(x) - mean_rest(x), written as the mean of
per-signal contributions y = N x (1[r] / n_r - 1[not r] / n_rest) and tested by the significance layer
(overlap errors from the outcome windows). Family: every regime x component tested in the cycle, Holm
at ``REPEATED_LOOKS`` x the p of |t| >= ``min_t`` (the weights' level: the same window is re-tested
every cycle). Eligible: n_r >= ``min_outcomes`` and n_rest >= ``min_outcomes``.
Weight: where the contrast passes, the regime's target is the shrunk profit factor of c's aligned
returns in r (the target r would have as a bot of its own), shrunk toward the pooled weight by
n_r / (n_r + min_outcomes), bounded by ``weight_bounds``, reached within ``max_step`` per cycle from the
regime's current weight (the pooled weight when not listed yet).
Expiry: a listed regime weight without a passing contrast for ``evidence_ttl`` of event time steps back
toward the pooled weight within ``max_step``, and leaves the document once there. Signals without a
regime, and components not listed for their regime, use the pooled ``weights``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.learn.enrich import Enriched, mark_col, ret_col
from core.learn.guardrails import converged, relative_step
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, evidence_stale, family, mean_test_members, overlap_reach, p_for_t
from core.learn.stats import shrunk_profit_factor
from core.learn.weights import REPEATED_LOOKS, test_weights
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.params import ParamSections

PREFIX = "weights_by_regime."


@dataclass(frozen=True)
class RegimeStat:
    """One regime x component: its n, EV, the contrast's test, and the regime-as-its-own-bot target."""

    regime: str
    component: str
    horizon_s: int
    n: int
    ev_bps: float
    pooled_ev_bps: float
    contrast: Evidence
    target: float


def _horizon(enriched: Enriched, label: str | None) -> int:
    for h, name in enriched.labels.items():
        if name == label:
            return h
    return enriched.eval_horizon_s


def regime_stats(enriched: Enriched, current: ParamSections, config: LearningConfig) -> list[RegimeStat]:
    """Per regime x component (sorted) with enough outcomes on both sides: the contrast test and target."""
    sig = enriched.signals
    regimes = sig["regime"].to_numpy(dtype=object)
    names = sorted({str(r) for r in regimes if r is not None})
    if not names:
        return []
    ts = sig["ts"].to_numpy(dtype=np.int64)
    low, high = config.weight_bounds
    out: list[RegimeStat] = []
    for component in enriched.components.columns:
        h = _horizon(enriched, current.signal_horizons.get(str(component)))
        ret = sig[ret_col(h)].to_numpy(dtype=np.float64)
        marks = sig[mark_col(h)].to_numpy(dtype=np.float64)
        reach = overlap_reach(ts, np.where(np.isnan(marks), ts, marks).astype(np.int64))
        score = enriched.components[component].to_numpy(dtype=np.float64)
        members = np.flatnonzero(np.isfinite(score) & (score != 0.0) & np.isfinite(ret))
        if members.size == 0:
            continue
        x = test_weights(score[members]) * ret[members]
        aligned = np.sign(score[members]) * ret[members]
        for regime in names:
            inside = regimes[members] == regime
            n_r, n_rest = int(inside.sum()), int((~inside).sum())
            if n_r < config.min_outcomes or n_rest < config.min_outcomes:
                continue
            y = members.size * x * np.where(inside, 1.0 / n_r, -1.0 / n_rest)
            a = aligned[inside]
            gains, losses = float(a[a > 0].sum()), float(-a[a < 0].sum())
            target = shrunk_profit_factor(gains, losses, n_r, config.min_outcomes)
            out.append(
                RegimeStat(
                    regime=regime,
                    component=str(component),
                    horizon_s=h,
                    n=n_r,
                    ev_bps=float(a.mean()) * 1e4,
                    pooled_ev_bps=float(aligned.mean()) * 1e4,
                    contrast=mean_test_members(y, members, reach),
                    target=float(min(max(target, low), high)),
                )
            )
    return out


def learn_regime_weights(
    enriched: Enriched,
    current: ParamSections,
    config: LearningConfig,
    now_ms: int,
    evidence: Mapping[str, int] | None = None,
) -> tuple[list[Change], dict[str, int], list[RegimeStat]]:
    """Propose ``weights_by_regime.<regime>.<component>`` changes (None = back to the pooled weight).

    Out: the changes (sorted by path), the evidence clocks to carry (one per listed regime weight), and
    the per regime x component statistics.
    """
    stats = regime_stats(enriched, current, config)
    passes = family([s.contrast for s in stats], config.min_t, "holm", p_for_t(config.min_t) * REPEATED_LOOKS)
    passed = {(s.regime, s.component): s for s, ok in zip(stats, passes, strict=True) if ok}
    by_key = {(s.regime, s.component): s for s in stats}
    ttl_ms = duration_seconds(config.evidence_ttl) * 1000
    prior = dict(evidence or {})
    listed = {(r, c): w for r, ws in current.weights_by_regime.items() for c, w in ws.items()}
    changes: list[Change] = []
    clocks: dict[str, int] = {}
    for regime, component in sorted(set(passed) | set(listed)):
        path = f"{PREFIX}{regime}.{component}"
        pooled = current.weights.get(component, current.default_weight)
        old = listed.get((regime, component))
        cur = pooled if old is None else old
        stat = passed.get((regime, component))
        if stat is not None:
            clocks[path] = now_ms
            share = stat.n / (stat.n + config.min_outcomes)
            goal = min(max(pooled + share * (stat.target - pooled), config.weight_bounds[0]), config.weight_bounds[1])
            new = cur if converged(cur, goal) else relative_step(cur, goal, config.max_step, config.weight_bounds)
            if old is not None and new == old:
                continue
            c = stat.contrast
            reason = (
                f"{component} in regime {regime}: EV {stat.ev_bps:+.1f} bps over {stat.n} outcomes vs "
                f"{stat.pooled_ev_bps:+.1f} bps pooled (difference t={c.t:.1f}, significant across {len(stats)} "
                f"regime x component tests): weight {cur:.2f} -> {new:.2f} (target {goal:.2f}, pooled {pooled:.2f})"
            )
            numbers = {"n": stat.n, "ev_bps": stat.ev_bps, "pooled_ev_bps": stat.pooled_ev_bps, "t": c.t, "p": c.p}
            changes.append(Change(path, old, new, reason, make_stats(numbers | {"target": goal})))
            continue
        assert old is not None
        since = prior.get(path, now_ms)
        if not evidence_stale(since, now_ms, ttl_ms):
            clocks[path] = since
            continue
        new = relative_step(old, pooled, config.max_step, config.weight_bounds)
        gone = converged(new, pooled)
        reason = (
            f"{component} in regime {regime}: no significant difference from the pooled EV since the evidence "
            f"clock {since} ms (evidence_ttl {config.evidence_ttl}): weight {old:.2f} -> "
            + ("the pooled weight (unlisted)" if gone else f"{new:.2f}, toward the pooled {pooled:.2f}")
        )
        if not gone:
            clocks[path] = since
        stat_now = by_key.get((regime, component))
        numbers = {"since_ms": since, "pooled": pooled} | ({} if stat_now is None else {"t": stat_now.contrast.t})
        changes.append(Change(path, old, None if gone else new, reason, make_stats(numbers)))
    return changes, clocks, stats
