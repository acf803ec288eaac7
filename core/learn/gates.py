"""Conviction gate: the lowest conviction the bot should trade.

Statistic: with g the current ``min_conviction`` and the configured bucket edges,
- raise to the next edge above g when executed trades with conviction in [g, next edge) lose
  with significance: n >= ``combo_min_trades`` (the trade sample minimum) and the t of their mean
  return pnl / (entry_price * quantity) is <= -min_t;
- otherwise lower to the edge below g when signals blocked by "conviction_gate" with conviction
  in [edge below, g) would have paid: n >= ``min_outcomes`` resolved counterfactual outcomes at the
  evaluation horizon, net of the median round-trip fee, with t >= min_t (Newey-West when overlapping).
One bucket per cycle at most; the gate never rises above the lowest edge of the top bucket.
"""

from __future__ import annotations

import numpy as np

from core.learn.enrich import Enriched
from core.learn.frames import CONVICTION_GATE
from core.learn.guardrails import enough, significant
from core.learn.proposal import Change, make_stats
from core.learn.stats import plain_t, summarize

PATH = "gates.conviction.min_conviction"


def learn_conviction_gate(
    enriched: Enriched, gate: float, edges: list[float], min_trades: int, min_outcomes: int, min_t: float
) -> list[Change]:
    """Propose at most one change of ``gates.conviction.min_conviction`` (see the module rule)."""
    above = [e for e in edges if e > gate + 1e-12]
    below = [e for e in edges if e < gate - 1e-12]
    upper = above[0] if above else None
    if upper is not None and upper <= edges[-2] + 1e-12:
        trades = enriched.trades
        conv = trades["conv"].to_numpy(dtype=np.float64)
        ret = trades["ret"].to_numpy(dtype=np.float64)
        band = (conv >= gate) & (conv < upper) & np.isfinite(ret)
        r = ret[band]
        t = plain_t(r)
        if enough(r.size, min_trades) and significant(t, min_t) and t < 0:
            stats = make_stats(
                {"n": int(r.size), "ev_bps": float(r.mean()) * 1e4, "t": t, "win_rate": float((r > 0).mean())}
            )
            reason = (
                f"conviction gate: {r.size} trades with conviction {gate:.2f}-{upper:.2f} returned "
                f"{float(r.mean()) * 1e4:+.1f} bps on average (t={t:.1f}, win rate {float((r > 0).mean()):.0%}): "
                f"min_conviction {gate:.2f} -> {upper:.2f}"
            )
            return [Change(PATH, gate, upper, reason, stats)]
    if below:
        lower = below[-1]
        sig = enriched.signals
        conv = sig["conviction"].to_numpy(dtype=np.float64)
        x_all = enriched.net_counterfactual()
        band = (
            (sig["blocked_by"].to_numpy(dtype=object) == CONVICTION_GATE)
            & sig["blocked"].to_numpy(dtype=bool)
            & (conv >= lower)
            & (conv < gate)
            & np.isfinite(x_all)
        )
        ts = sig["ts"].to_numpy(dtype=np.int64)[band]
        s = summarize(x_all[band], ts, enriched.eval_horizon_s)
        if enough(s.n, min_outcomes) and significant(s.t, min_t) and s.t > 0:
            label = enriched.labels[enriched.eval_horizon_s]
            numbers = {"n": s.n, "ev_bps": s.mean * 1e4, "t": s.t, "hit_rate": s.hit_rate}
            stats = make_stats({**numbers, "horizon_s": enriched.eval_horizon_s})
            reason = (
                f"conviction gate: {s.n} signals it blocked (conviction {lower:.2f}-{gate:.2f}) would have made "
                f"{s.mean * 1e4:+.1f} bps at {label} after fees (t={s.t:.1f}, hit rate {s.hit_rate:.0%}): "
                f"min_conviction {gate:.2f} -> {lower:.2f}"
            )
            return [Change(PATH, gate, lower, reason, stats)]
    return []
