"""Conviction gate: the lowest conviction the bot should trade.

Statistic: with g the current ``min_conviction`` and the configured bucket edges,
- raise to the next edge above g when the executed trades with conviction in [g, next edge) that
  no earlier learner explains (``attribution``: not on a combo blocked after this cycle, not below
  the fee gate after it) lose, and lose more than the bot's other unexplained trades with
  significance: n >= ``combo_min_trades``, mean return pnl / (entry_price * quantity) < 0, and the
  overlap-robust test (``attribution.trade_test``) of (return - pooled mean of the unexplained
  trades) negative and significant.
  A band that only pays the fees every trade pays is no conviction effect;
- otherwise lower to the edge below g when signals blocked by "conviction_gate" with conviction
  in [edge below, g) would have paid: n >= ``min_outcomes`` resolved counterfactual outcomes at the
  evaluation horizon, net of the median round-trip fee, positive with significance (overlap-robust
  over the signals' outcome windows).
The two tests (raise, lower) are one family (``significance.family`` at ``min_t``); degenerate
samples (e.g. identical returns) are no evidence. One bucket per cycle at most; the gate never rises
above the lowest edge of the top bucket.
"""

from __future__ import annotations

import numpy as np

from core.learn.attribution import trade_test
from core.learn.enrich import Enriched
from core.learn.frames import CONVICTION_GATE
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, family, mean_test

PATH = "gates.conviction.min_conviction"


def _raise_evidence(enriched: Enriched, gate: float, upper: float) -> tuple[Evidence, np.ndarray] | None:
    trades = enriched.trades
    conv = trades["conv"].to_numpy(dtype=np.float64)
    ret = trades["ret"].to_numpy(dtype=np.float64)
    ok = np.isfinite(ret)
    if not ok.any():
        return None
    pooled = float(ret[ok].mean())
    band = (conv >= gate) & (conv < upper) & ok
    r = ret[band]
    return trade_test(r - pooled, trades[band]), r


def _lower_evidence(enriched: Enriched, lower: float, gate: float) -> tuple[Evidence, np.ndarray]:
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
    x = x_all[band]
    return mean_test(x, start_ms=ts, end_ms=ts + enriched.eval_horizon_s * 1000), x


def learn_conviction_gate(
    enriched: Enriched, gate: float, edges: list[float], min_trades: int, min_outcomes: int, min_t: float
) -> list[Change]:
    """Propose at most one change of ``gates.conviction.min_conviction`` (see the module rule).

    ``enriched.trades`` should already be the residual trades (``attribution.residual_trades``).
    """
    above = [e for e in edges if e > gate + 1e-12]
    below = [e for e in edges if e < gate - 1e-12]
    upper = above[0] if above else None
    tests: list[tuple[str, Evidence, np.ndarray]] = []
    if upper is not None and upper <= edges[-2] + 1e-12:
        found = _raise_evidence(enriched, gate, upper)
        if found is not None and found[1].size >= min_trades:
            tests.append(("raise", *found))
    if below:
        ev, x = _lower_evidence(enriched, below[-1], gate)
        if ev.n >= min_outcomes:
            tests.append(("lower", ev, x))
    if not tests:
        return []
    passed = family([ev for _, ev, _ in tests], min_t)
    family_note = f", significant among {len(tests)} tests" if len(tests) > 1 else ""
    for (kind, ev, x), ok in zip(tests, passed, strict=True):
        if not ok:
            continue
        if kind == "raise" and upper is not None and ev.mean < 0 and float(x.mean()) < 0:
            mean, win = float(x.mean()), float((x > 0).mean())
            stats = make_stats(
                {"n": int(x.size), "n_eff": ev.n_eff, "ev_bps": mean * 1e4, "vs_pooled_bps": ev.mean * 1e4}
                | {"t": ev.t, "p": ev.p, "win_rate": win}
            )
            reason = (
                f"conviction gate: {x.size} trades with conviction {gate:.2f}-{upper:.2f} returned "
                f"{mean * 1e4:+.1f} bps on average, {ev.mean * 1e4:+.1f} bps against the bot's other trades not "
                f"explained by a blocked combo or the fee gate (t={ev.t:.1f} over {ev.n_eff:.0f} effective "
                f"trades{family_note}, win rate {win:.0%}): min_conviction {gate:.2f} -> {upper:.2f}"
            )
            return [Change(PATH, gate, upper, reason, stats)]
        if kind == "lower" and ev.mean > 0:
            lower = below[-1]
            label = enriched.labels[enriched.eval_horizon_s]
            hit = float((x > 0).mean())
            numbers = {"n": ev.n, "n_eff": ev.n_eff, "ev_bps": ev.mean * 1e4, "t": ev.t, "p": ev.p, "hit_rate": hit}
            stats = make_stats({**numbers, "horizon_s": enriched.eval_horizon_s})
            reason = (
                f"conviction gate: {ev.n} signals it blocked (conviction {lower:.2f}-{gate:.2f}) would have made "
                f"{ev.mean * 1e4:+.1f} bps at {label} after fees (t={ev.t:.1f}{family_note}, hit rate {hit:.0%}): "
                f"min_conviction {gate:.2f} -> {lower:.2f}"
            )
            return [Change(PATH, gate, lower, reason, stats)]
    return []
