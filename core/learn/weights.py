"""Signal weights: how much each component's view should count.

Statistic: per component c and horizon h, the component-aligned return x = sign(score) * ret_h
over the signals in the lookback that carry c (non-zero score) and have a resolved outcome at h
(executed and blocked alike: the market's answer does not depend on the decision).
n, EV = mean(x) in bps, hit rate = share of x > 0, and t = mean / se with Newey-West (Bartlett)
errors at lag ceil(h / s) when outcomes overlap (plain iid t otherwise), s = the median spacing
of the signals carrying the component (one figure for all its horizons).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from core.learn.enrich import Enriched, ret_col
from core.learn.guardrails import converged, enough, relative_step, significant
from core.learn.proposal import Change, make_stats
from core.learn.stats import lag_for, shrunk_profit_factor, spacing_of, summarize
from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections

STATS_THREADS = 2  # the box this runs on has 2 cores; more threads only add contention
PARALLEL_FROM = 100_000  # signals: below this, thread start-up costs more than it saves


@dataclass(frozen=True)
class ComponentStat:
    """The evidence of one component at one horizon."""

    component: str
    horizon_s: int
    n: int
    ev_bps: float
    hit_rate: float
    t: float
    naive_t: float
    lag: int
    profit_factor: float
    target: float


def component_stats(enriched: Enriched, config: LearningConfig) -> list[ComponentStat]:
    """Per component x horizon: n, EV (bps), hit rate, HAC t, raw profit factor and shrunk, clipped target.

    target = clip((G + k) / (L + k), weight_bounds) with G, L the sums of aligned gains and losses and
    k = min_outcomes * mean|x| / 2 (``min_outcomes`` neutral pseudo-outcomes).
    """
    ts = enriched.signals["ts"].to_numpy(dtype=np.int64)
    low, high = config.weight_bounds
    rets = {h: enriched.signals[ret_col(h)].to_numpy(dtype=np.float64) for h in enriched.horizons_s}

    def one(name: object) -> list[ComponentStat]:
        out: list[ComponentStat] = []
        score = enriched.components[name].to_numpy(dtype=np.float64)
        sign = np.where(score != 0.0, np.sign(score), np.nan)  # NaN where absent or 0: not carried
        spacing = spacing_of(ts[~np.isnan(sign)])  # of the component's signals, shared by its horizons
        for h in enriched.horizons_s:
            aligned = sign * rets[h]  # NaN unless carried and resolved at h
            x = aligned[~np.isnan(aligned)]
            s = summarize(x, lag=lag_for(spacing, h, x.size))
            pf = s.gains / s.losses if s.losses > 0 else (float("inf") if s.gains > 0 else 1.0)
            target = shrunk_profit_factor(s.gains, s.losses, s.n, config.min_outcomes)
            out.append(
                ComponentStat(
                    component=str(name),
                    horizon_s=h,
                    n=s.n,
                    ev_bps=s.mean * 1e4,
                    hit_rate=s.hit_rate,
                    t=s.t,
                    naive_t=s.naive_t,
                    lag=s.lag,
                    profit_factor=pf,
                    target=float(min(max(target, low), high)),
                )
            )
        return out

    names = list(enriched.components.columns)
    if len(names) < 2 or len(ts) < PARALLEL_FROM:
        return [s for name in names for s in one(name)]
    # numpy releases the GIL inside these kernels: components are summarised side by side, each by
    # the same code as alone, and collected in column order (the result does not depend on threads).
    with ThreadPoolExecutor(max_workers=STATS_THREADS) as pool:
        return [s for stats in pool.map(one, names) for s in stats]


def component_outcome_counts(stats: list[ComponentStat]) -> dict[str, int]:
    """Per component (sorted): resolved outcomes at its best-covered horizon, what ``min_outcomes`` is
    checked against (health's ``insufficient_outcomes``)."""
    counts: dict[str, int] = {}
    for s in stats:
        counts[s.component] = max(counts.get(s.component, 0), s.n)
    return dict(sorted(counts.items()))


def best_horizon(stats: list[ComponentStat], min_outcomes: int) -> ComponentStat | None:
    """Largest |t| among horizons with n >= min_outcomes (ties: the shorter horizon)."""
    eligible = [s for s in stats if enough(s.n, min_outcomes)]
    if not eligible:
        return None
    return max(eligible, key=lambda s: (abs(s.t), -s.horizon_s))


def _stats_dict(s: ComponentStat) -> dict[str, object]:
    return {
        "n": s.n,
        "ev_bps": s.ev_bps,
        "hit_rate": s.hit_rate,
        "t": s.t,
        "naive_t": s.naive_t,
        "hac_lag": s.lag,
        "horizon_s": s.horizon_s,
        "profit_factor": s.profit_factor,
        "target": s.target,
    }


def learn_weights(
    enriched: Enriched, current: ParamSections, config: LearningConfig, seen: list[str]
) -> tuple[list[Change], list[ComponentStat]]:
    """Propose weight and horizon changes.

    In: the enriched frame, current sections, config, every component seen so far (sorted).
    Out: changes (``weights.<c>``, ``signal_horizons.<c>``) and the per component x horizon stats.
    A weight moves toward its target by at most ``max_step`` relative, only when the best horizon
    has n >= min_outcomes and |t| >= min_t; a component never listed before enters at default_weight.
    """
    stats = component_stats(enriched, config)
    by_name: dict[str, list[ComponentStat]] = {}
    for s in stats:
        by_name.setdefault(s.component, []).append(s)
    changes: list[Change] = []
    for name in seen:
        listed = name in current.weights
        cur = current.weights.get(name, current.default_weight)
        comp = by_name.get(name, [])
        best = best_horizon(comp, config.min_outcomes)
        moved = cur
        if best is not None and significant(best.t, config.min_t) and not converged(cur, best.target):
            moved = relative_step(cur, best.target, config.max_step, config.weight_bounds)
        if moved != cur or not listed:
            changes.append(
                _weight_change(name, None if not listed else cur, cur, moved, best, comp, config, enriched.labels)
            )
        if best is not None and significant(best.t, config.min_t):
            label = enriched.labels[best.horizon_s]
            old_label = current.signal_horizons.get(name)
            if old_label != label:
                reason = (
                    f"{name}: horizon {label} has the strongest evidence (t={best.t:.1f} over {best.n} outcomes, "
                    f"EV {best.ev_bps:+.1f} bps)"
                )
                numbers = make_stats(_stats_dict(best))
                changes.append(Change(f"signal_horizons.{name}", old_label, label, reason, numbers))
    return changes, stats


def _weight_change(
    name: str,
    old: float | None,
    cur: float,
    new: float,
    best: ComponentStat | None,
    comp: list[ComponentStat],
    config: LearningConfig,
    labels: dict[int, str],
) -> Change:
    path = f"weights.{name}"
    if best is None:
        most = max((s.n for s in comp), default=0)
        reason = (
            f"{name}: new component, enters at weight {new:.2f}; {most} resolved outcomes so far, "
            f"{config.min_outcomes} needed at one horizon before it may move"
        )
        return Change(path, old, new, reason, make_stats({"n": most, "required": config.min_outcomes}))
    label = labels.get(best.horizon_s, f"{best.horizon_s}s")
    evidence = f"EV {best.ev_bps:+.1f} bps at {label} over {best.n} outcomes (t={best.t:.1f})"
    if new == cur:
        why = "below" if not significant(best.t, config.min_t) else "at"
        reason = f"{name}: new component, enters at weight {new:.2f}; {evidence}, {why} the |t| >= {config.min_t} bar"
        return Change(path, old, new, reason, make_stats(_stats_dict(best)))
    capped = abs(new - best.target) > 1e-6
    pct = (new / cur - 1.0) * 100.0
    tail = f", capped at {pct:+.0f}% (target {best.target:.2f})" if capped else f" (target {best.target:.2f} reached)"
    prefix = f"{name}: new component; " if old is None else f"{name}: "
    reason = f"{prefix}{evidence}: weight {cur:.2f} -> {new:.2f}{tail}"
    return Change(path, old, new, reason, make_stats(_stats_dict(best)))
