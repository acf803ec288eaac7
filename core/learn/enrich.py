"""The one frame every learner reads: signals in the lookback with their outcomes and trades.

Lookback rule: a cycle reads signals with ts >= now - lookback and trades whose close ts >=
now - lookback (now = the bot's watermark). Outcomes are joined to those signals whatever
time they resolved at; a trade's linked signal is looked up among all signals given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.learn.frames import CycleInputs
from core.learn.outcomes import RESOLVED
from core.learn.stats import FloatArray, IntArray


def ret_col(horizon_s: int) -> str:
    """Column of the raw return p_h/p_0 - 1 at a horizon (NaN unless resolved)."""
    return f"ret_{horizon_s}s"


def aligned_col(horizon_s: int) -> str:
    """Column of the direction-aligned return (long: +ret, short: -ret)."""
    return f"aligned_{horizon_s}s"


@dataclass(frozen=True, eq=False)
class Enriched:
    """Signals (sorted by ts, stable) with outcome and trade columns, their components and trades.

    ``signals`` adds: dir_sign (+1 long, -1 short), ret_<h>s, aligned_<h>s per horizon,
    trade_count, trade_pnl, trade_notional, trade_return (sum pnl / sum notional of linked trades).
    ``trades`` adds: notional, ret (pnl / (entry_price * quantity)), conv (trade conviction, else the
    linked signal's), edge_bps (the linked signal's expected_edge_bps), win (pnl > 0).
    ``cost`` is the median round-trip fee as a fraction of notional (0 without trades); it is
    charged to counterfactual returns of blocked signals.
    """

    signals: pd.DataFrame
    components: pd.DataFrame
    trades: pd.DataFrame
    horizons_s: tuple[int, ...]
    labels: dict[int, str]
    cost: float
    eval_horizon_s: int
    since_ms: int
    now_ms: int

    def aligned(self, horizon_s: int) -> FloatArray:
        """Direction-aligned returns at a horizon (NaN unresolved)."""
        return np.asarray(self.signals[aligned_col(horizon_s)].to_numpy(dtype=np.float64))

    def net_counterfactual(self, horizon_s: int | None = None) -> FloatArray:
        """Aligned return minus the round-trip cost: what following the signal would have earned."""
        return self.aligned(horizon_s or self.eval_horizon_s) - self.cost


def nearest_horizon(horizons_s: list[int], target_s: int) -> int:
    """The configured horizon nearest ``target_s`` (ties: the shorter)."""
    return min(horizons_s, key=lambda h: (abs(h - target_s), h))


def enrich(
    inputs: CycleInputs,
    outcomes: pd.DataFrame,
    labels: dict[int, str],
    now_ms: int,
    lookback_s: int,
    eval_target_s: int,
    outcome_rows: IntArray | None = None,
) -> Enriched:
    """Join signals in the lookback with ``outcomes`` (all stored + new) and with linked trades.

    In: the cycle inputs, the outcomes to use, horizon seconds -> label ("5m"), now (watermark ms),
    lookback seconds, the hold target whose nearest horizon scores counterfactuals, and optionally
    each outcome's row in ``inputs.signals`` (-1 when unknown) when the caller already looked it up.
    Out: an ``Enriched`` bundle. Vectorised joins: one hash lookup of ids (``get_indexer``) and
    positional takes; no loop per signal.
    """
    horizons = sorted(labels)
    since = now_ms - lookback_s * 1000
    all_signals = inputs.signals
    n_all = len(all_signals)
    all_ts = all_signals["ts"].to_numpy(dtype=np.int64)
    keep = np.flatnonzero(all_ts >= since)
    kept_ts = all_ts[keep]
    if kept_ts.size > 1 and bool(np.all(kept_ts[1:] >= kept_ts[:-1])):
        order = keep  # already in time order: no sort
    else:
        order = keep[np.argsort(kept_ts, kind="stable")]
    if order.size == n_all and (n_all == 0 or (order[0] == 0 and order[-1] == n_all - 1)):
        # Every signal, in input order: share the input columns instead of copying them.
        signals = all_signals
        components = inputs.components
    else:
        signals = all_signals.take(order).reset_index(drop=True)
        components = inputs.components.take(order).reset_index(drop=True)
    position = np.full(n_all, -1, dtype=np.int64)  # row in inputs.signals -> row here
    position[order] = np.arange(order.size, dtype=np.int64)
    dir_sign = np.where(signals["direction"].to_numpy() == "short", -1.0, 1.0)
    extra: dict[str, object] = {"dir_sign": dir_sign}

    status = outcomes["status"].to_numpy()
    if outcome_rows is None:
        full_ids = pd.Index(all_signals["event_id"])
        outcome_rows = full_ids.get_indexer(outcomes["signal_event_id"]) if n_all else np.full(len(outcomes), -1)
    resolved = np.flatnonzero(status == RESOLVED)
    found = np.asarray(outcome_rows)[resolved]
    rows = np.where(found >= 0, position[np.maximum(found, 0)], -1)
    hs = outcomes["horizon_s"].to_numpy(dtype=np.int64)[resolved]
    rets = outcomes["ret"].to_numpy(dtype=np.float64)[resolved]
    for h in horizons:
        col = np.full(len(signals), np.nan)
        pick = (rows >= 0) & (hs == h)
        col[rows[pick]] = rets[pick]
        extra[ret_col(h)] = col
        extra[aligned_col(h)] = col * dir_sign

    trades, link = _trades_with_returns(inputs, since)
    linked = np.where(link >= 0, position[np.maximum(link, 0)], -1)
    ok = linked >= 0
    count = np.bincount(linked[ok], minlength=len(signals))
    pnl = np.bincount(linked[ok], weights=trades["pnl"].to_numpy()[ok], minlength=len(signals))
    notional = np.bincount(linked[ok], weights=trades["notional"].to_numpy()[ok], minlength=len(signals))
    with np.errstate(divide="ignore", invalid="ignore"):
        extra["trade_count"] = count.astype(np.int64)
        extra["trade_pnl"] = np.where(count > 0, pnl, np.nan)
        extra["trade_notional"] = np.where(count > 0, notional, np.nan)
        extra["trade_return"] = np.where(count > 0, pnl / notional, np.nan)
    signals = pd.concat([signals, pd.DataFrame(extra, index=signals.index)], axis=1)

    fee_rate = (trades["fees"] / trades["notional"]).to_numpy(dtype=np.float64)
    fee_rate = fee_rate[np.isfinite(fee_rate)]
    cost = float(np.median(fee_rate)) if fee_rate.size else 0.0
    return Enriched(
        signals=signals,
        components=components,
        trades=trades,
        horizons_s=tuple(horizons),
        labels=dict(labels),
        cost=cost,
        eval_horizon_s=nearest_horizon(horizons, eval_target_s),
        since_ms=since,
        now_ms=now_ms,
    )


def _trades_with_returns(inputs: CycleInputs, since: int) -> tuple[pd.DataFrame, IntArray]:
    """Trades closed since ``since`` with notional, ret, conv, edge_bps, win; and each one's signal row (-1)."""
    trades = inputs.trades
    trades = trades[trades["ts"].to_numpy(dtype=np.int64) >= since].reset_index(drop=True)
    notional = (trades["entry_price"] * trades["quantity"]).to_numpy(dtype=np.float64)
    link = np.full(len(trades), -1, dtype=np.int64)
    if len(inputs.signals) and len(trades):
        link = pd.Index(inputs.signals["event_id"]).get_indexer(trades["signal_event_id"].fillna("").astype(str))
    conv = trades["conviction"].to_numpy(dtype=np.float64).copy()
    edge = np.full(len(trades), np.nan)
    ok = link >= 0
    if ok.any():
        sig_conv = inputs.signals["conviction"].to_numpy(dtype=np.float64)
        sig_edge = inputs.signals["expected_edge_bps"].to_numpy(dtype=np.float64)
        fill = np.isnan(conv) & ok
        conv[fill] = sig_conv[link[fill]]
        edge[ok] = sig_edge[link[ok]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(notional > 0, trades["pnl"].to_numpy(dtype=np.float64) / notional, np.nan)
    extra = pd.DataFrame(
        {"notional": notional, "ret": ret, "conv": conv, "edge_bps": edge, "win": trades["pnl"].to_numpy() > 0},
        index=trades.index,
    )
    return pd.concat([trades, extra], axis=1), np.asarray(link, dtype=np.int64)


def component_outcome_counts(enriched: Enriched) -> dict[str, int]:
    """Per component: resolved outcomes at its best-covered horizon (what ``min_outcomes`` is checked against)."""
    counts: dict[str, int] = {}
    if not enriched.horizons_s:
        return counts
    carried = enriched.components.notna().to_numpy(dtype=bool) & (
        enriched.components.fillna(0.0).to_numpy(dtype=float) != 0.0
    )
    resolved = np.column_stack([~np.isnan(enriched.aligned(h)) for h in enriched.horizons_s]).astype(np.int64)
    per_horizon = carried.astype(np.int64).T @ resolved  # components x horizons
    for name_i, name in enumerate(enriched.components.columns):
        counts[str(name)] = int(per_horizon[name_i].max()) if per_horizon.size else 0
    return dict(sorted(counts.items()))
