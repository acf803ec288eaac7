"""The Newey-West t the learners used before the significance layer (issue #10), kept only as a baseline.

Nothing in core/ calls this: tests and bench/calibration.py compare it with core.learn.significance
on the same data, to show what it got wrong (the lag from the median spacing, the Bartlett kernel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.learn.stats import FloatArray, IntArray


@dataclass(frozen=True)
class Summary:
    """n, mean, hit rate and t of a sample, plus the naive (iid) t and the Newey-West lag used."""

    n: int
    mean: float
    hit_rate: float
    t: float
    naive_t: float
    lag: int
    gains: float
    losses: float


@dataclass(frozen=True)
class Spacing:
    """How far apart a sample's observations are: the median gap between consecutive times (ms), and
    for samples whose median gap is 0 (many share a time), the median gap between distinct times and
    the observations per distinct time."""

    median_ms: float
    distinct_ms: float
    per_time: float


def spacing_of(ts_ms: IntArray) -> Spacing | None:
    """The ``Spacing`` of sorted times; None under 3 observations (too few to measure)."""
    if ts_ms.size < 3:
        return None
    median = float(np.median(np.diff(ts_ms)))
    if median > 0.0:
        return Spacing(median, median, 1.0)
    distinct = np.unique(ts_ms)
    if distinct.size < 2:
        return Spacing(0.0, 0.0, float(ts_ms.size))
    return Spacing(0.0, float(np.median(np.diff(distinct))), ts_ms.size / distinct.size)


def lag_for(spacing: Spacing | None, horizon_s: int, n: int) -> int:
    """Newey-West lag for ``n`` outcomes of ``horizon_s`` whose times have ``spacing``.

    L = ceil(h / s) with s the median spacing, capped at n - 1; 0 (plain iid t) when the horizon is
    no longer than the spacing (consecutive outcomes do not overlap) or the spacing is unknown.
    """
    if spacing is None or n < 3:
        return 0
    horizon_ms = horizon_s * 1000.0
    if spacing.median_ms >= horizon_ms:
        return 0
    if spacing.median_ms <= 0.0:
        # Many observations share a timestamp: the spacing of distinct times is the better measure.
        if spacing.distinct_ms <= 0.0:
            return n - 1
        return int(min(n - 1, math.ceil(horizon_ms / spacing.distinct_ms * spacing.per_time)))
    return int(min(n - 1, math.ceil(horizon_ms / spacing.median_ms)))


def hac_lag(ts_ms: IntArray, horizon_s: int) -> int:
    """Newey-West lag for outcomes of ``horizon_s`` observed at sorted times ``ts_ms`` (``lag_for``
    with the spacing of those times)."""
    return lag_for(spacing_of(ts_ms), horizon_s, int(ts_ms.size))


def autocovariances(x: FloatArray, lag: int) -> FloatArray:
    """gamma_0..gamma_lag of ``x`` (demeaned, divided by n). O(n * lag): for reports and tests."""
    n = x.size
    xc = x - x.mean()
    # einsum, not np.dot: BLAS threading makes short dot products erratically slow.
    return np.array([float(np.einsum("i,i->", xc[: n - k], xc[k:])) / n for k in range(lag + 1)])


def bartlett_long_run_variance(x: FloatArray, lag: int) -> tuple[float, float]:
    """(gamma_0, Newey-West long-run variance) of ``x`` with a Bartlett kernel at ``lag``, in O(n).

    With xc = x - mean padded by zeros and M = lag + 1, every window sum W_a = sum_{k<M} xc_{a+k}
    (a = -lag..n-1) counts each pair (i, i+l), l <= lag, exactly M - l times, so
    sum_a W_a^2 = n * M * (gamma_0 + 2 * sum_{l=1..L} (1 - l/M) gamma_l). The window sums come
    from one cumulative sum: the same statistic as the autocovariance formula, without an FFT.
    """
    xc = x - x.mean()
    gamma0 = float(np.einsum("i,i->", xc, xc)) / x.size
    return gamma0, _bartlett_centered(xc, lag, gamma0)


def _bartlett_centered(xc: FloatArray, lag: int, gamma0: float) -> float:
    """The long-run variance of ``bartlett_long_run_variance`` from the demeaned sample and its gamma_0."""
    n = xc.size
    if lag <= 0:
        return gamma0
    m = lag + 1
    c = np.empty(n + 1)
    c[0] = 0.0
    np.cumsum(xc, out=c[1:])
    if m >= n:
        # Every window holds the head or the tail of the sample: only cumulative sums appear.
        head, tail = c[1:], c[n] - c[:n]
        full = max(m - n, 0) + 1  # windows covering the whole sample
        total = float(np.einsum("i,i->", head[:-1], head[:-1]) + np.einsum("i,i->", tail[1:], tail[1:]))
        total += full * c[n] * c[n]
    else:
        inner = c[m:] - c[: n + 1 - m]  # windows inside the sample (n + 1 - m of them)
        head = c[1:m]  # windows cut by the start (m - 1 of them)
        tail = c[n] - c[n + 1 - m : n]  # windows cut by the end (m - 1 of them)
        total = float(np.einsum("i,i->", inner, inner) + np.einsum("i,i->", head, head))
        total += float(np.einsum("i,i->", tail, tail))
    return total / (n * m)


def newey_west_t(x: FloatArray, lag: int) -> float:
    """t of the mean of ``x`` with a Bartlett-kernel Newey-West long-run variance at ``lag``.

    var = gamma_0 + 2 * sum_{l=1..L} (1 - l/(L+1)) gamma_l;  t = mean / sqrt(var / n).
    Computed in O(n) whatever the lag (see ``bartlett_long_run_variance``).
    """
    n = x.size
    if n < 2:
        return 0.0
    gamma0, var = bartlett_long_run_variance(x, lag)
    if gamma0 <= 0.0 or var <= 0.0:
        return 0.0
    return float(x.mean() / math.sqrt(var / n))


def plain_t(x: FloatArray) -> float:
    """t of the mean of ``x`` with the iid standard error sd/sqrt(n) (sd with ddof=1)."""
    n = x.size
    if n < 2:
        return 0.0
    sd = float(x.std(ddof=1))
    if sd <= 0.0 or not math.isfinite(sd):
        return 0.0
    return float(x.mean() / (sd / math.sqrt(n)))


def summarize(x: FloatArray, ts_ms: IntArray | None = None, horizon_s: int = 0, *, lag: int | None = None) -> Summary:
    """Summary of ``x``; with ``ts_ms`` (sorted), t uses Newey-West errors when outcomes overlap
    (``lag``: the Newey-West lag when the caller already knows it).

    The same statistics as ``plain_t`` / ``newey_west_t``, sharing one demeaned copy of ``x``.
    """
    n = int(x.size)
    if n == 0:
        return Summary(0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0)
    if lag is None:
        lag = hac_lag(ts_ms, horizon_s) if ts_ms is not None else 0
    total = float(x.sum())
    mean = total / n
    size = float(np.abs(x).sum())
    hits = int(np.count_nonzero(x > 0))
    xc = x - mean
    gamma0 = float(np.einsum("i,i->", xc, xc)) / n
    naive = 0.0
    if n >= 2 and gamma0 > 0.0 and math.isfinite(gamma0):
        naive = mean / math.sqrt(gamma0 / (n - 1))  # sd (ddof=1) / sqrt(n) = sqrt(gamma0 / (n - 1))
    t = naive
    if lag > 0:
        var = _bartlett_centered(xc, lag, gamma0) if n >= 2 else 0.0
        t = mean / math.sqrt(var / n) if gamma0 > 0.0 and var > 0.0 else 0.0
    gains = max((size + total) / 2.0, 0.0)  # sum of the positive x
    losses = max((size - total) / 2.0, 0.0)  # minus the sum of the negative x
    return Summary(n, mean, hits / n, t, naive, lag, gains, losses)
