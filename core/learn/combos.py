"""Blocked combos: symbol+direction pairs that keep losing.

Statistic: per symbol+direction, trades closed in the lookback: count, win rate (pnl > 0), net
PnL, and the effective count of its trades: the number of chains of trades whose holding windows
overlap or that came in a burst (``attribution.trade_clusters``), each counting once. Its evidence
is the score test (``significance.proportion_test``) of its win rate over the effective count (wins
scaled alike) against the bot's pooled win rate, so fees every trade pays and bursts do not look
like a losing combo. (The score test uses
the variance under the pool's rate: a t on the 0/1 wins, whose variance shrinks with the win rate,
gave 3x the nominal false rate in the losing tail on simulated bots.)
Block when trades >= ``combo_min_trades``, win rate < ``combo_max_win_rate``, net PnL < 0, the 95%
Wilson upper bound of the win rate over the effective count < 0.5, and the combo's
evidence is below the pool and passes as a family over every combo tested this cycle
(Benjamini-Hochberg at ``COMBO_FDR``), unless the release rule below already holds for it.
Release a blocked combo when the signals it blocked (blocked_by "blocked_combo", same symbol and
direction, in the lookback) have >= ``combo_min_trades`` resolved counterfactual outcomes at the
evaluation horizon whose mean net of the median round-trip fee is above 0 with the same bar
(overlap-robust test over the signals' outcome windows, family over the blocked combos tested).
Between the two bars nothing moves: a blocked combo stays blocked until its blocked signals prove
it profitable, an open one stays open until its trades prove it losing (hysteresis).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.learn.attribution import trade_clusters
from core.learn.enrich import Enriched
from core.learn.frames import BLOCKED_COMBO, rfc3339_ms
from core.learn.groups import group_by
from core.learn.proposal import Change, make_stats
from core.learn.significance import (
    WILSON_Z,
    Evidence,
    benjamini_hochberg,
    effective_wins,
    mean_test,
    proportion_test,
    t_for_p,
    wilson,
)
from core.schemas.config import LearningConfig
from core.schemas.params import BlockedCombo

COMBO_FDR = 0.01  # false discovery rate of the combos tested in one cycle (blocks; releases alike)


def combo_key(symbol: str, direction: str) -> str:
    """The bracketed key of a combo path: ``BTCUSDT:long``."""
    return f"{symbol}:{direction}"


def combo_stats(enriched: Enriched) -> pd.DataFrame:
    """Per symbol+direction (sorted): trades, wins, win_rate, n_eff, wilson_low, wilson_high (over the
    effective count), pnl, and the evidence against the pooled win rate: diff (win rate - pool), t, p."""
    trades = enriched.trades
    groups = group_by(trades["symbol"], trades["direction"])
    n = groups.count().astype(np.float64)
    win = trades["win"].to_numpy(dtype=np.float64)
    wins = groups.sum(win)
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    pooled = float(win.mean()) if win.size else 0.0
    rows: list[dict[str, float]] = []
    for g in range(groups.size):
        member = groups.codes == g
        # Chains of overlapping trades (bursts included) count once each: conservative, and calibrated on
        # simulated bots; an overlap-variance count gave 3x the nominal false blocks (README).
        n_eff = float(np.unique(trade_clusters(trades[member])).size)
        eff = effective_wins(float(wins[g]), int(n[g]), n_eff)
        low, high = wilson(eff, n_eff)
        p = proportion_test(eff, n_eff, pooled) if 0.0 < pooled < 1.0 else 1.0
        side = -1.0 if wins[g] / max(n[g], 1.0) < pooled else 1.0
        z = side * t_for_p(p) if p < 1.0 else 0.0
        rows.append({"n_eff": n_eff, "wilson_low": low, "wilson_high": high, "diff": 0.0, "t": z, "p": p})
    extra = pd.DataFrame(rows, columns=["n_eff", "wilson_low", "wilson_high", "diff", "t", "p"])
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = wins / n
    return pd.DataFrame(
        {
            "symbol": pd.Series(groups.column(0), dtype=object),
            "direction": pd.Series(groups.column(1), dtype=object),
            "trades": n.astype(np.int64),
            "wins": wins.astype(np.int64),
            "win_rate": win_rate,
            "n_eff": extra["n_eff"].to_numpy(dtype=np.float64),
            "wilson_low": extra["wilson_low"].to_numpy(dtype=np.float64),
            "wilson_high": extra["wilson_high"].to_numpy(dtype=np.float64),
            "pnl": groups.sum(np.where(np.isnan(pnl), 0.0, pnl)),
            "pooled_win_rate": pooled,
            "t": extra["t"].to_numpy(dtype=np.float64),
            "p": extra["p"].to_numpy(dtype=np.float64),
        }
    )


def blocked_counterfactual(enriched: Enriched) -> dict[str, Evidence]:
    """Per blocked combo key: the evidence of the net counterfactual returns of signals blocked by
    "blocked_combo" (overlap-robust over each signal's outcome window at the evaluation horizon)."""
    sig = enriched.signals
    x = enriched.net_counterfactual()
    mask = (sig["blocked_by"].to_numpy(dtype=object) == BLOCKED_COMBO) & np.isfinite(x)
    groups = group_by(sig["symbol"].to_numpy(dtype=object)[mask], sig["direction"].to_numpy(dtype=object)[mask])
    ts = sig["ts"].to_numpy(dtype=np.int64)[mask]
    end = ts + enriched.eval_horizon_s * 1000
    xs = x[mask]
    out: dict[str, Evidence] = {}
    for g, (symbol, direction) in enumerate(groups.keys):
        member = groups.codes == g
        out[combo_key(symbol, direction)] = mean_test(xs[member], start_ms=ts[member], end_ms=end[member])
    return out


def one_sided(p: float, t: float, sign: int) -> float:
    """One-sided p-value in the direction ``sign`` (-1: losing, +1: paying) from a two-sided ``p`` and its t:
    a block only ever reacts to losing and a release to paying, so each test looks one way."""
    if not math.isfinite(p):
        return 1.0
    return p / 2.0 if t * sign > 0 else 1.0 - p / 2.0


def interval_bps(ev: Evidence) -> tuple[float, float]:
    """95% interval of the mean (bps); unbounded for a degenerate sample."""
    if not math.isfinite(ev.se):
        return -math.inf, math.inf
    return (ev.mean - WILSON_Z * ev.se) * 1e4, (ev.mean + WILSON_Z * ev.se) * 1e4


def learn_combos(
    enriched: Enriched, blocked: list[BlockedCombo], config: LearningConfig, now_ms: int
) -> tuple[list[Change], pd.DataFrame]:
    """Propose ``blocked_combos[SYMBOL:direction]`` additions (old None) and releases (new None).

    Out: the changes (releases first, then blocks, each sorted by key) and the per-combo stats frame.
    """
    stats = combo_stats(enriched)
    current = {combo_key(b.symbol, b.direction): b for b in blocked}
    label = enriched.labels[enriched.eval_horizon_s]
    cf = {k: ev for k, ev in blocked_counterfactual(enriched).items() if ev.n >= config.combo_min_trades}
    keys = sorted(cf)
    passed = benjamini_hochberg([one_sided(cf[k].p, cf[k].t, +1) if cf[k].usable else 1.0 for k in keys], COMBO_FDR)
    released = {k for k, ok in zip(keys, passed, strict=True) if ok and cf[k].mean > 0}
    changes: list[Change] = []
    for key in sorted(current):
        if key not in released:
            continue
        ev = cf[key]
        low, high = interval_bps(ev)
        reason = (
            f"{key}: the {ev.n} signals it blocked would have made {ev.mean * 1e4:+.1f} bps on average at {label} "
            f"after fees (t={ev.t:.1f}, 95% interval {low:+.1f} to {high:+.1f} bps, significant among "
            f"{len(keys)} blocked combo(s) tested): released"
        )
        numbers = make_stats(
            {
                "n": ev.n,
                "n_eff": ev.n_eff,
                "ev_bps": ev.mean * 1e4,
                "t": ev.t,
                "p": ev.p,
                "ev_low_bps": low,
                "ev_high_bps": high,
            }
        )
        changes.append(Change(f"blocked_combos[{key}]", current[key].model_dump(mode="json"), None, reason, numbers))
    tested = stats[(stats["trades"] >= config.combo_min_trades)].copy()
    tested_keys = [combo_key(str(s), str(d)) for s, d in zip(tested["symbol"], tested["direction"], strict=True)]
    tested = tested[np.array([k not in current for k in tested_keys], dtype=bool)]
    tested["family"] = benjamini_hochberg(
        [one_sided(float(p), float(t), -1) for p, t in zip(tested["p"], tested["t"], strict=True)], COMBO_FDR
    )
    candidates = tested[
        tested["family"]
        & (tested["t"] < 0)
        & (tested["win_rate"] < config.combo_max_win_rate)
        & (tested["pnl"] < 0)
        & (tested["wilson_high"] < 0.5)
    ]
    since = rfc3339_ms(now_ms)
    for row in candidates.to_dict(orient="records"):  # one row per symbol+direction group
        key = combo_key(str(row["symbol"]), str(row["direction"]))
        if key in released:
            continue
        reason = (
            f"{key}: {int(row['trades'])} trades ({float(row['n_eff']):.0f} effective, counting overlapping trades "
            f"and bursts once), win rate {float(row['win_rate']):.0%} against {float(row['pooled_win_rate']):.0%} "
            f"over all trades (z={float(row['t']):.1f}, "
            f"significant among {len(tested)} combos tested; 95% interval {float(row['wilson_low']):.0%}-"
            f"{float(row['wilson_high']):.0%}), net PnL {float(row['pnl']):+.2f}: blocked"
        )
        entry = BlockedCombo(
            symbol=str(row["symbol"]),
            direction="short" if row["direction"] == "short" else "long",
            since=since,
            reason=reason,
            trades=int(row["trades"]),
            win_rate=round(float(row["win_rate"]), 4),
            pnl=round(float(row["pnl"]), 2),
        )
        numbers = {
            "trades": int(row["trades"]),
            "n_eff": float(row["n_eff"]),
            "win_rate": float(row["win_rate"]),
            "pooled_win_rate": float(row["pooled_win_rate"]),
            "t": float(row["t"]),
            "p": float(row["p"]),
            "wilson_low": float(row["wilson_low"]),
            "wilson_high": float(row["wilson_high"]),
            "pnl": float(row["pnl"]),
        }
        changes.append(
            Change(f"blocked_combos[{key}]", None, entry.model_dump(mode="json"), reason, make_stats(numbers))
        )
    return changes, stats
