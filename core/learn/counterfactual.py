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
    overall = float(trades["notional"].median())
    per_symbol = trades.groupby("symbol", sort=True)["notional"].median()
    at = pd.Index(per_symbol.index.astype(object)).get_indexer(symbols)
    values = per_symbol.to_numpy(dtype=np.float64)
    mapped = np.where(at >= 0, values[np.maximum(at, 0)] if values.size else np.nan, np.nan)
    return np.where(np.isfinite(mapped), mapped, overall)


def _blocked_frame(enriched: Enriched) -> pd.DataFrame:
    sig = enriched.signals
    blocked = np.flatnonzero(sig["decision"].to_numpy(dtype=object) == "blocked")
    x = enriched.net_counterfactual()[blocked]
    notional = typical_notional(enriched, blocked)
    frame = sig[["event_id", "symbol", "direction", "ts", "blocked_by"]].take(blocked).reset_index(drop=True)
    frame["blocked_by"] = frame["blocked_by"].fillna("unknown").astype(str)
    frame["x"] = x
    frame["pnl"] = x * notional
    return frame


def gates_report(enriched: Enriched) -> list[dict[str, JsonValue]]:
    """Per gate (sorted): blocked, resolved, ev_bps, hit_rate, saved_pnl, missed_pnl, net_pnl, horizon.

    net_pnl = missed - saved: > 0 means the gate cost money over the lookback.
    """
    frame = _blocked_frame(enriched)
    label = enriched.labels[enriched.eval_horizon_s]
    rows: list[dict[str, JsonValue]] = []
    has_notional = not enriched.trades.empty
    for gate, g in frame.groupby("blocked_by", sort=True):
        x = g["x"].to_numpy(dtype=np.float64)
        pnl = g["pnl"].to_numpy(dtype=np.float64)
        ok = np.isfinite(x)
        saved = float(-pnl[ok & (x < 0)].sum()) if has_notional else None
        missed = float(pnl[ok & (x > 0)].sum()) if has_notional else None
        row = {
            "gate": str(gate),
            "blocked": len(g),
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


def missed_report(enriched: Enriched, top: int = TOP_MISSED) -> list[dict[str, JsonValue]]:
    """The ``top`` blocked signals that would have paid most (would-be return desc, then event_id)."""
    frame = _blocked_frame(enriched)
    frame = frame[np.isfinite(frame["x"]) & (frame["x"] > 0)]
    frame = frame.sort_values(["x", "event_id"], ascending=[False, True], kind="stable").head(top)
    label = enriched.labels[enriched.eval_horizon_s]
    rows: list[dict[str, JsonValue]] = []
    for r in frame.to_dict(orient="records"):  # at most `top` rows
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
