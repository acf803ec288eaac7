"""Signal weights: how much each component's view should count.

Statistic: per component c and horizon h, over the signals in the lookback that carry c (non-zero
score) and have a resolved outcome at h (executed and blocked alike: the market's answer does not
depend on the decision):
- reported: n, EV = mean(sign(score) * ret) in bps, hit rate (share of those > 0), the profit factor
  and the target weight (its shrunk profit factor);
- tested: the mean of ``w * ret`` with w = the score's weight in the test statistic (``TEST_WEIGHT``:
  "clipped" = the robust z-score of the score clipped to +-3, measured to give more power than the
  sign alone at the same calibration), through ``significance.mean_test`` with each outcome's actual
  window (the signal's ts to the resolving mark's ts): overlapping outcomes share price moves, and
  the layer sums exactly those cross products.
The horizons of a component are one family (``significance.family``, Holm at ``REPEATED_LOOKS`` x the
level of one test): acting on the best of 5 horizons is held below the false-move rate of one
pre-set test. See core/learn/README.md for the measured calibration.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.learn.enrich import Enriched, mark_col, ret_col
from core.learn.frames import rfc3339_ms
from core.learn.guardrails import converged, enough, relative_step
from core.learn.proposal import Change, make_stats
from core.learn.significance import (
    Evidence,
    expire_toward,
    family,
    mean_test,
    mean_test_members,
    overlap_reach,
    p_for_t,
)
from core.learn.stats import FloatArray, IntArray, shrunk_profit_factor
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.params import ParamSections

STATS_THREADS = 2  # the box this runs on has 2 cores; more threads only add contention
PARALLEL_FROM = 100_000  # signals: below this, thread start-up costs more than it saves
TestWeight = Literal["sign", "zscore", "rank", "clipped"]
TEST_WEIGHT: TestWeight = "clipped"
CLIP = 3.0  # robust z-scores beyond this count as this: one heavy-tailed score cannot dominate
MAD_TO_SD = 1.482602218505602  # sd of a normal / its median absolute value
# Every cycle re-tests a window that shares ~93% of its data with the previous one, so a spurious pass
# tends to come back: measured on 400 noise bots (bench/calibration.py), a family at the level of one
# test moved a noise weight in 2.5% of bots within 5 cycles, at half that level in 1.0%, with power
# 92% / 44% at rho 0.08 / 0.05. The weights' family is held to this fraction of p(min_t).
REPEATED_LOOKS = 0.5


@dataclass(frozen=True)
class ComponentStat:
    """The evidence of one component at one horizon (``t``/``p``/``n_eff``/``method``/``degenerate``
    from the significance layer; ``naive_t``: the iid t of the sign-aligned returns, for comparison)."""

    component: str
    horizon_s: int
    n: int
    ev_bps: float
    hit_rate: float
    evidence: Evidence
    naive_t: float
    profit_factor: float
    target: float

    @property
    def t(self) -> float:
        """t of the test statistic."""
        return self.evidence.t

    @property
    def p(self) -> float:
        """Two-sided p-value of the test statistic."""
        return self.evidence.p

    @property
    def n_eff(self) -> float:
        """Effective independent outcomes."""
        return self.evidence.n_eff

    @property
    def degenerate(self) -> str | None:
        """Why the sample is no evidence (None when it is)."""
        return self.evidence.degenerate


def test_weights(score: FloatArray, kind: TestWeight = TEST_WEIGHT) -> FloatArray:
    """Per carried signal (score != 0, finite), the weight of its return in the test statistic.

    "clipped" (used): score / (1.4826 x median |score|), clipped to +-3: the score's magnitude counts
    (more power than the sign alone), a robust scale and the clip keep heavy tails from dominating,
    O(n). "sign": sign(score); "zscore": score / rms(score); "rank": sign(score) x rank(|score|) / mean
    rank (ties share their mean rank). The alternatives are what bench/calibration.py compares.
    """
    if kind == "sign" or score.size == 0:
        return np.asarray(np.sign(score), dtype=np.float64)
    if kind == "zscore":
        rms = float(np.sqrt(np.mean(score * score)))
        return score / rms if rms > 0 else np.asarray(np.sign(score), dtype=np.float64)
    if kind == "clipped":
        scale = MAD_TO_SD * float(np.median(np.abs(score)))
        if not scale > 0.0:
            return np.asarray(np.sign(score), dtype=np.float64)
        return np.asarray(np.clip(score / scale, -CLIP, CLIP), dtype=np.float64)
    magnitude = np.abs(score)
    order = np.argsort(magnitude, kind="stable")
    sorted_mag = magnitude[order]
    # mean rank of each tie run: ranks 1..n, ties averaged
    starts = np.flatnonzero(np.r_[True, sorted_mag[1:] != sorted_mag[:-1]])
    ends = np.r_[starts[1:], sorted_mag.size]
    run_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(score.size)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return np.asarray(np.sign(score) * ranks / ranks.mean(), dtype=np.float64)


def component_stats(enriched: Enriched, config: LearningConfig) -> list[ComponentStat]:
    """Per component x horizon: n, EV (bps), hit rate, the layer's test, raw profit factor and target.

    target = clip((G + k) / (L + k), weight_bounds) with G, L the sums of aligned gains and losses and
    k = min_outcomes * mean|x| / 2 (``min_outcomes`` neutral pseudo-outcomes).
    """
    ts = enriched.signals["ts"].to_numpy(dtype=np.int64)  # sorted: enrich orders signals by ts
    low, high = config.weight_bounds
    rets = {h: enriched.signals[ret_col(h)].to_numpy(dtype=np.float64) for h in enriched.horizons_s}
    # Per horizon, once for every component: how far each signal's outcome window reaches among the
    # signals (unresolved ones reach nothing; they are never members of a test).
    reach: dict[int, IntArray] = {}
    for h in enriched.horizons_s:
        marks = enriched.signals[mark_col(h)].to_numpy(dtype=np.float64)
        reach[h] = overlap_reach(ts, np.where(np.isnan(marks), ts, marks).astype(np.int64))

    def one(name: object) -> list[ComponentStat]:
        out: list[ComponentStat] = []
        score = enriched.components[name].to_numpy(dtype=np.float64)
        carried = np.flatnonzero(np.isfinite(score) & (score != 0.0))
        weight = test_weights(score[carried])
        sign = np.sign(score[carried])
        for h in enriched.horizons_s:
            ret = rets[h][carried]
            ok = ~np.isnan(ret)
            x = sign[ok] * ret[ok]
            ev = mean_test_members(weight[ok] * ret[ok], carried[ok], reach[h])
            n = int(x.size)
            gains, losses = float(x[x > 0].sum()), float(-x[x < 0].sum())
            pf = gains / losses if losses > 0 else (float("inf") if gains > 0 else 1.0)
            target = shrunk_profit_factor(gains, losses, n, config.min_outcomes)
            out.append(
                ComponentStat(
                    component=str(name),
                    horizon_s=h,
                    n=n,
                    ev_bps=float(x.mean()) * 1e4 if n else 0.0,
                    hit_rate=float(np.count_nonzero(x > 0)) / n if n else 0.0,
                    evidence=ev,
                    naive_t=mean_test(x).t,
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


def best_horizon(stats: list[ComponentStat], min_outcomes: int, min_t: float) -> tuple[ComponentStat | None, bool]:
    """The horizon to act on and whether it is significant as a family.

    Eligible: n >= min_outcomes. The eligible horizons are one family (Holm at ``REPEATED_LOOKS`` x the
    level one test has):
    among those that pass, the largest |t| (ties: the shorter horizon), with True; when none passes,
    the largest |t| among the eligible (for the reason), with False; None without an eligible horizon.
    """
    eligible = [s for s in stats if enough(s.n, min_outcomes)]
    if not eligible:
        return None, False
    passes = family([s.evidence for s in eligible], min_t, "holm", p_for_t(min_t) * REPEATED_LOOKS)
    winners = [s for s, ok in zip(eligible, passes, strict=True) if ok]
    pool = winners or eligible
    return max(pool, key=lambda s: (abs(s.t), -s.horizon_s)), bool(winners)


def _stats_dict(s: ComponentStat) -> dict[str, object]:
    return {
        "n": s.n,
        "ev_bps": s.ev_bps,
        "hit_rate": s.hit_rate,
        "t": s.t,
        "p": s.p,
        "n_eff": s.n_eff,
        "naive_t": s.naive_t,
        "horizon_s": s.horizon_s,
        "profit_factor": s.profit_factor,
        "target": s.target,
    }


def learn_weights(
    enriched: Enriched,
    current: ParamSections,
    config: LearningConfig,
    seen: list[str],
    evidence: Mapping[str, int] | None = None,
) -> tuple[list[Change], list[ComponentStat], dict[str, int]]:
    """Propose weight and horizon changes.

    In: the enriched frame, current sections, config, every component seen so far (sorted), and the
    evidence clocks the previous cycle left (``weights.<c>`` -> event time, ms, of the last cycle that
    found significant evidence for it, or when its clock started; see ``Proposal.facts["evidence"]``).
    Out: changes (``weights.<c>``, ``signal_horizons.<c>``), the per component x horizon stats, and the
    evidence clocks to carry to the next cycle (one per weight away from the default).
    A weight moves toward its target by at most ``max_step`` relative only when its best horizon passes
    as a family (n >= min_outcomes, Holm at the p of |t| >= min_t); a weight with no such evidence for
    ``evidence_ttl`` of event time steps back toward ``default_weight`` by at most ``max_step``; a
    component never listed before enters at default_weight.
    """
    stats = component_stats(enriched, config)
    by_name: dict[str, list[ComponentStat]] = {}
    for s in stats:
        by_name.setdefault(s.component, []).append(s)
    now = enriched.now_ms
    ttl_ms = duration_seconds(config.evidence_ttl) * 1000
    prior = dict(evidence or {})
    clocks: dict[str, int] = {}
    changes: list[Change] = []
    for name in seen:
        path = f"weights.{name}"
        listed = name in current.weights
        cur = current.weights.get(name, current.default_weight)
        comp = by_name.get(name, [])
        best, passed = best_horizon(comp, config.min_outcomes, config.min_t)
        moved = cur
        expired = False
        if passed and best is not None:
            clocks[path] = now
            if not converged(cur, best.target):
                moved = relative_step(cur, best.target, config.max_step, config.weight_bounds)
        elif not converged(cur, current.default_weight):
            since = prior.get(path, now)  # no clock yet: it starts now
            moved = expire_toward(
                cur, current.default_weight, since, now, ttl_ms, config.max_step, config.weight_bounds
            )
            expired = moved != cur
            clocks[path] = since
        if moved != cur or not listed:
            if expired:
                changes.append(_expiry_change(name, cur, moved, current.default_weight, clocks[path], config, best))
            else:
                changes.append(
                    _weight_change(name, None if not listed else cur, cur, moved, best, passed, comp, config, enriched)
                )
        if passed and best is not None:
            label = enriched.labels[best.horizon_s]
            old_label = current.signal_horizons.get(name)
            if old_label != label:
                reason = (
                    f"{name}: horizon {label} has the strongest evidence (t={best.t:.1f} over {best.n} outcomes, "
                    f"EV {best.ev_bps:+.1f} bps, significant among {len(comp)} horizons)"
                )
                numbers = make_stats(_stats_dict(best))
                changes.append(Change(f"signal_horizons.{name}", old_label, label, reason, numbers))
    return changes, stats, clocks


def _expiry_change(
    name: str,
    cur: float,
    new: float,
    default: float,
    since_ms: int,
    config: LearningConfig,
    best: ComponentStat | None,
) -> Change:
    reached = abs(new - default) <= 1e-6
    tail = "reached" if reached else f"at most {config.max_step:.0%} per cycle"
    reason = (
        f"{name}: no significant evidence since {rfc3339_ms(since_ms)} (evidence_ttl {config.evidence_ttl}): "
        f"weight {cur:.2f} -> {new:.2f}, back toward the default {default:.2f} ({tail})"
    )
    numbers: dict[str, object] = {"since_ms": since_ms, "default": default}
    if best is not None:
        numbers |= _stats_dict(best)
    return Change(f"weights.{name}", cur, new, reason, make_stats(numbers))


def _weight_change(
    name: str,
    old: float | None,
    cur: float,
    new: float,
    best: ComponentStat | None,
    passed: bool,
    comp: list[ComponentStat],
    config: LearningConfig,
    enriched: Enriched,
) -> Change:
    path = f"weights.{name}"
    if best is None:
        most = max((s.n for s in comp), default=0)
        reason = (
            f"{name}: new component, enters at weight {new:.2f}; {most} resolved outcomes so far, "
            f"{config.min_outcomes} needed at one horizon before it may move"
        )
        return Change(path, old, new, reason, make_stats({"n": most, "required": config.min_outcomes}))
    label = enriched.labels.get(best.horizon_s, f"{best.horizon_s}s")
    evidence = f"EV {best.ev_bps:+.1f} bps at {label} over {best.n} outcomes (t={best.t:.1f})"
    if new == cur:
        if best.degenerate is not None:
            why = f"no evidence ({best.degenerate})"
        else:
            why = "at" if passed else "below"
            why += f" the |t| >= {config.min_t} bar (family of {len(comp)} horizons)"
        reason = f"{name}: new component, enters at weight {new:.2f}; {evidence}, {why}"
        return Change(path, old, new, reason, make_stats(_stats_dict(best)))
    capped = abs(new - best.target) > 1e-6
    pct = (new / cur - 1.0) * 100.0
    tail = f", capped at {pct:+.0f}% (target {best.target:.2f})" if capped else f" (target {best.target:.2f} reached)"
    prefix = f"{name}: new component; " if old is None else f"{name}: "
    reason = f"{prefix}{evidence}: weight {cur:.2f} -> {new:.2f}{tail}"
    return Change(path, old, new, reason, make_stats(_stats_dict(best)))
