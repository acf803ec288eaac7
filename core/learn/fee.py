"""Fee gate: the least expected edge (bps) worth paying fees for.

Statistic: with f the current ``min_expected_edge_bps``,
- raise when executed trades whose linked signal expected an edge >= f, taken from the lowest
  quartile of those expected edges, lost net of fees with significance (n >= ``combo_min_trades``,
  t of the mean net return <= -min_t): target = that quartile's upper edge;
- otherwise lower when signals blocked by "fee_gate", taken from the quartile of expected edges
  nearest f, would have paid net of the median round-trip fee at the evaluation horizon
  (n >= ``min_outcomes``, t >= min_t): target = that quartile's lower edge.
The gate moves at most max(max_step * |f|, 2 bps) per cycle and is rounded to 0.01 bps.
"""

from __future__ import annotations

import numpy as np

from core.learn.enrich import Enriched
from core.learn.frames import FEE_GATE
from core.learn.guardrails import absolute_step, converged, enough, significant
from core.learn.proposal import Change, make_stats
from core.learn.stats import plain_t, summarize

PATH = "gates.fee.min_expected_edge_bps"
MIN_STEP_BPS = 2.0


def _move(gate: float, target: float, max_step: float) -> float:
    return absolute_step(gate, target, max(max_step * abs(gate), MIN_STEP_BPS), digits=2)


def learn_fee_gate(
    enriched: Enriched, gate: float, min_trades: int, min_outcomes: int, min_t: float, max_step: float
) -> list[Change]:
    """Propose at most one change of ``gates.fee.min_expected_edge_bps`` (see the module rule)."""
    trades = enriched.trades
    edge = trades["edge_bps"].to_numpy(dtype=np.float64)
    ret = trades["ret"].to_numpy(dtype=np.float64)
    live = np.isfinite(edge) & np.isfinite(ret) & (edge >= gate)
    if enough(int(live.sum()), min_trades):
        q = float(np.quantile(edge[live], 0.25))
        band = live & (edge <= q)
        r = ret[band]
        t = plain_t(r)
        new = _move(gate, q, max_step)
        if enough(r.size, min_trades) and significant(t, min_t) and t < 0 and new > gate and not converged(gate, q):
            stats = make_stats({"n": int(r.size), "ev_bps": float(r.mean()) * 1e4, "t": t, "band_high_bps": q})
            reason = (
                f"fee gate: {r.size} trades expecting {gate:.1f}-{q:.1f} bps of edge returned "
                f"{float(r.mean()) * 1e4:+.1f} bps after fees (t={t:.1f}): "
                f"min_expected_edge_bps {gate:.2f} -> {new:.2f}"
            )
            return [Change(PATH, gate, new, reason, stats)]
    sig = enriched.signals
    s_edge = sig["expected_edge_bps"].to_numpy(dtype=np.float64)
    x = enriched.net_counterfactual()
    blocked = (sig["blocked_by"].to_numpy() == FEE_GATE) & np.isfinite(s_edge) & (s_edge < gate) & np.isfinite(x)
    if not enough(int(blocked.sum()), min_outcomes):
        return []
    q = float(np.quantile(s_edge[blocked], 0.75))
    band = blocked & (s_edge >= q)
    s = summarize(x[band], sig["ts"].to_numpy(dtype=np.int64)[band], enriched.eval_horizon_s)
    new = _move(gate, q, max_step)
    if enough(s.n, min_outcomes) and significant(s.t, min_t) and s.t > 0 and new < gate and not converged(gate, q):
        label = enriched.labels[enriched.eval_horizon_s]
        stats = make_stats({"n": s.n, "ev_bps": s.mean * 1e4, "t": s.t, "hit_rate": s.hit_rate, "band_low_bps": q})
        reason = (
            f"fee gate: {s.n} signals it blocked (expecting {q:.1f}-{gate:.1f} bps) would have made "
            f"{s.mean * 1e4:+.1f} bps at {label} after fees (t={s.t:.1f}): "
            f"min_expected_edge_bps {gate:.2f} -> {new:.2f}"
        )
        return [Change(PATH, gate, new, reason, stats)]
    return []
