"""The statistics the learners share: mean/t with Newey-West errors, Wilson interval, isotonic fit.

Every function is vectorised over the observations and returns plain floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

WILSON_Z = 1.959963984540054  # two-sided 95%


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


def hac_lag(ts_ms: IntArray, horizon_s: int) -> int:
    """Newey-West lag for outcomes of ``horizon_s`` observed at sorted times ``ts_ms``.

    L = ceil(h / s) with s the median spacing of consecutive observations; 0 (plain iid t)
    when the horizon is no longer than the spacing, i.e. consecutive outcomes do not overlap.
    """
    if ts_ms.size < 3:
        return 0
    spacing = float(np.median(np.diff(ts_ms)))
    horizon_ms = horizon_s * 1000.0
    if spacing >= horizon_ms:
        return 0
    if spacing <= 0.0:
        # Many observations share a timestamp: the spacing of distinct times is the better measure.
        distinct = np.unique(ts_ms)
        if distinct.size < 2:
            return int(ts_ms.size - 1)
        per_time = ts_ms.size / distinct.size
        return int(min(ts_ms.size - 1, math.ceil(horizon_ms / float(np.median(np.diff(distinct))) * per_time)))
    return int(min(ts_ms.size - 1, math.ceil(horizon_ms / spacing)))


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
    n = x.size
    xc = x - x.mean()
    gamma0 = float(np.einsum("i,i->", xc, xc)) / n
    if lag <= 0:
        return gamma0, gamma0
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
    return gamma0, total / (n * m)


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


def summarize(x: FloatArray, ts_ms: IntArray | None = None, horizon_s: int = 0) -> Summary:
    """Summary of ``x``; with ``ts_ms`` (sorted), t uses Newey-West errors when outcomes overlap."""
    n = int(x.size)
    if n == 0:
        return Summary(0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0)
    lag = hac_lag(ts_ms, horizon_s) if ts_ms is not None else 0
    naive = plain_t(x)
    t = newey_west_t(x, lag) if lag > 0 else naive
    gains = float(np.maximum(x, 0.0).sum())
    losses = float(-np.minimum(x, 0.0).sum())
    hits = int(np.count_nonzero(x > 0))
    return Summary(n, float(x.mean()), hits / n, t, naive, lag, gains, losses)


def wilson_interval(wins: FloatArray, n: FloatArray, z: float = WILSON_Z) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of a binomial proportion, elementwise; (0, 1) where n == 0."""
    n_safe = np.where(n > 0, n, 1.0)
    p = wins / n_safe
    denom = 1.0 + z * z / n_safe
    centre = (p + z * z / (2.0 * n_safe)) / denom
    half = z * np.sqrt(p * (1.0 - p) / n_safe + z * z / (4.0 * n_safe * n_safe)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def isotonic(values: FloatArray, weights: FloatArray) -> FloatArray:
    """Weighted non-decreasing least-squares fit (pool adjacent violators); loops per block, not per sample."""
    means: list[float] = []
    totals: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        means.append(float(value))
        totals.append(float(weight))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w = totals[-2] + totals[-1]
            m = (means[-2] * totals[-2] + means[-1] * totals[-1]) / w if w > 0 else (means[-2] + means[-1]) / 2
            means[-2:] = [m]
            totals[-2:] = [w]
            sizes[-2:] = [sizes[-2] + sizes[-1]]
    return np.repeat(np.array(means, dtype=np.float64), sizes)


def shrunk_profit_factor(gains: float, losses: float, n: int, pseudo: int) -> float:
    """Profit factor (gains / losses) shrunk toward 1 with ``pseudo`` neutral pseudo-outcomes.

    Each pseudo-outcome has the sample's mean absolute size a = (gains + losses) / n and the
    pseudo-outcomes split evenly between gains and losses, so
    PF* = (gains + k) / (losses + k) with k = pseudo * a / 2.
    """
    if n <= 0:
        return 1.0
    k = pseudo * (gains + losses) / n / 2.0
    if losses + k <= 0.0:
        return 1.0
    return (gains + k) / (losses + k)


def finite_or_none(value: float, digits: int = 6) -> float | None:
    """Round for reports; NaN and infinities become None (JSON-safe)."""
    v = float(value)
    if not math.isfinite(v):
        return None
    return round(v, digits)
