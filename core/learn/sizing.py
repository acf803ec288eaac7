"""Sizing: a position-size multiplier per conviction bucket from realized expectancy.

Statistic: trades in the lookback are placed in a bucket by their conviction (the trade's own,
else its linked signal's); per bucket, expectancy mu = mean of pnl / (entry_price * quantity).
Buckets with >= ``combo_min_trades`` trades are eligible (at least two are needed). Target:
  m_i = clip(max(mu_i, 0) / mbar, 0.25, 3),  mbar = trade-weighted mean of max(mu, 0) over eligible
buckets, so the average trade keeps size 1 and a bucket's target rises with its expectancy.
Sizing moves only when some eligible bucket's mean differs from the pooled mean with significance:
per bucket the overlap-robust test (``attribution.trade_test``)
of (return - pooled mean), the eligible buckets controlled as one family (``significance.family`` at
``min_t``); degenerate samples are no evidence. When the family passes, every eligible bucket moves
(a bucket that is not significant itself says so and names the bucket whose evidence moved it).
Without such evidence for ``evidence_ttl`` of event time, a multiplier steps back toward 1 by at most
``max_step`` per cycle (``significance.expire_toward``). The trades are the residual ones
(``attribution``): those a blocked combo or the fee gate explain are left out. (Trades below the
conviction gate stay: their bucket keeps its place in the expectancy order.)
Step: eligible buckets move toward their targets by one common fraction (in log space) of the way,
the largest that keeps every relative step within ``max_step``; a bucket within 0.5% of its target
stays unless it is out of order.
Order: a pair of eligible buckets with mu_low < mu_high is inverted when m_low > m_high, by
log(m_low / m_high). A proposal never creates or widens an inversion and strictly shrinks every
one. While some pair is inverted the fraction is raised, each move still capped at ``max_step``, as
far as that closes every inverted pair faster: two buckets moving toward each other at the cap
close a ratio r in ceil(log r / log((1 + s) / (1 - s))) cycles (s = max_step), and from multipliers
inside [0.25, 3] order is back once the buckets reach their targets, within
ceil(log 12 / log(1 + s)) + 1 cycles; then it holds.
These rules hold exactly on the 1e-6 grid (rounding is undone by the smallest grid moves). If the
caps leave no grid values that shrink every inverted pair, inverted pairs are only kept from
widening that cycle; if even that is impossible, sizing proposes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction

import numpy as np

from core.learn.attribution import trade_test
from core.learn.enrich import Enriched
from core.learn.frames import rfc3339_ms
from core.learn.guardrails import DIGITS, MULTIPLIER_BOUNDS, converged
from core.learn.proposal import Change, make_stats
from core.learn.significance import Evidence, expire_toward, family
from core.schemas.params import SizingBucket

GRID: int = 10**DIGITS
SLACK = Fraction(1, 10**10)  # well inside the 1e-9 that guardrails.check_sections allows
Pair = tuple[int, int]  # (lower-expectancy bucket, higher-expectancy bucket)


def bucket_of(conv: np.ndarray, buckets: list[SizingBucket]) -> np.ndarray:
    """Index of the bucket holding each conviction (upper edge inclusive for the last), -1 if none."""
    out = np.full(conv.shape, -1, dtype=np.int64)
    for i, b in enumerate(buckets):
        last = i == len(buckets) - 1
        inside = (conv >= b.min_conviction) & ((conv <= b.max_conviction) if last else (conv < b.max_conviction))
        out[inside & (out < 0)] = i
    return out


def grid_value(k: int) -> float:
    """The multiplier a proposal writes for grid index ``k`` (k * 1e-6)."""
    return k / GRID


def step_box(current: float, max_step: float) -> tuple[int, int] | None:
    """Grid indices a multiplier may move to this cycle (within ``max_step`` and the bounds); None if none."""
    low = max(MULTIPLIER_BOUNDS[0], current * (1.0 - max_step))
    high = min(MULTIPLIER_BOUNDS[1], current * (1.0 + max_step))
    # A grid value within SLACK of a cap counts as inside it (float noise: 1.8 * 0.8 = 1.4400000000000002).
    k_low, k_high = math.ceil((Fraction(low) - SLACK) * GRID), math.floor((Fraction(high) + SLACK) * GRID)
    return (k_low, k_high) if k_low <= k_high else None


def _holds(low: Fraction, high: Fraction, old_ratio: Fraction | None, strict: bool) -> bool:
    """Whether new values (low, high) of a pair keep the order rule; ``old_ratio`` is m_low/m_high if inverted."""
    if old_ratio is None:
        return low <= high
    return low < high * old_ratio if strict else low <= high * old_ratio


def _largest(ok: Callable[[int], bool], guess: int) -> int:
    """Largest k with ok(k), for ok true below some point and false above; ``guess`` is near it."""
    k = guess
    while not ok(k):
        k -= 1
    while ok(k + 1):
        k += 1
    return k


def _smallest(ok: Callable[[int], bool], guess: int) -> int:
    """Smallest k with ok(k), for ok false below some point and true above; ``guess`` is near it."""
    k = guess
    while not ok(k):
        k += 1
    while ok(k - 1):
        k -= 1
    return k


def _enforce_order(
    ranked: list[int],
    pairs: list[Pair],
    current: list[float],
    boxes: dict[int, tuple[int, int]],
    desired: dict[int, int],
    strict: bool,
) -> dict[int, float] | None:
    """Values closest to ``desired`` (grid indices of the moving buckets) that keep the order rule exactly.

    Every pair (a ranked below b) needs new_a <= f(new_b), f increasing, so the feasible values form a
    lattice: a backward pass gives each bucket's largest feasible value, a forward pass then clamps each
    desired value between what the buckets below require and that largest value. Buckets without a box
    keep their value. None when no feasible values exist.
    """
    old = {i: Fraction(current[i]) for i in ranked}
    ratio = {(a, b): (old[a] / old[b] if current[a] > current[b] else None) for a, b in pairs}
    upper: dict[int, Fraction] = {}
    upper_k: dict[int, int] = {}
    for p in range(len(ranked) - 1, -1, -1):
        a = ranked[p]
        above = [(upper[b], ratio[(a, b)]) for b in ranked[p + 1 :] if (a, b) in ratio]
        if a not in boxes:
            if not all(_holds(old[a], ub, r, strict) for ub, r in above):
                return None
            upper[a] = old[a]
            continue
        k = boxes[a][1]
        for ub, r in above:

            def fits_below(j: int, ub: Fraction = ub, r: Fraction | None = r) -> bool:
                return _holds(Fraction(grid_value(j)), ub, r, strict)

            k = min(k, _largest(fits_below, math.floor((ub * r if r is not None else ub) * GRID)))
        if k < boxes[a][0]:
            return None
        upper_k[a], upper[a] = k, Fraction(grid_value(k))
    chosen: dict[int, Fraction] = {}
    out: dict[int, float] = {}
    for p, b in enumerate(ranked):
        if b not in boxes:
            chosen[b] = old[b]
            continue
        k = boxes[b][0]
        for a in ranked[:p]:
            if (a, b) not in ratio:
                continue
            va, r = chosen[a], ratio[(a, b)]

            def fits_above(j: int, va: Fraction = va, r: Fraction | None = r) -> bool:
                return _holds(va, Fraction(grid_value(j)), r, strict)

            k = max(k, _smallest(fits_above, math.ceil((va / r if r is not None else va) * GRID)))
        k = min(max(desired[b], k), upper_k[b])
        chosen[b] = Fraction(grid_value(k))
        out[b] = grid_value(k)
    return out


def _faster_until(d_low: float, d_high: float, up: float, down: float) -> float:
    """Largest fraction up to which raising it closes an inverted pair faster (log moves d_low < d_high)."""
    if d_low < 0 and d_high < 0:
        return down / -d_low  # both fall: until the faster-falling (lower) bucket hits its cap
    if d_low > 0 and d_high > 0:
        return up / d_high  # both rise: until the faster-rising (higher) bucket hits its cap
    return 1.0  # toward each other: every fraction up to 1 closes faster


def step_multipliers(
    current: list[float], target: list[float], rank: dict[int, float], max_step: float
) -> tuple[dict[int, float], set[int]]:
    """New multipliers of the eligible buckets, the keys of ``rank`` (their expectancy; see the module rule).

    Returns {bucket: new value} for the buckets that move and the set of buckets in an inverted pair.
    """
    ranked = sorted(rank, key=lambda i: (rank[i], i))
    pairs = [(a, b) for p, a in enumerate(ranked) for b in ranked[p + 1 :] if rank[a] < rank[b]]
    inverted = [(a, b) for a, b in pairs if current[a] > current[b]]
    out_of_order = {i for pair in inverted for i in pair}
    boxes: dict[int, tuple[int, int]] = {}
    for i in ranked:
        box = step_box(current[i], max_step)
        if box is not None and (i in out_of_order or not converged(current[i], target[i])):
            boxes[i] = box
    if not boxes:
        return {}, out_of_order
    d = {i: (math.log(target[i] / current[i]) if i in boxes else 0.0) for i in ranked}
    up = math.log1p(max_step)
    down = -math.log1p(-max_step) if max_step < 1.0 else math.inf
    lam = min([1.0] + [(up if v > 0 else down) / abs(v) for v in d.values() if v != 0.0])
    if inverted:
        lam = max(lam, min([1.0] + [_faster_until(d[a], d[b], up, down) for a, b in inverted]))
    desired = {i: min(max(round(current[i] * math.exp(lam * d[i]) * GRID), box[0]), box[1]) for i, box in boxes.items()}
    new = _enforce_order(ranked, pairs, current, boxes, desired, strict=True)
    if new is None:
        new = _enforce_order(ranked, pairs, current, boxes, desired, strict=False)
    if new is None:
        return {}, out_of_order
    return {i: v for i, v in new.items() if v != current[i]}, out_of_order


def _move(old: float, new: float) -> str:
    """ "old -> new" with two decimals, or six when two would hide the move (0.250001 -> 0.25)."""
    if f"{old:.2f}" != f"{new:.2f}":
        return f"{old:.2f} -> {new:.2f}"
    return f"{old:.6f} -> {new:.6f}"


def learn_sizing(
    enriched: Enriched,
    buckets: list[SizingBucket],
    min_trades: int,
    min_t: float,
    max_step: float,
    *,
    evidence: Mapping[str, int] | None = None,
    evidence_ttl_ms: int | None = None,
) -> tuple[list[Change], dict[str, int]]:
    """Propose ``sizing.buckets[i].multiplier`` changes (see the module rule).

    ``evidence``: the clocks the previous cycle left (path -> event time, ms, of the last significant
    evidence); with ``evidence_ttl_ms``, multipliers without evidence for that long step back toward 1.
    Out: the changes and the clocks to carry on (one per multiplier away from 1).
    """
    now = enriched.now_ms
    if len(buckets) < 2:
        return [], {}
    trades = enriched.trades
    ret = trades["ret"].to_numpy(dtype=np.float64)
    which = bucket_of(trades["conv"].to_numpy(dtype=np.float64), buckets)
    ok = np.isfinite(ret) & (which >= 0)
    k = len(buckets)
    n = np.bincount(which[ok], minlength=k).astype(np.float64)
    total = np.bincount(which[ok], weights=ret[ok], minlength=k)
    eligible = n >= max(min_trades, 2)
    current = [b.multiplier for b in buckets]
    if eligible.sum() < 2:
        return _expire(buckets, current, evidence, now, evidence_ttl_ms, max_step)
    mu = np.where(n > 0, total / np.maximum(n, 1.0), 0.0)
    pooled = float(total[eligible].sum() / n[eligible].sum())
    tested = np.flatnonzero(eligible).tolist()
    tests: dict[int, Evidence] = {}
    for i in tested:
        member = ok & (which == i)
        tests[i] = trade_test(ret[member] - pooled, trades[member])
    passed = family([tests[i] for i in tested], min_t)
    movers = [i for i, p in zip(tested, passed, strict=True) if p]
    if not movers:
        return _expire(buckets, current, evidence, now, evidence_ttl_ms, max_step)
    clocks = {_path(i): now for i in range(k) if not converged(current[i], 1.0) or i in tested}
    positive = np.maximum(mu, 0.0)
    mbar = float((positive * n)[eligible].sum() / n[eligible].sum())
    if mbar <= 0.0:
        return [], clocks
    low, high = MULTIPLIER_BOUNDS
    target = np.clip(positive / mbar, low, high)
    rank = {i: float(mu[i]) for i in tested}
    moved, out_of_order = step_multipliers(current, target.tolist(), rank, max_step)
    lead = max(movers, key=lambda i: abs(tests[i].t))
    lead_name = f"{buckets[lead].min_conviction:.2f}-{buckets[lead].max_conviction:.2f}"
    changes: list[Change] = []
    for i in sorted(moved):
        b = buckets[i]
        cur, new = current[i], moved[i]
        order = ", restoring expectancy order" if i in out_of_order else ""
        pct = (new / cur - 1) * 100
        step = f"{pct:+.0f}%" if abs(pct) >= 0.5 else f"{pct:+.2f}%"
        capped = f", capped at {step} (target {target[i]:.2f})" if abs(new - target[i]) > 1e-6 else ""
        ev = tests[i]
        if i in movers:
            why = f"(t={ev.t:.1f} over {ev.n_eff:.0f} effective trades, significant among {len(tested)} buckets)"
        else:
            why = (
                f"(its own t={ev.t:.1f} is not significant: it moves with its family on the evidence of "
                f"conviction {lead_name}, t={tests[lead].t:.1f})"
            )
        reason = (
            f"sizing: conviction {b.min_conviction:.2f}-{b.max_conviction:.2f} returned {mu[i] * 1e4:+.1f} bps per "
            f"trade over {int(n[i])} trades vs {pooled * 1e4:+.1f} bps overall {why}: "
            f"multiplier {_move(cur, new)}{order}{capped}"
        )
        stats = make_stats(
            {
                "n": int(n[i]),
                "n_eff": ev.n_eff,
                "ev_bps": mu[i] * 1e4,
                "pooled_ev_bps": pooled * 1e4,
                "t": ev.t,
                "p": ev.p,
                "significant": i in movers,
                "moved_by": _path(lead),
                "target": target[i],
                "restoring_order": i in out_of_order,
            }
        )
        changes.append(Change(f"sizing.buckets[{i}].multiplier", cur, new, reason, stats))
    return changes, clocks


def _path(i: int) -> str:
    return f"sizing.buckets[{i}].multiplier"


def _expire(
    buckets: list[SizingBucket],
    current: list[float],
    evidence: Mapping[str, int] | None,
    now: int,
    ttl_ms: int | None,
    max_step: float,
) -> tuple[list[Change], dict[str, int]]:
    """No significant evidence this cycle: multipliers away from 1 keep their clock (or start one now)
    and, once it is ``ttl_ms`` old, step back toward 1 by at most ``max_step``."""
    prior = dict(evidence or {})
    clocks: dict[str, int] = {}
    changes: list[Change] = []
    for i, b in enumerate(buckets):
        cur = current[i]
        if converged(cur, 1.0):
            continue
        since = prior.get(_path(i), now)
        clocks[_path(i)] = since
        if ttl_ms is None:
            continue
        new = expire_toward(cur, 1.0, since, now, ttl_ms, max_step, MULTIPLIER_BOUNDS)
        if new == cur:
            continue
        reason = (
            f"sizing: conviction {b.min_conviction:.2f}-{b.max_conviction:.2f}: no significant evidence since "
            f"{rfc3339_ms(since)} (evidence_ttl): multiplier {_move(cur, new)}, back toward 1.00"
        )
        changes.append(Change(_path(i), cur, new, reason, make_stats({"since_ms": since, "default": 1.0})))
    return changes, clocks
