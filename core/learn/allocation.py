"""Allocation (profit-first governor): capital fractions per strategy and per symbol.

Statistic: per group (strategy, or symbol) the trades closed in the lookback give a Sharpe-like
score s = mean(r) / sd(r) of trade returns r = pnl / (entry_price * quantity), shrunk toward 0 by
n / (n + k) with k = ``combo_min_trades``; losing or unproven groups score 0.
Target fraction = floor + (1 - G * floor) * max(s, 0) / sum(max(s, 0)) (equal split when no group
scores above 0), floor = min(5%, 1 / (2G)) for exploration. The fractions move toward the target
by one common factor chosen so no fraction changes more than ``max_step`` relative; each dict is
rounded to 1e-6 and sums to 1 (the largest fraction absorbs the rounding residual).
A group that was not in the document enters at the floor; groups are never dropped.
Needs >= ``combo_min_trades`` trades with that key in the lookback, else the dict stays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.enrich import Enriched
from core.learn.guardrails import CONVERGED_ABSOLUTE, allocation_step, exploration_floor, normalise
from core.learn.proposal import Change, make_stats
from core.schemas.params import Allocation


def group_scores(trades: pd.DataFrame, column: str, shrink: int) -> pd.DataFrame:
    """Per group of ``column`` (sorted): n, mean return, sd, shrunk Sharpe-like score."""
    frame = trades.loc[trades[column].notna() & np.isfinite(trades["ret"]), [column, "ret"]]
    g = frame.groupby(frame[column].astype(str), sort=True)["ret"].agg(["size", "mean", "std"])
    g = g.rename(columns={"size": "n", "std": "sd"})
    sd = g["sd"].fillna(0.0).to_numpy(dtype=np.float64)
    n = g["n"].to_numpy(dtype=np.float64)
    sharpe = np.where(sd > 0, g["mean"].to_numpy(dtype=np.float64) / np.where(sd > 0, sd, 1.0), 0.0)
    g["score"] = sharpe * n / (n + shrink)
    return pd.DataFrame(g)


def _targets(names: list[str], scores: dict[str, float]) -> dict[str, float]:
    floor = exploration_floor(len(names))
    positive = {n: max(scores.get(n, 0.0), 0.0) for n in names}
    total = sum(positive.values())
    if total <= 0.0:
        return {n: 1.0 / len(names) for n in names}
    return {n: floor + (1.0 - len(names) * floor) * positive[n] / total for n in names}


def _entered(current: dict[str, float], names: list[str]) -> dict[str, float]:
    """Current fractions over ``names``: newcomers enter at the floor, the others scale to make room."""
    if not current:
        return {n: 1.0 / len(names) for n in names}
    floor = exploration_floor(len(names))
    new = [n for n in names if n not in current]
    room = 1.0 - floor * len(new)
    total = sum(current.values())
    base = {n: (current[n] / total) * room if total > 0 else room / len(current) for n in current}
    return normalise({**base, **{n: floor for n in new}})


def learn_allocation(enriched: Enriched, current: Allocation, min_trades: int, max_step: float) -> list[Change]:
    """Propose ``allocation.strategies.<name>`` and ``allocation.symbols.<name>`` changes (see module rule)."""
    changes: list[Change] = []
    for label, column, fractions in (
        ("strategies", "strategy", current.strategies),
        ("symbols", "symbol", current.symbols),
    ):
        scores = group_scores(enriched.trades, column, min_trades)
        if int(scores["n"].sum()) < min_trades:
            continue
        names = sorted(set(fractions) | {str(n) for n in scores.index})
        table: dict[str, dict[str, float]] = {
            str(k): {"n": float(v["n"]), "mean": float(v["mean"]), "score": float(v["score"])}
            for k, v in scores.to_dict(orient="index").items()
        }
        start = _entered(fractions, names)
        target = _targets(names, {str(k): float(v) for k, v in scores["score"].items()})
        if all(abs(target[n] - start[n]) < CONVERGED_ABSOLUTE for n in names):
            new = start
        else:
            new = allocation_step(start, target, max_step)
        for name in names:
            old = fractions.get(name)
            if old is not None and abs(new[name] - old) < 1e-9:
                continue
            row = table.get(name, {"n": 0, "mean": 0.0, "score": 0.0})
            n = int(row["n"])
            mean_bps = float(row["mean"]) * 1e4
            score = float(row["score"])
            entering = "enters" if old is None else f"{old:.1%} ->"
            reason = (
                f"allocation {label} {name}: {n} trades, {mean_bps:+.1f} bps per trade, risk-adjusted score "
                f"{score:.2f}: {entering} {new[name]:.1%} (target {target[name]:.1%})"
            )
            stats = make_stats({"n": n, "ev_bps": mean_bps, "score": score, "target": target[name]})
            changes.append(Change(f"allocation.{label}.{name}", old, new[name], reason, stats))
    return changes


def allocation_after(current: Allocation, changes: list[Change]) -> Allocation:
    """The allocation with ``changes`` applied (the learner already made each dict sum to 1)."""
    strategies = dict(current.strategies)
    symbols = dict(current.symbols)
    for c in changes:
        _, label, name = c.path.split(".", 2)
        target = strategies if label == "strategies" else symbols
        if isinstance(c.new, int | float):
            target[name] = float(c.new)
    return Allocation(strategies=dict(sorted(strategies.items())), symbols=dict(sorted(symbols.items())))
