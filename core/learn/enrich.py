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
from core.learn.outcomes import RESOLVED, Resolution, lookup, resolve_outcomes
from core.learn.outcomes import outcome_rows as _outcome_rows
from core.learn.stats import FloatArray, IntArray
from core.schemas.config import LearningConfig


def ret_col(horizon_s: int) -> str:
    """Column of the raw return p_h/p_0 - 1 at a horizon (NaN unless resolved)."""
    return f"ret_{horizon_s}s"


def mark_col(horizon_s: int) -> str:
    """Column of the resolving mark's time (epoch ms as float64, exact below 2^53; NaN unless resolved):
    the end of the outcome's actual window, which the significance layer's overlap errors need."""
    return f"mark_{horizon_s}s"


def aligned_col(horizon_s: int) -> str:
    """Column of the direction-aligned return (long: +ret, short: -ret)."""
    return f"aligned_{horizon_s}s"


@dataclass(frozen=True, eq=False)
class Enriched:
    """Signals (sorted by ts, stable) with outcome and trade columns, their components and trades.

    ``signals`` adds: dir_sign (+1 long, -1 short), blocked (decision == "blocked"), ret_<h>s,
    aligned_<h>s and mark_<h>s (the resolving mark's ts) per horizon, trade_count, trade_pnl,
    trade_notional, trade_return (sum pnl / sum notional of linked trades).
    ``trades`` adds: notional, ret (pnl / (entry_price * quantity)), conv (trade conviction, else the
    linked signal's), edge_bps (the linked signal's expected_edge_bps), win (pnl > 0).
    ``cost`` is the median round-trip fee as a fraction of notional (0 without trades); it is
    charged to counterfactual returns of blocked signals. ``outcomes_resolved`` / ``outcomes_gap``
    count the outcomes given (the whole window, not only the lookback).
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
    outcomes_resolved: int = 0
    outcomes_gap: int = 0

    def aligned(self, horizon_s: int) -> FloatArray:
        """Direction-aligned returns at a horizon (NaN unresolved)."""
        return np.asarray(self.signals[aligned_col(horizon_s)].to_numpy(dtype=np.float64))

    def windows(self, horizon_s: int) -> tuple[IntArray, IntArray]:
        """Each signal's outcome window at a horizon: (signal ts, resolving mark ts), epoch ms; the end is
        -1 where unresolved."""
        ts = self.signals["ts"].to_numpy(dtype=np.int64)
        marks = self.signals[mark_col(horizon_s)].to_numpy(dtype=np.float64)
        return ts, np.where(np.isnan(marks), -1, marks).astype(np.int64)

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
    Out: an ``Enriched`` bundle. Vectorised joins: id lookups through ``inputs.signal_ids`` and
    positional takes; no loop per signal. Signals in time order (storage's order) are sliced, not copied.
    """
    horizons = sorted(labels)
    since = now_ms - lookback_s * 1000
    all_signals = inputs.signals
    n_all = len(all_signals)
    all_ts = all_signals["ts"].to_numpy(dtype=np.int64)
    keep = np.flatnonzero(all_ts >= since)
    kept_ts = all_ts[keep]
    in_order = kept_ts.size < 2 or bool(np.all(kept_ts[1:] >= kept_ts[:-1]))
    order = keep if in_order else keep[np.argsort(kept_ts, kind="stable")]
    if order.size == 0 or (in_order and order[-1] - order[0] + 1 == order.size):
        # A contiguous run of the input in time order: views, no copy.
        first = int(order[0]) if order.size else n_all
        signals = all_signals.iloc[first : first + order.size].reset_index(drop=True)
        components = inputs.components.iloc[first : first + order.size].reset_index(drop=True)
    else:
        signals = all_signals.take(order).reset_index(drop=True)
        components = inputs.components.take(order).reset_index(drop=True)
    position = np.full(n_all, -1, dtype=np.int64)  # row in inputs.signals -> row here
    position[order] = np.arange(order.size, dtype=np.int64)
    n = len(signals)
    k = len(horizons)
    # Every float column added below lives in one (columns x rows) block: filled in place, handed to
    # pandas without copying or stacking.
    float_names = [ret_col(h) for h in horizons] + [aligned_col(h) for h in horizons]
    float_names += ["dir_sign", "trade_pnl", "trade_notional", "trade_return"]
    float_names += [mark_col(h) for h in horizons]
    block = np.full((len(float_names), n), np.nan)
    dir_sign = block[2 * k]
    dir_sign[:] = np.where(signals["direction"].to_numpy(dtype=object) == "short", -1.0, 1.0)
    blocked = signals["decision"].to_numpy(dtype=object) == "blocked"

    is_resolved = outcomes["status"].to_numpy(dtype=object) == RESOLVED
    if outcome_rows is None:
        outcome_rows = _outcome_rows(all_signals, outcomes, inputs.signal_ids)
    resolved = np.flatnonzero(is_resolved)
    found = np.asarray(outcome_rows)[resolved]
    rows = _positions(position, found)
    hs = outcomes["horizon_s"].to_numpy(dtype=np.int64)[resolved]
    at = np.full(resolved.size, -1, dtype=np.int64)  # the horizon's row in the block
    for j, h in enumerate(horizons):
        at[hs == h] = j
    usable = (rows >= 0) & (at >= 0)
    block.reshape(-1)[at[usable] * n + rows[usable]] = outcomes["ret"].to_numpy(dtype=np.float64)[resolved][usable]
    marks_at = (2 * k + 4 + at[usable]) * n + rows[usable]
    block.reshape(-1)[marks_at] = outcomes["mark_ts"].to_numpy(dtype=np.int64)[resolved][usable]
    np.multiply(block[:k], dir_sign, out=block[k : 2 * k])

    trades, link = _trades_with_returns(inputs, since)
    linked = _positions(position, link)
    ok = linked >= 0
    count = np.bincount(linked[ok], minlength=n)
    pnl = np.bincount(linked[ok], weights=trades["pnl"].to_numpy()[ok], minlength=n)
    notional = np.bincount(linked[ok], weights=trades["notional"].to_numpy()[ok], minlength=n)
    traded = count > 0
    block[2 * k + 1][traded] = pnl[traded]
    block[2 * k + 2][traded] = notional[traded]
    with np.errstate(divide="ignore", invalid="ignore"):
        block[2 * k + 3][traded] = pnl[traded] / notional[traded]
    floats = pd.DataFrame(block.T, columns=float_names, index=signals.index, copy=False)
    flags = pd.DataFrame({"blocked": blocked, "trade_count": count.astype(np.int64)}, index=signals.index)
    signals = pd.concat([signals, floats, flags], axis=1)

    fee_rate = (trades["fees"] / trades["notional"]).to_numpy(dtype=np.float64)
    fee_rate = fee_rate[np.isfinite(fee_rate)]
    cost = float(np.median(fee_rate)) if fee_rate.size else 0.0
    n_resolved = int(resolved.size)
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
        outcomes_resolved=n_resolved,
        outcomes_gap=len(outcomes) - n_resolved,
    )


