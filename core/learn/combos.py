"""Blocked combos: symbol+direction pairs that keep losing.

Statistic: per symbol+direction, trades closed in the lookback: count, win rate (pnl > 0), net
PnL, and the 95% Wilson score interval of the win rate.
Block when trades >= ``combo_min_trades``, win rate < ``combo_max_win_rate``, net PnL < 0 and
the Wilson upper bound < 0.5, unless the release rule below already holds for it.
Release a blocked combo when the signals it blocked (blocked_by "blocked_combo", same symbol and
direction, in the lookback) have >= ``combo_min_trades`` resolved counterfactual outcomes at the
evaluation horizon whose mean return net of the median round-trip fee is > 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.enrich import Enriched
from core.learn.frames import BLOCKED_COMBO, rfc3339_ms
from core.learn.groups import group_by
from core.learn.proposal import Change, make_stats
from core.learn.stats import wilson_interval
from core.schemas.config import LearningConfig
from core.schemas.params import BlockedCombo


def combo_key(symbol: str, direction: str) -> str:
    """The bracketed key of a combo path: ``BTCUSDT:long``."""
    return f"{symbol}:{direction}"


def combo_stats(enriched: Enriched) -> pd.DataFrame:
    """Per symbol+direction (sorted): trades, wins, win_rate, wilson_low, wilson_high, pnl."""
    trades = enriched.trades
    groups = group_by(trades["symbol"], trades["direction"])
    n = groups.count().astype(np.float64)
    wins = groups.sum(trades["win"].to_numpy(dtype=np.float64))
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    low, high = wilson_interval(wins, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = wins / n
    return pd.DataFrame(
        {
            "symbol": pd.Series(groups.column(0), dtype=object),
            "direction": pd.Series(groups.column(1), dtype=object),
            "trades": n.astype(np.int64),
            "wins": wins.astype(np.int64),
            "win_rate": win_rate,
            "wilson_low": low,
            "wilson_high": high,
            "pnl": groups.sum(np.where(np.isnan(pnl), 0.0, pnl)),
        }
    )


def blocked_counterfactual(enriched: Enriched) -> pd.DataFrame:
    """Per symbol+direction: n and mean net counterfactual return of signals blocked by "blocked_combo"."""
    sig = enriched.signals
    x = enriched.net_counterfactual()
    mask = (sig["blocked_by"].to_numpy(dtype=object) == BLOCKED_COMBO) & np.isfinite(x)
    groups = group_by(sig["symbol"].to_numpy(dtype=object)[mask], sig["direction"].to_numpy(dtype=object)[mask])
    n = groups.count()
    return pd.DataFrame(
        {
            "symbol": pd.Series(groups.column(0), dtype=object),
            "direction": pd.Series(groups.column(1), dtype=object),
            "n": n,
            "mean": groups.sum(x[mask]) / np.maximum(n, 1),
        }
    )


def learn_combos(
    enriched: Enriched, blocked: list[BlockedCombo], config: LearningConfig, now_ms: int
) -> tuple[list[Change], pd.DataFrame]:
    """Propose ``blocked_combos[SYMBOL:direction]`` additions (old None) and releases (new None).

    Out: the changes (releases first, then blocks, each sorted by key) and the per-combo stats frame.
    """
    stats = combo_stats(enriched)
    cf = blocked_counterfactual(enriched)
    label = enriched.labels[enriched.eval_horizon_s]
    released: dict[str, tuple[int, float]] = {}
    for row in cf.to_dict(orient="records"):  # one row per symbol+direction group
        if int(row["n"]) >= config.combo_min_trades and float(row["mean"]) > 0:
            released[combo_key(str(row["symbol"]), str(row["direction"]))] = (int(row["n"]), float(row["mean"]))
    current = {combo_key(b.symbol, b.direction): b for b in blocked}
    changes: list[Change] = []
    for key in sorted(current):
        if key in released:
            n, mean = released[key]
            reason = (
                f"{key}: the {n} signals it blocked would have made {mean * 1e4:+.1f} bps on average at {label} "
                f"after fees: released"
            )
            old = current[key].model_dump(mode="json")
            numbers = make_stats({"n": n, "ev_bps": mean * 1e4})
            changes.append(Change(f"blocked_combos[{key}]", old, None, reason, numbers))
    candidates = stats[
        (stats["trades"] >= config.combo_min_trades)
        & (stats["win_rate"] < config.combo_max_win_rate)
        & (stats["pnl"] < 0)
        & (stats["wilson_high"] < 0.5)
    ]
    since = rfc3339_ms(now_ms)
    for row in candidates.to_dict(orient="records"):  # one row per symbol+direction group
        key = combo_key(str(row["symbol"]), str(row["direction"]))
        if key in current or key in released:
            continue
        reason = (
            f"{key}: {int(row['trades'])} trades, win rate {float(row['win_rate']):.0%} "
            f"(95% interval {float(row['wilson_low']):.0%}-{float(row['wilson_high']):.0%}), "
            f"net PnL {float(row['pnl']):+.2f}: blocked"
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
            "win_rate": float(row["win_rate"]),
            "wilson_low": float(row["wilson_low"]),
            "wilson_high": float(row["wilson_high"]),
            "pnl": float(row["pnl"]),
        }
        new = entry.model_dump(mode="json")
        changes.append(Change(f"blocked_combos[{key}]", None, new, reason, make_stats(numbers)))
    return changes, stats
