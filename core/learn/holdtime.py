"""Hold time: per strategy, how long to hold.

Statistic: per strategy, the executed signals in the lookback and their direction-aligned returns
at every configured horizon; among horizons with >= ``min_outcomes`` resolved outcomes, the one
with the best mean (EV) becomes ``target_s`` provided that EV is > 0; ``max_s`` is the next longer
configured horizon, or 2 x target for the longest. Strategies without such a horizon keep theirs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.enrich import Enriched
from core.learn.groups import group_by
from core.learn.proposal import Change, make_stats
from core.schemas.params import HoldPolicy, HoldTime


def strategy_horizon_stats(enriched: Enriched) -> pd.DataFrame:
    """Rows per (strategy, horizon_s), sorted: n, mean aligned return of executed signals."""
    sig = enriched.signals
    executed = ~sig["blocked"].to_numpy(dtype=bool)
    groups = group_by(sig["strategy"].to_numpy(dtype=object)[executed])
    names = groups.column(0)
    rows: list[pd.DataFrame] = []
    for h in enriched.horizons_s:
        aligned = enriched.aligned(h)[executed]
        resolved = np.isfinite(aligned)
        n = groups.count(resolved)
        with np.errstate(divide="ignore", invalid="ignore"):
            ev = groups.sum(aligned, resolved) / n
        rows.append(pd.DataFrame({"strategy": pd.Series(names, dtype=object), "horizon_s": h, "n": n, "ev": ev}))
    if not rows:
        return pd.DataFrame({"strategy": [], "horizon_s": [], "n": [], "ev": []})
    return pd.concat(rows, ignore_index=True).sort_values(["strategy", "horizon_s"], kind="stable")


def learn_hold_time(enriched: Enriched, current: HoldTime, min_outcomes: int) -> list[Change]:
    """Propose ``hold_time.by_strategy.<name>`` changes (see the module rule)."""
    stats = strategy_horizon_stats(enriched)
    horizons = list(enriched.horizons_s)
    eligible = stats[(stats["n"] >= min_outcomes) & (stats["ev"] > 0)]
    changes: list[Change] = []
    for name, group in eligible.groupby("strategy", sort=True):
        best = group.sort_values(["ev", "horizon_s"], ascending=[False, True], kind="stable").iloc[0]
        h = int(best["horizon_s"])
        later = [x for x in horizons if x > h]
        policy = HoldPolicy(target_s=h, max_s=later[0] if later else 2 * h)
        old = current.by_strategy.get(str(name))
        if old == policy:
            continue
        label = enriched.labels[h]
        reason = (
            f"hold time {name}: executed signals earn most at {label} ({float(best['ev']) * 1e4:+.1f} bps over "
            f"{int(best['n'])} outcomes): target {policy.target_s}s, max {policy.max_s}s"
        )
        stats_out = make_stats({"n": int(best["n"]), "ev_bps": float(best["ev"]) * 1e4, "horizon_s": h})
        changes.append(
            Change(
                f"hold_time.by_strategy.{name}",
                None if old is None else old.model_dump(mode="json"),
                policy.model_dump(mode="json"),
                reason,
                stats_out,
            )
        )
    return changes
