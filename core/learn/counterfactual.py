"""Counterfactual: what the blocked signals would have done.

Statistic: every blocked signal in the lookback is scored like an executed one: its would-be
return is the direction-aligned return at the evaluation horizon (the configured horizon nearest
the default hold target) minus the median round-trip fee of the bot's trades. Its would-be PnL is
that return times the median notional of the bot's trades on the same symbol (all symbols when the
symbol has no trades; None when the bot has no trades at all). Per gate: blocked count, resolved
count, mean would-be return, PnL saved (losses avoided) and PnL missed (gains forgone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.enrich import Enriched
from core.learn.groups import group_by
from core.learn.outcomes import lookup
from core.learn.proposal import JsonValue, jsonable
from core.learn.stats import FloatArray, IntArray

TOP_MISSED = 20


def typical_notional(enriched: Enriched, rows: IntArray | None = None) -> FloatArray:
    """Per signal (or per signal in ``rows``): the median trade notional of its symbol (else of all
    trades; NaN without trades)."""
    trades = enriched.trades
    symbols = enriched.signals["symbol"].to_numpy(dtype=object)
    if rows is not None:
        symbols = symbols[rows]
    if trades.empty:
        return np.full(len(symbols), np.nan)
    notional = trades["notional"].to_numpy(dtype=np.float64)
    overall = float(np.nanmedian(notional)) if np.isfinite(notional).any() else np.nan
    groups = group_by(trades["symbol"])
    keep = groups.codes >= 0
    per_symbol = pd.Series(notional[keep]).groupby(groups.codes[keep]).median()
    medians = per_symbol.reindex(range(groups.size)).to_numpy(dtype=np.float64)
    at = lookup(pd.Index(groups.column(0), dtype=object), symbols)
    mapped = np.where(at >= 0, medians[np.maximum(at, 0)] if medians.size else np.nan, np.nan)
    return np.where(np.isfinite(mapped), mapped, overall)


def blocked_frame(enriched: Enriched) -> pd.DataFrame:
    """The blocked signals of the lookback: event_id, symbol, direction, ts, blocked_by ("unknown" when
    absent), x (would-be net return at the evaluation horizon) and pnl (x times the typical notional)."""
    sig = enriched.signals
    blocked = np.flatnonzero(sig["blocked"].to_numpy(dtype=bool))
    x = enriched.net_counterfactual()[blocked]
    notional = typical_notional(enriched, blocked)
    frame = sig[["event_id", "symbol", "direction", "ts", "blocked_by"]].take(blocked).reset_index(drop=True)
    frame["blocked_by"] = frame["blocked_by"].fillna("unknown").astype(str)
    frame["x"] = x
    frame["pnl"] = x * notional
    return frame


def gates_report(enriched: Enriched, frame: pd.DataFrame | None = None) -> list[dict[str, JsonValue]]:
    """Per gate (sorted): blocked, resolved, ev_bps, hit_rate, saved_pnl, missed_pnl, net_pnl, horizon.

    net_pnl = missed - saved: > 0 means the gate cost money over the lookback. ``frame``: the
    ``blocked_frame`` when the caller has it.
    """
    frame = blocked_frame(enriched) if frame is None else frame
    label = enriched.labels[enriched.eval_horizon_s]
    rows: list[dict[str, JsonValue]] = []
    has_notional = not enriched.trades.empty
    groups = group_by(frame["blocked_by"])
    all_x = frame["x"].to_numpy(dtype=np.float64)
    all_pnl = frame["pnl"].to_numpy(dtype=np.float64)
    for code, (gate,) in enumerate(groups.keys):
        member = groups.codes == code
        x, pnl = all_x[member], all_pnl[member]
        ok = np.isfinite(x)
        saved = float(-pnl[ok & (x < 0)].sum()) if has_notional else None
        missed = float(pnl[ok & (x > 0)].sum()) if has_notional else None
        row = {
            "gate": gate,
            "blocked": int(member.sum()),
            "resolved": int(ok.sum()),
            "ev_bps": float(x[ok].mean()) * 1e4 if ok.any() else None,
            "hit_rate": float((x[ok] > 0).mean()) if ok.any() else None,
            "saved_return_bps": float(-x[ok & (x < 0)].sum()) * 1e4,
            "missed_return_bps": float(x[ok & (x > 0)].sum()) * 1e4,
            "saved_pnl": saved,
            "missed_pnl": missed,
            "net_pnl": None if saved is None or missed is None else missed - saved,
            "horizon": label,
        }
        rows.append({k: jsonable(v) for k, v in row.items()})
    return rows


def missed_report(
    enriched: Enriched, top: int = TOP_MISSED, frame: pd.DataFrame | None = None
) -> list[dict[str, JsonValue]]:
    """The ``top`` blocked signals that would have paid most (would-be return desc, then event_id).

    ``frame``: the ``blocked_frame`` when the caller has it. Only the candidates at or above the
    ``top``-th return are sorted (a partition finds that threshold), not every blocked signal.
    """
    frame = blocked_frame(enriched) if frame is None else frame
    x = frame["x"].to_numpy(dtype=np.float64)
    paid = np.flatnonzero(np.isfinite(x) & (x > 0))
    if paid.size > top > 0:
        threshold = np.partition(x[paid], paid.size - top)[paid.size - top]
        paid = paid[x[paid] >= threshold]  # ties at the threshold stay; the sort settles them by event_id
    best = frame.take(paid).sort_values(["x", "event_id"], ascending=[False, True], kind="stable").head(top)
    label = enriched.labels[enriched.eval_horizon_s]
    rows: list[dict[str, JsonValue]] = []
    for r in best.to_dict(orient="records"):  # at most `top` rows
        rows.append(
            {
                "event_id": str(r["event_id"]),
                "symbol": str(r["symbol"]),
                "direction": str(r["direction"]),
                "ts": int(r["ts"]),
                "blocked_by": str(r["blocked_by"]),
                "horizon": label,
                "would_be_return_bps": jsonable(float(r["x"]) * 1e4),
                "would_be_pnl": jsonable(float(r["pnl"])),
            }
        )
    return rows
