"""What the trade learners share: the dependence between trades, and attribution of losses.

Dependence. Trades are not independent observations: two trades on the same symbol whose holding
windows ``[opened_at, ts]`` overlap share the same price moves, and a burst (several trades within
a minute) is one decision taken several times. ``trade_windows`` gives every trade its holding
window widened by ``BURST_MS`` and placed on its symbol's own stretch of a shared time line; every
trade learner hands them to ``significance.mean_test(start_ms=..., end_ms=...)``, whose long-run
variance sums the cross products of exactly the pairs whose windows overlap. Trades on different
symbols are taken as independent. (Clusters of chained windows, ``trade_clusters``, are used only
for the win-rate count of blocked combos: a bot trading one symbol continuously chains every trade
into one cluster and never has evidence; the overlap variance does not chain.)

Attribution. Within one cycle the trade learners run in a fixed order (``ORDER``) and each later
one sees only the trades the earlier ones leave unexplained (``residual``): a trade on a combo
that is blocked after this cycle's changes, or whose signal expected less edge than the fee gate
after them, is already explained and no longer evidence for the conviction gate, sizing or
allocation; a trade below the conviction gate after it moved is not evidence for allocation either.
(Sizing keeps those: a bucket the gate now keeps out still has its place in the expectancy order.)
The order goes from the most specific explanation to the most general: a loss pinned to one
symbol+direction, then to thin expected edges, then to a conviction band, then to a size
multiplier, then to capital shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.significance import Evidence, mean_test, overlap_clusters
from core.learn.stats import IntArray
from core.schemas.params import ParamSections

# The trade learners, in the order a cycle runs them (each sees the residual of those before it).
ORDER = ("blocked_combos", "fee_gate", "conviction_gate", "sizing", "allocation")
BURST_MS = 60_000  # trades on one symbol within a minute of each other (or overlapping) are one burst


def trade_clusters(trades: pd.DataFrame, burst_ms: int = BURST_MS) -> IntArray:
    """One cluster label per trade (aligned with ``trades``): trades on the same symbol whose holding
    windows ``[opened_at, ts]`` overlap or lie within ``burst_ms`` of each other share a label."""
    n = len(trades)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes, _ = pd.factorize(trades["symbol"].to_numpy(dtype=object), sort=True)
    start = trades["opened_at"].to_numpy(dtype=np.int64)
    end = np.maximum(trades["ts"].to_numpy(dtype=np.int64), start)
    base = int(start.min())
    # Each symbol on its own stretch of a shared time line, far enough apart never to touch.
    stride = int(end.max()) - base + 2 * burst_ms + 1
    offset = codes.astype(np.int64) * stride - base
    return overlap_clusters(start + offset, end + offset, burst_ms)


def trade_windows(trades: pd.DataFrame, burst_ms: int = BURST_MS) -> tuple[IntArray, IntArray]:
    """Each trade's window for ``significance.mean_test``: ``[opened_at, ts + burst_ms)``, shifted so that
    windows of different symbols never overlap (aligned with ``trades``)."""
    n = len(trades)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes, _ = pd.factorize(trades["symbol"].to_numpy(dtype=object), sort=True)
    start = trades["opened_at"].to_numpy(dtype=np.int64)
    end = np.maximum(trades["ts"].to_numpy(dtype=np.int64), start) + burst_ms
    base = int(start.min())
    stride = int(end.max()) - base + 1
    offset = codes.astype(np.int64) * stride - base
    return start + offset, end + offset


def trade_test(values: np.ndarray, trades: pd.DataFrame) -> Evidence:
    """``significance.mean_test`` of per-trade ``values`` (aligned with ``trades``) with the trades' windows."""
    start, end = trade_windows(trades)
    return mean_test(values, start_ms=start, end_ms=end)


def explained_by_combos_and_fee(trades: pd.DataFrame, sections: ParamSections) -> np.ndarray:
    """Trades a blocked combo or the fee gate of ``sections`` accounts for (would not be taken now)."""
    blocked = {(b.symbol, b.direction) for b in sections.blocked_combos}
    if blocked and len(trades):
        pairs = zip(trades["symbol"].to_numpy(dtype=object), trades["direction"].to_numpy(dtype=object), strict=True)
        in_combo = np.fromiter(((s, d) in blocked for s, d in pairs), dtype=bool, count=len(trades))
    else:
        in_combo = np.zeros(len(trades), dtype=bool)
    edge = trades["edge_bps"].to_numpy(dtype=np.float64)
    below_fee = np.isfinite(edge) & (edge < sections.gates.fee.min_expected_edge_bps)
    return np.asarray(in_combo | below_fee)


def explained_by_conviction(trades: pd.DataFrame, sections: ParamSections) -> np.ndarray:
    """Trades below the conviction gate of ``sections`` (the gate would not let them trade now)."""
    conv = trades["conv"].to_numpy(dtype=np.float64)
    return np.asarray(np.isfinite(conv) & (conv < sections.gates.conviction.min_conviction))


def residual_trades(trades: pd.DataFrame, explained: np.ndarray) -> pd.DataFrame:
    """The trades no earlier learner explains (a fresh RangeIndex)."""
    if not explained.any():
        return trades
    return trades[~explained].reset_index(drop=True)
