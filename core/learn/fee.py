"""Fee gate: the least expected edge (bps) worth paying fees for.

Statistic: with f the current ``min_expected_edge_bps``,
- raise when the executed trades whose linked signal expected an edge >= f, taken from the lowest
  quartile of those expected edges, lose net of fees, and lose more than the other trades expecting
  >= f with significance: n >= ``combo_min_trades``, mean net return < 0, and the overlap-robust test
  (``attribution.trade_test``) of (return - mean return of the
  trades expecting >= f) negative and significant: target = that quartile's upper edge. Trades on a
  combo blocked after this cycle's combo changes are left out (already explained);
- otherwise lower when signals blocked by "fee_gate", taken from the quartile of expected edges
  nearest f, would have paid net of the median round-trip fee at the evaluation horizon
  (n >= ``min_outcomes``, positive with significance, overlap-robust over their outcome windows):
  target = that quartile's lower edge.
The two tests are one family (``significance.family`` at ``min_t``); degenerate samples are no
evidence. The gate moves at most max(max_step * |f|, 2 bps) per cycle, rounded to 0.01 bps.
"""

from __future__ import annotations

import numpy as np

from core.learn.attribution import trade_test
from core.learn.enrich import Enriched
from core.learn.frames import FEE_GATE
from core.learn.guardrails import absolute_step, converged
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, family, mean_test

PATH = "gates.fee.min_expected_edge_bps"
MIN_STEP_BPS = 2.0


def _move(gate: float, target: float, max_step: float) -> float:
    return absolute_step(gate, target, max(max_step * abs(gate), MIN_STEP_BPS), digits=2)


def learn_fee_gate(
    enriched: Enriched, gate: float, min_trades: int, min_outcomes: int, min_t: float, max_step: float
) -> list[Change]:
    """Propose at most one change of ``gates.fee.min_expected_edge_bps`` (see the module rule)."""
    tests: list[tuple[str, Evidence, np.ndarray, float, float]] = []  # kind, evidence, sample, edge, new
    trades = enriched.trades
    edge = trades["edge_bps"].to_numpy(dtype=np.float64)
    ret = trades["ret"].to_numpy(dtype=np.float64)
    live = np.isfinite(edge) & np.isfinite(ret) & (edge >= gate)
    if int(live.sum()) >= min_trades:
        q = float(np.quantile(edge[live], 0.25))
        band = live & (edge <= q)
        r = ret[band]
        new = _move(gate, q, max_step)
        if r.size >= min_trades and new > gate and not converged(gate, q):
            ev = trade_test(r - float(ret[live].mean()), trades[band])
            tests.append(("raise", ev, r, q, new))
    sig = enriched.signals
    s_edge = sig["expected_edge_bps"].to_numpy(dtype=np.float64)
    x = enriched.net_counterfactual()
    blocked = (sig["blocked_by"].to_numpy() == FEE_GATE) & np.isfinite(s_edge) & (s_edge < gate) & np.isfinite(x)
    if int(blocked.sum()) >= min_outcomes:
        q = float(np.quantile(s_edge[blocked], 0.75))
        band = blocked & (s_edge >= q)
        new = _move(gate, q, max_step)
        if int(band.sum()) >= min_outcomes and new < gate and not converged(gate, q):
            ts = sig["ts"].to_numpy(dtype=np.int64)[band]
            ev = mean_test(x[band], start_ms=ts, end_ms=ts + enriched.eval_horizon_s * 1000)
            tests.append(("lower", ev, x[band], q, new))
    if not tests:
        return []
    passed = family([t[1] for t in tests], min_t)
    note = f", significant among {len(tests)} tests" if len(tests) > 1 else ""
    for (kind, ev, sample, q, new), ok in zip(tests, passed, strict=True):
        if not ok:
            continue
        mean = float(sample.mean())
        if kind == "raise" and ev.mean < 0 and mean < 0:
            stats = make_stats(
                {"n": int(sample.size), "n_eff": ev.n_eff, "ev_bps": mean * 1e4, "vs_pooled_bps": ev.mean * 1e4}
                | {"t": ev.t, "p": ev.p, "band_high_bps": q}
            )
            reason = (
                f"fee gate: {sample.size} trades expecting {gate:.1f}-{q:.1f} bps of edge returned "
                f"{mean * 1e4:+.1f} bps after fees, {ev.mean * 1e4:+.1f} bps against the trades expecting more "
                f"(t={ev.t:.1f} over {ev.n_eff:.0f} effective trades{note}): "
                f"min_expected_edge_bps {gate:.2f} -> {new:.2f}"
            )
            return [Change(PATH, gate, new, reason, stats)]
        if kind == "lower" and ev.mean > 0:
            label = enriched.labels[enriched.eval_horizon_s]
            hit = float((sample > 0).mean())
            stats = make_stats(
                {"n": ev.n, "n_eff": ev.n_eff, "ev_bps": ev.mean * 1e4, "t": ev.t, "p": ev.p, "hit_rate": hit}
                | {"band_low_bps": q}
            )
            reason = (
                f"fee gate: {ev.n} signals it blocked (expecting {q:.1f}-{gate:.1f} bps) would have made "
                f"{ev.mean * 1e4:+.1f} bps at {label} after fees (t={ev.t:.1f}{note}): "
                f"min_expected_edge_bps {gate:.2f} -> {new:.2f}"
            )
            return [Change(PATH, gate, new, reason, stats)]
    return []
