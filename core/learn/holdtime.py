"""Hold time: per strategy, how long to hold.

Statistic: per strategy, its executed signals in the lookback and their direction-aligned returns at
every configured horizon. The current target is the configured horizon nearest the strategy's
``target_s`` (else the default's). Every other horizon h is compared with it on the same signals
(those resolved at both): a paired test (``significance.paired_test``) of aligned(h) - aligned(current),
overlap-robust over each signal's window [ts, ts + max(h, current)], with >= ``min_outcomes`` pairs.
A strategy's alternatives are one family (``significance.family`` at ``min_t``, Holm). The target
moves to the passing alternative with the largest gain, provided the gain is positive and that
horizon's own EV is > 0; ``max_s`` is the next longer configured horizon, or 2 x target for the
longest. Otherwise the strategy keeps its hold policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.enrich import Enriched, nearest_horizon
from core.learn.groups import group_by
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, family, paired_test
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


def _alternatives(
    enriched: Enriched, rows: np.ndarray, base: int, min_outcomes: int
) -> list[tuple[int, Evidence, float]]:
    """(horizon, paired evidence against ``base``, EV at that horizon) for every other horizon with enough pairs."""
    ts = enriched.signals["ts"].to_numpy(dtype=np.int64)[rows]
    at_base = enriched.aligned(base)[rows]
    out: list[tuple[int, Evidence, float]] = []
    for h in enriched.horizons_s:
        if h == base:
            continue
        at_h = enriched.aligned(h)[rows]
        both = np.isfinite(at_h) & np.isfinite(at_base)
        if int(both.sum()) < min_outcomes:
            continue
        end = ts[both] + max(h, base) * 1000
        ev = paired_test(at_h[both], at_base[both], start_ms=ts[both], end_ms=end)
        out.append((h, ev, float(at_h[both].mean())))
    return out


def learn_hold_time(enriched: Enriched, current: HoldTime, min_outcomes: int, min_t: float = 3.0) -> list[Change]:
    """Propose ``hold_time.by_strategy.<name>`` changes (see the module rule)."""
    sig = enriched.signals
    executed = ~sig["blocked"].to_numpy(dtype=bool)
    strategy = sig["strategy"].to_numpy(dtype=object)
    horizons = list(enriched.horizons_s)
    if not horizons:
        return []
    changes: list[Change] = []
    names = sorted({str(s) for s in strategy[executed] if s is not None and s == s})
    for name in names:
        rows = np.flatnonzero(executed & (strategy == name))
        old = current.by_strategy.get(name)
        base = nearest_horizon(horizons, (old or current.default).target_s)
        alts = _alternatives(enriched, rows, base, min_outcomes)
        if not alts:
            continue
        passed = family([ev for _, ev, _ in alts], min_t)
        winners = [(h, ev, m) for (h, ev, m), ok in zip(alts, passed, strict=True) if ok and ev.mean > 0 and m > 0]
        if not winners:
            continue
        h, ev, ev_h = max(winners, key=lambda w: (w[1].mean, -w[0]))
        later = [x for x in horizons if x > h]
        policy = HoldPolicy(target_s=h, max_s=later[0] if later else 2 * h)
        if old == policy:
            continue
        label, base_label = enriched.labels[h], enriched.labels[base]
        reason = (
            f"hold time {name}: executed signals earn {ev.mean * 1e4:+.1f} bps more at {label} than at {base_label} "
            f"({ev_h * 1e4:+.1f} bps over {ev.n} outcomes; paired t={ev.t:.1f}, significant among {len(alts)} "
            f"alternative horizons): target {policy.target_s}s, max {policy.max_s}s"
        )
        stats_out = make_stats(
            {"n": ev.n, "n_eff": ev.n_eff, "ev_bps": ev_h * 1e4, "gain_bps": ev.mean * 1e4, "t": ev.t, "p": ev.p}
            | {"horizon_s": h, "compared_to_s": base}
        )
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
