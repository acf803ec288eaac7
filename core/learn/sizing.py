"""Sizing: a position-size multiplier per conviction bucket from realized expectancy.

Statistic: trades in the lookback are placed in a bucket by their conviction (the trade's own,
else its linked signal's); per bucket, expectancy mu = mean of pnl / (entry_price * quantity).
Buckets with >= ``combo_min_trades`` trades are eligible (at least two are needed). Target:
  m_i = clip(max(mu_i, 0) / mbar, 0.25, 3),  mbar = trade-weighted mean of max(mu, 0) over eligible
buckets, so the average trade keeps size 1 and a bucket's target rises with its expectancy
(a bucket with higher realized expectancy never gets the lower target). Sizing moves only when
some eligible bucket's mean differs from the pooled mean with |t| >= min_t. All eligible buckets
move together by one common fraction (in log space) of the way to their targets, the largest
fraction that keeps every relative step within ``max_step``; a final pass in expectancy order
keeps multipliers non-decreasing in expectancy within each bucket's cap.
"""

from __future__ import annotations

import math

import numpy as np

from core.learn.enrich import Enriched
from core.learn.guardrails import MULTIPLIER_BOUNDS, converged, relative_step, significant
from core.learn.proposal import Change, make_stats
from core.schemas.params import SizingBucket


def bucket_of(conv: np.ndarray, buckets: list[SizingBucket]) -> np.ndarray:
    """Index of the bucket holding each conviction (upper edge inclusive for the last), -1 if none."""
    out = np.full(conv.shape, -1, dtype=np.int64)
    for i, b in enumerate(buckets):
        last = i == len(buckets) - 1
        inside = (conv >= b.min_conviction) & ((conv <= b.max_conviction) if last else (conv < b.max_conviction))
        out[inside & (out < 0)] = i
    return out


def learn_sizing(
    enriched: Enriched, buckets: list[SizingBucket], min_trades: int, min_t: float, max_step: float
) -> list[Change]:
    """Propose ``sizing.buckets[i].multiplier`` changes (see the module rule)."""
    if len(buckets) < 2 or enriched.trades.empty:
        return []
    ret = enriched.trades["ret"].to_numpy(dtype=np.float64)
    which = bucket_of(enriched.trades["conv"].to_numpy(dtype=np.float64), buckets)
    ok = np.isfinite(ret) & (which >= 0)
    ret, which = ret[ok], which[ok]
    k = len(buckets)
    n = np.bincount(which, minlength=k).astype(np.float64)
    total = np.bincount(which, weights=ret, minlength=k)
    square = np.bincount(which, weights=ret * ret, minlength=k)
    eligible = n >= max(min_trades, 2)
    if eligible.sum() < 2:
        return []
    mu = np.where(n > 0, total / np.maximum(n, 1.0), 0.0)
    var = np.where(n > 1, (square - n * mu * mu) / np.maximum(n - 1.0, 1.0), 0.0)
    pooled = float(total[eligible].sum() / n[eligible].sum())
    se = np.sqrt(np.maximum(var, 0.0) / np.maximum(n, 1.0))
    t_diff = np.where(eligible & (se > 0), (mu - pooled) / np.where(se > 0, se, 1.0), 0.0)
    if not any(significant(float(t), min_t) for t in t_diff[eligible]):
        return []
    positive = np.maximum(mu, 0.0)
    mbar = float((positive * n)[eligible].sum() / n[eligible].sum())
    if mbar <= 0.0:
        return []
    low, high = MULTIPLIER_BOUNDS
    target = np.clip(positive / mbar, low, high)
    current = np.array([b.multiplier for b in buckets])
    d = np.zeros(k)
    for i in np.flatnonzero(eligible).tolist():
        if not converged(float(current[i]), float(target[i])):
            d[i] = math.log(target[i] / current[i])
    if not d.any():
        return []
    caps = [math.log(1 + max_step) / di if di > 0 else math.log(1 - max_step) / di for di in d[d != 0]]
    lam = min(1.0, *caps) * (1.0 if min(1.0, *caps) >= 1.0 else 1.0 - 1e-6)
    proposed = current.copy()
    for i in np.flatnonzero(d != 0).tolist():
        proposed[i] = relative_step(float(current[i]), float(current[i] * math.exp(lam * d[i])), max_step, (low, high))
    # Keep multipliers non-decreasing in realized expectancy (ties: bucket order), inside each cap.
    previous = -math.inf
    for i in sorted(np.flatnonzero(eligible).tolist(), key=lambda j: (mu[j], j)):
        if proposed[i] < previous:
            proposed[i] = relative_step(float(current[i]), previous, max_step, (low, high))
        previous = float(proposed[i])
    changes: list[Change] = []
    for i in range(k):
        if proposed[i] == current[i]:
            continue
        b = buckets[i]
        cur, new = float(current[i]), float(proposed[i])
        capped = abs(new - target[i]) > 1e-6
        tail = f", capped at {(new / cur - 1) * 100:+.0f}% (target {target[i]:.2f})" if capped else ""
        reason = (
            f"sizing: conviction {b.min_conviction:.2f}-{b.max_conviction:.2f} returned {mu[i] * 1e4:+.1f} bps per "
            f"trade over {int(n[i])} trades vs {pooled * 1e4:+.1f} bps overall (t={t_diff[i]:.1f}): "
            f"multiplier {cur:.2f} -> {new:.2f}{tail}"
        )
        stats = make_stats(
            {
                "n": int(n[i]),
                "ev_bps": mu[i] * 1e4,
                "pooled_ev_bps": pooled * 1e4,
                "t": t_diff[i],
                "target": target[i],
            }
        )
        changes.append(Change(f"sizing.buckets[{i}].multiplier", cur, new, reason, stats))
    return changes
