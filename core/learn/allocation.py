"""Allocation (profit-first governor): capital fractions per strategy and per symbol.

Statistic: per group (strategy, or symbol) the trades closed in the lookback that no earlier learner
explains (``attribution``), returns r = pnl / (entry_price * quantity). Evidence per group: the
overlap-robust test (``attribution.trade_test``) of
(r - pooled mean of all those trades); every strategy and every symbol is one family
(``significance.family`` at ``min_t``, Holm). Only groups that pass tilt: a group's mean is shrunk
toward the pooled mean by the positive-part factor max(0, 1 - (min_t / t)^2), which is 0 without
evidence and nears 1 as the evidence grows; every other group keeps the pooled mean. Score =
max(shrunk mean, 0) / sd(r) * n / (n + k), k = ``combo_min_trades``.
Target fraction = floor + (1 - G * floor) * score / sum(score) (equal split when no group scores
above 0), floor = min(5%, 1 / (2G)) for exploration. A dict with no passing group does not tilt:
its fractions stay, and once no group of it has passed for ``evidence_ttl`` of event time they move
back toward equal. Fractions move toward the target by one common factor chosen so no fraction
changes more than ``max_step`` relative; each dict is rounded to 1e-6 and sums to 1 (the largest
fraction absorbs the rounding residual). A group that was not in the document enters at the floor;
groups are never dropped. Needs >= ``combo_min_trades`` trades with that key in the lookback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.learn.attribution import trade_test
from core.learn.enrich import Enriched
from core.learn.frames import rfc3339_ms
from core.learn.guardrails import CONVERGED_ABSOLUTE, allocation_step, exploration_floor, normalise
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, evidence_stale, family
from core.schemas.params import Allocation


@dataclass(frozen=True)
class GroupStat:
    """One strategy's or symbol's trades: count, mean return, sd, and its evidence against the pool."""

    n: int
    mean: float
    sd: float
    evidence: Evidence


def group_scores(trades: pd.DataFrame, column: str) -> tuple[dict[str, GroupStat], float]:
    """Per group of ``column`` (sorted): a ``GroupStat``; and the pooled mean return."""
    ok = trades[column].notna().to_numpy() & np.isfinite(trades["ret"].to_numpy(dtype=np.float64))
    frame = trades.loc[ok].reset_index(drop=True)
    keys = frame[column].astype(str).to_numpy(dtype=object)
    ret = frame["ret"].to_numpy(dtype=np.float64)
    pooled = float(ret.mean()) if ret.size else 0.0
    out: dict[str, GroupStat] = {}
    for name in sorted(set(keys.tolist())):
        member = keys == name
        r = ret[member]
        sd = float(r.std(ddof=1)) if r.size > 1 else 0.0
        out[str(name)] = GroupStat(int(r.size), float(r.mean()), sd, trade_test(r - pooled, frame[member]))
    return out, pooled


def _shrink_factor(ev: Evidence, passed: bool, min_t: float) -> float:
    if not passed or ev.t == 0.0:
        return 0.0
    return max(0.0, 1.0 - (min_t / ev.t) ** 2)


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


def learn_allocation(
    enriched: Enriched,
    current: Allocation,
    min_trades: int,
    max_step: float,
    min_t: float = 3.0,
    *,
    evidence: Mapping[str, int] | None = None,
    evidence_ttl_ms: int | None = None,
) -> tuple[list[Change], dict[str, int]]:
    """Propose ``allocation.strategies.<name>`` and ``allocation.symbols.<name>`` changes (see module rule).

    ``evidence``: the clocks the previous cycle left (``allocation.strategies`` / ``allocation.symbols``
    -> event time, ms, of the last passing evidence). Out: the changes and the clocks to carry on.
    """
    now = enriched.now_ms
    prior = dict(evidence or {})
    clocks: dict[str, int] = {}
    changes: list[Change] = []
    tables = {
        label: group_scores(enriched.trades, column)
        for label, column in (("strategies", "strategy"), ("symbols", "symbol"))
    }
    members = [(label, name) for label, (t, _) in tables.items() for name, g in t.items() if g.n >= min_trades]
    passed_list = family([tables[label][0][name].evidence for label, name in members], min_t)
    passed = {m for m, ok in zip(members, passed_list, strict=True) if ok}
    for label, fractions in (("strategies", current.strategies), ("symbols", current.symbols)):
        table, pooled = tables[label]
        path = f"allocation.{label}"
        if sum(g.n for g in table.values()) < min_trades:
            continue
        names = sorted(set(fractions) | set(table))
        start = _entered(fractions, names)
        tilted = any((label, n) in passed for n in names)
        equal = {n: 1.0 / len(names) for n in names}
        scores: dict[str, float] = {}
        for name, g in table.items():
            mean = pooled + (g.mean - pooled) * _shrink_factor(g.evidence, (label, name) in passed, min_t)
            scores[name] = max(mean, 0.0) / g.sd * g.n / (g.n + min_trades) if g.sd > 0 else 0.0
        target = _targets(names, scores)
        expired = False
        if tilted:
            clocks[path] = now
        elif any(abs(start[n] - equal[n]) >= CONVERGED_ABSOLUTE for n in names):
            since = prior.get(path, now)
            clocks[path] = since
            expired = evidence_ttl_ms is not None and evidence_stale(since, now, evidence_ttl_ms)
            target = equal
        if (tilted or expired) and not all(abs(target[n] - start[n]) < CONVERGED_ABSOLUTE for n in names):
            new = allocation_step(start, target, max_step)
        else:
            new = start
        for name in names:
            old = fractions.get(name)
            if old is not None and abs(new[name] - old) < 1e-9:
                continue
            lead = _lead(table, {n for lab, n in passed if lab == label})
            changes.append(
                _change(label, name, old, new[name], target[name], table, passed, expired, clocks.get(path), lead)
            )
    return changes, clocks


def _change(
    label: str,
    name: str,
    old: float | None,
    new: float,
    target: float,
    table: dict[str, GroupStat],
    passed: set[tuple[str, str]],
    expired: bool,
    since: int | None,
    lead: str | None,
) -> Change:
    entering = "enters" if old is None else f"{old:.1%} ->"
    numbers: dict[str, object] = {"n": 0}
    n, mean_bps, vs_pool, t = 0, 0.0, 0.0, 0.0
    if name in table:
        g = table[name]
        n, mean_bps, vs_pool, t = g.n, g.mean * 1e4, g.evidence.mean * 1e4, g.evidence.t
        numbers = {"n": n, "ev_bps": mean_bps, "vs_pooled_bps": vs_pool, "t": t, "p": g.evidence.p}
    numbers["target"] = target
    numbers["significant"] = (label, name) in passed
    numbers["moved_by"] = None if lead is None else f"allocation.{label}.{lead}"
    if expired and since is not None:
        why = f"no {label[:-1]} has differed significantly from the pool since {rfc3339_ms(since)} (evidence_ttl)"
        reason = f"allocation {label} {name}: {why}: {entering} {new:.1%}, back toward equal"
    elif (label, name) in passed:
        reason = (
            f"allocation {label} {name}: {n} trades, {mean_bps:+.1f} bps per trade, {vs_pool:+.1f} bps against the "
            f"pool (t={t:.1f}, significant among the strategies and symbols): "
            f"{entering} {new:.1%} (target {target:.1%})"
        )
    elif old is None:
        reason = f"allocation {label} {name}: new, {n} trades so far: enters at {new:.1%}"
    else:
        reason = (
            f"allocation {label} {name}: {n} trades, {mean_bps:+.1f} bps per trade, not significantly different "
            f"from the pool; moves because {lead} does (t={table[lead].evidence.t:.1f}): {entering} {new:.1%} "
            f"(target {target:.1%})"
            if lead is not None
            else f"allocation {label} {name}: {entering} {new:.1%}, making room for a newcomer"
        )
    return Change(f"allocation.{label}.{name}", old, new, reason, make_stats(numbers))


def _lead(table: dict[str, GroupStat], passed: set[str]) -> str | None:
    """The passing group with the strongest evidence: the one whose evidence moves the others."""
    if not passed:
        return None
    return max(sorted(passed), key=lambda n: abs(table[n].evidence.t))


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
