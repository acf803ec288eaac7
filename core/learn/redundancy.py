"""Redundancy: two components whose scores move together may not both be paid for the same evidence.

Pairs: components whose scores correlate above ``redundancy_threshold`` over at least ``min_outcomes``
signals carrying both (``correlation.correlations``).
Joint estimate: for each side c of a pair (c, p), over the signals carrying both with an outcome at c's
horizon, c's residual score r = s_c - beta s_p (least squares through 0: the part of c its partner does
not already say) is put through the weights' test (``weights.test_weights`` of r x return, the layer's
``mean_test_members`` with overlap errors). c "adds to p" when that test passes at ``min_t`` with a
positive mean.
Cap: a side that adds nothing beyond its partner, while the partner adds something, is capped; when
neither adds anything the one whose residual test has the smaller t (the one adding less) is capped, so
the pair's shared evidence is paid once, through the other. A capped component's weight may not rise
above ``NEUTRAL`` (1) and, when above it, moves down toward it within ``max_step`` per cycle; the
weights learner's change is replaced by that one, whose reason names the partner and the correlation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.learn.correlation import PairCorrelation, correlations
from core.learn.enrich import Enriched, mark_col, ret_col
from core.learn.guardrails import relative_step
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, mean_test_members, overlap_reach
from core.learn.slices import horizon_of
from core.learn.weights import test_weights
from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections

NEUTRAL = 1.0
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Cap:
    """A component capped because ``partner`` already carries its evidence."""

    component: str
    partner: str
    score_corr: float
    residual: Evidence  # the component's residual test (what it adds beyond the partner)
    partner_residual: Evidence


def residual_test(enriched: Enriched, current: ParamSections, component: str, partner: str) -> Evidence:
    """The test of what ``component`` adds beyond ``partner``: its residual score's test-weighted return."""
    sig = enriched.signals
    h = horizon_of(enriched, current.signal_horizons.get(component))
    ts = sig["ts"].to_numpy(dtype=np.int64)
    ret = sig[ret_col(h)].to_numpy(dtype=np.float64)
    marks = sig[mark_col(h)].to_numpy(dtype=np.float64)
    reach = overlap_reach(ts, np.where(np.isnan(marks), ts, marks).astype(np.int64))
    s_c = enriched.components[component].to_numpy(dtype=np.float64)
    s_p = enriched.components[partner].to_numpy(dtype=np.float64)
    members = np.flatnonzero(np.isfinite(s_c) & (s_c != 0) & np.isfinite(s_p) & (s_p != 0) & np.isfinite(ret))
    c, p = s_c[members], s_p[members]
    pp = float(p @ p)
    beta = float(c @ p) / pp if pp > 0 else 0.0
    r = c - beta * p
    return mean_test_members(test_weights(r) * ret[members], members, reach)


def _adds(ev: Evidence, min_t: float) -> bool:
    return ev.passes(min_t) and ev.mean > 0


def redundant_caps(
    enriched: Enriched,
    current: ParamSections,
    config: LearningConfig,
    pairs: list[PairCorrelation] | None = None,
) -> dict[str, Cap]:
    """Per capped component (at most one cap each: its most correlated partner), why it is capped."""
    pairs = correlations(enriched) if pairs is None else pairs
    caps: dict[str, Cap] = {}
    strongest = sorted(
        (p for p in pairs if p.score_corr is not None and p.score_corr > config.redundancy_threshold),
        key=lambda p: (-(p.score_corr or 0.0), p.a, p.b),
    )
    for pair in strongest:
        if pair.n < config.min_outcomes:
            continue
        ev_a = residual_test(enriched, current, pair.a, pair.b)
        ev_b = residual_test(enriched, current, pair.b, pair.a)
        adds_a, adds_b = _adds(ev_a, config.min_t), _adds(ev_b, config.min_t)
        if adds_a and adds_b:
            continue
        # one adds and the other not: cap the other; neither adds: cap the one adding less
        capped_a = not adds_a if adds_a != adds_b else (ev_a.t, pair.b) < (ev_b.t, pair.a)
        corr = float(pair.score_corr or 0.0)
        cap = Cap(pair.a, pair.b, corr, ev_a, ev_b) if capped_a else Cap(pair.b, pair.a, corr, ev_b, ev_a)
        if cap.component not in caps and cap.partner not in caps:  # never cap both of a chain's ends at once
            caps[cap.component] = cap
    return caps


def apply_redundancy(
    enriched: Enriched,
    current: ParamSections,
    config: LearningConfig,
    weight_changes: list[Change],
    pairs: list[PairCorrelation] | None = None,
) -> list[Change]:
    """The weights learner's changes with every capped component's weight held at most at ``NEUTRAL``
    (moving down toward it within ``max_step`` when above); other changes are returned unchanged."""
    caps = redundant_caps(enriched, current, config, pairs)
    if not caps:
        return weight_changes
    out: list[Change] = []
    seen: set[str] = set()
    for change in weight_changes:
        name = change.path[len("weights.") :] if change.path.startswith("weights.") else None
        cap = caps.get(name) if name is not None else None
        if cap is None or not isinstance(change.new, int | float):
            out.append(change)
            continue
        seen.add(cap.component)
        capped = _capped(change, cap, current, config)
        if capped is not None:
            out.append(capped)
    for name, cap in sorted(caps.items()):
        cur = current.weights.get(name)
        if name in seen or cur is None or cur <= NEUTRAL + TOLERANCE:
            continue
        held = _capped(Change(f"weights.{name}", cur, cur, ""), cap, current, config)
        if held is not None:
            out.append(held)
    return out


def _capped(change: Change, cap: Cap, current: ParamSections, config: LearningConfig) -> Change | None:
    """``change`` with its new weight at most the cap (None when that leaves the weight where it is)."""
    cur = current.weights.get(cap.component, current.default_weight)
    limit = NEUTRAL if cur <= NEUTRAL else relative_step(cur, NEUTRAL, config.max_step, config.weight_bounds)
    assert isinstance(change.new, int | float)
    new = float(change.new)
    if new <= limit + TOLERANCE:
        return change
    if change.old is not None and abs(limit - cur) <= TOLERANCE:
        return None
    reason = (
        f"{cap.component}: its score correlates {cap.score_corr:.2f} with {cap.partner}'s and adds nothing beyond "
        f"it (residual t={cap.residual.t:.1f}; {cap.partner}'s residual t={cap.partner_residual.t:.1f}): "
        f"weight {cur:.2f} -> {limit:.2f}, at most {NEUTRAL:.0f} while {cap.partner} carries the shared evidence"
    )
    numbers = dict(change.stats) | {
        "partner": cap.partner,
        "score_corr": cap.score_corr,
        "residual_t": cap.residual.t,
        "partner_residual_t": cap.partner_residual.t,
        "proposed": new,
    }
    return Change(change.path, change.old, limit, reason, make_stats(numbers))
