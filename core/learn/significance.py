"""The one significance layer every learner uses: robust tests of a mean, families, proportions, expiry.

Why one layer: a t computed three ways gives three different false-move rates. Every learner (weights,
gates, sizing, combos, allocation, hold time, rules) asks this module "is this mean different from 0?"
and gets an ``Evidence``; whether it counts is decided by ``Evidence.passes`` (one test) or ``family``
(several tests of which the best is acted on), both at the p that ``|t| >= min_t`` means for one
normal test (``p_for_t``: 0.27% at the default min_t = 3).

How the standard error is chosen (see core/learn/README.md, "Significance", for the measurements):

- ``clusters`` given: cluster-robust (CR1) errors over the clusters, p from Student t with G - 1 df.
  Use it for trades: label trades that overlap in time or come in bursts with ``overlap_clusters``.
- ``start_ms``/``end_ms`` given (each observation's actual time window, e.g. a signal's ts to the
  mark that resolved it): the long-run variance sums the cross products of every pair of observations
  whose windows overlap, with weight 1 (a uniform kernel whose reach is the real overlap, not a lag
  guessed from the median spacing). Two returns share price moves exactly when their windows overlap,
  so this covers what overlap does to the variance, whatever the arrival process or persistence of the
  scores. p from Student t with (effective n - 1) df.
- neither: the iid t, p from Student t with n - 1 df.

Degenerate samples are no evidence: ``Evidence.degenerate`` holds the reason (fewer than 2
observations, all values identical, numerically zero variance, fewer than 2 clusters, non-positive
long-run variance) and then t = 0, p = 1.

Everything is pure numpy/scipy, deterministic, and O(n log n) at most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as _sp

from core.learn.guardrails import converged, relative_step

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

Method = Literal["iid", "overlap", "cluster", "none"]
FamilyMethod = Literal["holm", "bonferroni", "bh"]

WILSON_Z = 1.959963984540054  # two-sided 95%
# A standard deviation below this fraction of the sample's largest |value| is rounding noise, not
# variance: 20 identical losses give sd ~1e-17 and t ~ +-1e16 otherwise.
RELATIVE_ZERO = 1e-9

# Reasons a sample is no evidence (``Evidence.degenerate``).
TOO_FEW = "fewer than 2 observations"
IDENTICAL = "all values identical"
ZERO_VARIANCE = "numerically zero variance"
FEW_CLUSTERS = "fewer than 2 independent clusters"
NO_LONG_RUN_VARIANCE = "non-positive long-run variance"


@dataclass(frozen=True)
class Evidence:
    """The test of one mean against 0.

    n: observations; n_eff: effective independent observations (clusters for ``cluster``,
    n * var / long-run var for ``overlap``, n for ``iid``), at most n; mean; se: its standard error;
    t = mean / se; p: two-sided p-value (Student t, df = n_eff - 1); method: "iid", "overlap",
    "cluster" or "none" (degenerate); degenerate: None, or why the sample is no evidence (then t = 0,
    p = 1).
    """

    n: int
    n_eff: float
    mean: float
    se: float
    t: float
    p: float
    method: Method
    degenerate: str | None = None

    @property
    def usable(self) -> bool:
        """True unless the sample is degenerate."""
        return self.degenerate is None

    def passes(self, min_t: float) -> bool:
        """Significant as one test: usable and p <= ``p_for_t(min_t)`` (|t| >= min_t for a normal t)."""
        return self.usable and self.p <= p_for_t(min_t)

    def direction(self) -> int:
        """+1, -1, or 0 (degenerate or zero mean)."""
        if not self.usable or self.mean == 0.0:
            return 0
        return 1 if self.mean > 0 else -1


def no_evidence(n: int, mean: float, reason: str) -> Evidence:
    """The ``Evidence`` of a degenerate sample: t = 0, p = 1, with ``reason``."""
    return Evidence(n=n, n_eff=float(min(n, 1)), mean=mean, se=math.inf, t=0.0, p=1.0, method="none", degenerate=reason)


def p_for_t(min_t: float) -> float:
    """The two-sided normal p-value of |t| = ``min_t``: the level one test is held to (0.0027 at 3)."""
    return float(2.0 * _sp.norm.sf(abs(min_t)))


def t_for_p(p: float) -> float:
    """The |t| of a two-sided normal p-value (inverse of ``p_for_t``)."""
    return float(_sp.norm.isf(p / 2.0))


def _two_sided_p(t: float, df: float) -> float:
    if not math.isfinite(t):
        return 0.0
    return float(2.0 * _sp.t.sf(abs(t), max(df, 1.0)))


def _as_float(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64).reshape(-1)


def _degenerate(x: FloatArray, ss: float | None = None) -> str | None:
    """Why ``x`` is no evidence, or None; ``ss``: its sum of squared deviations when already known."""
    if x.size < 2:
        return TOO_FEW
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return IDENTICAL
    if ss is None:
        xc = x - x.mean()
        ss = float(np.einsum("i,i->", xc, xc))
    if math.sqrt(ss / x.size) <= RELATIVE_ZERO * max(abs(lo), abs(hi)):
        return ZERO_VARIANCE
    return None


def overlap_reach(start_ms: ArrayLike, end_ms: ArrayLike) -> IntArray:
    """For a population of windows [start, end) sorted by start: per member i, the first index k_i > i
    whose start is >= end_i. Members i+1 .. k_i - 1 are exactly those after i that overlap it.

    Build it once per population and horizon (e.g. a cycle's signals, sorted by ts, with their
    resolving marks' ts) and test any subset with ``mean_test_members``: O(population) per test, no sort.
    """
    s = np.asarray(start_ms, dtype=np.int64).reshape(-1)
    e = np.asarray(end_ms, dtype=np.int64).reshape(-1)
    k = np.searchsorted(s, e, side="left").astype(np.int64)
    # a window ending at or before its own start overlaps nothing after it
    return np.maximum(k, np.arange(1, s.size + 1, dtype=np.int64))


def _members_cross_sum(xc: FloatArray, members: IntArray, reach: IntArray) -> float:
    """sum over member pairs i < j with overlapping windows of xc_i * xc_j (see ``overlap_reach``)."""
    c = np.zeros(reach.size + 1)
    c[members + 1] = xc
    np.cumsum(c, out=c)  # c[m] = sum of the members' xc at population index < m
    return float(np.einsum("i,i->", xc, c[reach[members]] - c[members + 1]))


def overlap_cross_sum(xc: FloatArray, start_ms: IntArray, end_ms: IntArray) -> float:
    """sum over pairs i < j whose windows [start, end) overlap of xc_i * xc_j, in O(n log n).

    Sorted by start, j > i overlaps i exactly when start_j < end_i, so i's partners are the run
    i+1 .. k_i - 1 with k_i = searchsorted(starts, end_i): one cumulative sum gives every run's total.
    """
    order = np.argsort(start_ms, kind="stable")
    reach = overlap_reach(start_ms[order], end_ms[order])
    return _members_cross_sum(xc[order], np.arange(xc.size, dtype=np.int64), reach)


def _overlap_evidence(n: int, mean: float, ss: float, cross: float) -> Evidence:
    long_run = ss + 2.0 * cross  # n * long-run variance
    if not long_run > RELATIVE_ZERO * ss:
        return no_evidence(n, mean, NO_LONG_RUN_VARIANCE)
    n_eff = min(float(n), n * ss / long_run)
    se = math.sqrt(long_run / (n * (n - 1.0)))  # the iid se (ddof=1) when nothing overlaps
    t = mean / se
    method: Method = "overlap" if cross != 0.0 else "iid"
    return Evidence(n, n_eff, mean, se, t, _two_sided_p(t, n_eff - 1.0), method)


def mean_test_members(x: ArrayLike, members: ArrayLike, reach: IntArray) -> Evidence:
    """``mean_test`` with time windows, for the observations ``x`` of population members ``members``
    (ascending indices into a population prepared by ``overlap_reach``): the same statistic as
    ``mean_test(x, start_ms=..., end_ms=...)`` on those members' windows, without sorting again."""
    v = _as_float(x)
    n = int(v.size)
    mean = float(v.mean()) if n else 0.0
    xc = v - mean
    ss = float(np.einsum("i,i->", xc, xc))
    reason = _degenerate(v, ss)
    if reason is not None:
        return no_evidence(n, mean, reason)
    rows = np.asarray(members, dtype=np.int64).reshape(-1)
    if rows.size != n:
        raise ValueError(f"{rows.size} members for {n} observations")
    return _overlap_evidence(n, mean, ss, _members_cross_sum(xc, rows, reach))


def mean_test(
    x: ArrayLike,
    *,
    start_ms: ArrayLike | None = None,
    end_ms: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
) -> Evidence:
    """Test mean(x) = 0 with errors that hold for the dependence the caller describes.

    In: x (finite values); optionally each observation's time window ``start_ms``/``end_ms`` (epoch ms,
    end >= start; e.g. a signal's ts and its resolving mark's ts, or a trade's opened_at and ts), or
    ``clusters`` (one label per observation: observations in different clusters are independent).
    ``clusters`` wins when both are given. Out: an ``Evidence`` (see the module docstring for methods).
    """
    v = _as_float(x)
    n = int(v.size)
    mean = float(v.mean()) if n else 0.0
    xc = v - mean
    ss = float(np.einsum("i,i->", xc, xc))
    reason = _degenerate(v, ss)
    if reason is not None:
        return no_evidence(n, mean, reason)
    if clusters is not None:
        labels = np.asarray(clusters).reshape(-1)
        if labels.size != n:
            raise ValueError(f"clusters has {labels.size} labels for {n} observations")
        _, codes = np.unique(labels, return_inverse=True)
        sums = np.bincount(codes.reshape(-1), weights=xc)
        g = int(sums.size)
        if g < 2:
            return no_evidence(n, mean, FEW_CLUSTERS)
        var_mean = g / (g - 1.0) * float(np.einsum("i,i->", sums, sums)) / (n * n)
        if not var_mean > 0.0:
            return no_evidence(n, mean, NO_LONG_RUN_VARIANCE)
        se = math.sqrt(var_mean)
        t = mean / se
        return Evidence(n, float(g), mean, se, t, _two_sided_p(t, g - 1.0), "cluster")
    if start_ms is not None or end_ms is not None:
        if start_ms is None or end_ms is None:
            raise ValueError("start_ms and end_ms go together")
        s = np.asarray(start_ms, dtype=np.int64).reshape(-1)
        e = np.asarray(end_ms, dtype=np.int64).reshape(-1)
        if s.size != n or e.size != n:
            raise ValueError(f"time windows ({s.size}, {e.size}) for {n} observations")
        return _overlap_evidence(n, mean, ss, overlap_cross_sum(xc, s, e))
    se = math.sqrt(ss / n / (n - 1.0))
    t = mean / se
    return Evidence(n, float(n), mean, se, t, _two_sided_p(t, n - 1.0), "iid")


def paired_test(
    a: ArrayLike,
    b: ArrayLike,
    *,
    start_ms: ArrayLike | None = None,
    end_ms: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
) -> Evidence:
    """Test mean(a - b) = 0 for two measurements of the same observations (e.g. one signal's aligned
    return at two horizons). Windows: pass the union of each observation's two windows (its start to
    the later end). Same methods as ``mean_test``."""
    return mean_test(_as_float(a) - _as_float(b), start_ms=start_ms, end_ms=end_ms, clusters=clusters)


def overlap_clusters(start_ms: ArrayLike, end_ms: ArrayLike, gap_ms: int = 0) -> IntArray:
    """Cluster labels (0, 1, ... in time order) for observations with windows [start, end): windows that
    overlap, or lie within ``gap_ms`` of each other (a burst), share a label; chains merge. Pass the
    labels to ``mean_test(clusters=...)`` for trades that overlap or come in bursts."""
    s = np.asarray(start_ms, dtype=np.int64).reshape(-1)
    e = np.asarray(end_ms, dtype=np.int64).reshape(-1)
    labels = np.zeros(s.size, dtype=np.int64)
    if s.size == 0:
        return labels
    order = np.argsort(s, kind="stable")
    reach = np.maximum.accumulate(np.maximum(e[order], s[order]))
    new = np.empty(s.size, dtype=bool)
    new[0] = True
    new[1:] = s[order][1:] > reach[:-1] + gap_ms
    labels[order] = np.cumsum(new) - 1
    return labels


def holm(p: ArrayLike, alpha: float) -> BoolArray:
    """Holm's step-down rejections at family-wise level ``alpha`` (same order as ``p``)."""
    pv = _as_float(p)
    m = pv.size
    out = np.zeros(m, dtype=bool)
    for rank, i in enumerate(np.argsort(pv, kind="stable")):
        if pv[i] > alpha / (m - rank):
            break
        out[i] = True
    return out


def bonferroni(p: ArrayLike, alpha: float) -> BoolArray:
    """Bonferroni rejections: p <= alpha / m."""
    pv = _as_float(p)
    return pv <= alpha / max(pv.size, 1)


def benjamini_hochberg(p: ArrayLike, q: float) -> BoolArray:
    """Benjamini-Hochberg rejections at false discovery rate ``q`` (for large candidate families)."""
    pv = _as_float(p)
    m = pv.size
    out = np.zeros(m, dtype=bool)
    if m == 0:
        return out
    order = np.argsort(pv, kind="stable")
    below = pv[order] <= q * np.arange(1, m + 1) / m
    if below.any():
        out[order[: int(np.flatnonzero(below)[-1]) + 1]] = True
    return out


def family(
    evidence: Sequence[Evidence], min_t: float, method: FamilyMethod = "holm", alpha: float | None = None
) -> BoolArray:
    """Which tests of a family pass, controlled as a family at the level one test has (``p_for_t``).

    Use it whenever the best of several tests is acted on (horizons of a component, conviction buckets):
    the chance that any member of a null family passes stays at most ``p_for_t(min_t)``.
    "holm" / "bonferroni": family-wise; "bh": Benjamini-Hochberg at q = ``p_for_t(min_t)``.
    Degenerate members never pass (they count in the family size). ``alpha``: a level other than
    ``p_for_t(min_t)`` (e.g. a learner that re-tests nearly the same data every cycle holds itself to less).
    """
    if not evidence:
        return np.zeros(0, dtype=bool)
    p = np.array([e.p if e.usable else 1.0 for e in evidence])
    alpha = p_for_t(min_t) if alpha is None else alpha
    if method == "holm":
        return holm(p, alpha)
    if method == "bonferroni":
        return bonferroni(p, alpha)
    return benjamini_hochberg(p, alpha)


def wilson(wins: float, n: float, z: float = WILSON_Z) -> tuple[float, float]:
    """Wilson score interval of a proportion; ``n`` may be an effective count (e.g. clusters, not trades)
    with ``wins`` scaled alike (``effective_wins``). (0, 1) when n <= 0."""
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / n + z * z / (4.0 * n * n)) / denom
    return max(centre - half, 0.0), min(centre + half, 1.0)