def stored_outcome_rows(inputs: CycleInputs) -> IntArray:
    """Each stored outcome's row in ``inputs.signals`` (-1 when absent): as storage handed it, else looked up."""
    if inputs.outcome_rows is not None:
        return inputs.outcome_rows
    return _outcome_rows(inputs.signals, inputs.outcomes, inputs.signal_ids)


def resolve_pending(inputs: CycleInputs, config: LearningConfig, now_ms: int) -> Resolution:
    """Every cycle's first step, on its own: decide the (signal, horizon) pairs not stored yet at the
    bot's horizons, as of now (watermark ms). Out: the resolution (new outcomes, their signal rows, the
    pending count), for storage to persist; ``resolve_and_enrich`` takes it instead of resolving again.
    Inputs after now are ignored (``CycleInputs.as_of``)."""
    inputs = inputs.as_of(now_ms)
    stored_rows = stored_outcome_rows(inputs)
    return resolve_outcomes(
        inputs.signals, inputs.prices, config.horizon_seconds(), now_ms, inputs.outcomes, stored_rows
    )


def resolve_and_enrich(
    inputs: CycleInputs, config: LearningConfig, now_ms: int, eval_target_s: int, resolution: Resolution | None = None
) -> tuple[Enriched, Resolution]:
    """What every cycle, report and health check starts from: decide the outcomes not stored yet (or take
    ``resolution``, from ``resolve_pending`` on the same inputs), then ``enrich`` with stored + new ones.

    In: the inputs, the bot's learning config, now (watermark ms), the hold target that picks the
    counterfactual horizon. Out: the enriched bundle and the resolution (new outcomes, pending count).
    Inputs after now are ignored (``CycleInputs.as_of``; a ``resolution`` must come from the same call
    of ``resolve_pending``, which filters alike).
    """
    inputs = inputs.as_of(now_ms)
    horizons = config.horizon_seconds()
    labels = dict(zip(horizons, config.horizons, strict=True))
    stored = inputs.outcomes
    stored_rows = stored_outcome_rows(inputs)
    if resolution is None:
        resolution = resolve_outcomes(inputs.signals, inputs.prices, horizons, now_ms, stored, stored_rows)
    fresh = resolution.outcomes
    if fresh.empty:
        outcomes, rows = stored, stored_rows
    elif stored.empty:
        outcomes, rows = fresh, resolution.rows
    else:
        outcomes = pd.concat([stored, fresh], ignore_index=True)
        rows = np.concatenate([stored_rows, resolution.rows])
    enriched = enrich(inputs, outcomes, labels, now_ms, config.lookback_seconds(), eval_target_s, rows)
    return enriched, resolution


def _positions(position: IntArray, rows: IntArray) -> IntArray:
    """``position[rows]`` where ``rows >= 0``, else -1 (also when there are no signals at all: trades
    without signals indexed an empty ``position`` and failed the cycle)."""
    out = np.full(rows.size, -1, dtype=np.int64)
    known = rows >= 0
    out[known] = position[rows[known]]
    return out


def _trades_with_returns(inputs: CycleInputs, since: int) -> tuple[pd.DataFrame, IntArray]:
    """Trades closed since ``since`` with notional, ret, conv, edge_bps, win; and each one's signal row (-1)."""
    trades = inputs.trades
    trades = trades[trades["ts"].to_numpy(dtype=np.int64) >= since].reset_index(drop=True)
    notional = (trades["entry_price"] * trades["quantity"]).to_numpy(dtype=np.float64)
    link = np.full(len(trades), -1, dtype=np.int64)
    if len(inputs.signals) and len(trades):
        wanted = trades["signal_event_id"].to_numpy(dtype=object)
        link = lookup(inputs.signal_ids, np.where(pd.isna(wanted), "", wanted))
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
    return pd.concat([trades, extra], axis=1), link