def effective_wins(wins: float, n: int, n_eff: float) -> float:
    """Wins rescaled to an effective count: the same win rate over ``n_eff`` observations."""
    return wins * n_eff / n if n > 0 else 0.0


def proportion_test(wins: float, n: float, p0: float = 0.5) -> float:
    """Two-sided score-test p-value of a proportion against ``p0`` (the test the Wilson interval
    inverts); ``n`` may be an effective count. 1.0 when n <= 0."""
    if n <= 0:
        return 1.0
    z = (wins / n - p0) / math.sqrt(p0 * (1.0 - p0) / n)
    return float(2.0 * _sp.norm.sf(abs(z)))


def evidence_stale(last_evidence_ms: int | None, now_ms: int, evidence_ttl_ms: int) -> bool:
    """True when the last significant evidence is at least ``evidence_ttl_ms`` of event time old
    (None: never recorded, which is not stale: the clock starts when a value is first seen)."""
    return last_evidence_ms is not None and now_ms - last_evidence_ms >= evidence_ttl_ms


def expire_toward(
    current: float,
    default: float,
    last_evidence_ms: int | None,
    now_ms: int,
    evidence_ttl_ms: int,
    max_step: float,
    bounds: tuple[float, float],
) -> float:
    """Evidence expiry: ``current`` stepped toward ``default`` by at most ``max_step`` relative (on the
    1e-6 grid, inside ``bounds``) once its evidence is stale (``evidence_stale``); otherwise unchanged."""
    if not evidence_stale(last_evidence_ms, now_ms, evidence_ttl_ms) or converged(current, default):
        return current
    return relative_step(current, default, max_step, bounds)
