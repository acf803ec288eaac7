"""Outcome resolution: what happened to the price after each signal, at each horizon.

Rule (DESIGN.md section 8): for a signal at ``ts`` with price p_0 and a horizon h, the outcome
is ret = p_h / p_0 - 1 where p_h is the first mark of the same symbol at or after ts + h,
accepted if that mark is no later than the deadline ts + h + max(h/2, 60 s). Without such a
mark the pair is a gap once the watermark is strictly past the deadline (reason "no_marks"
when the symbol has no marks at all, else "missing_mark"); before that it is pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core.learn.frames import empty_outcomes
from core.learn.groups import group_by

ScalarT = TypeVar("ScalarT", bound=np.generic)

RESOLVED = "resolved"
GAP = "gap"
NO_MARKS = "no_marks"
MISSING_MARK = "missing_mark"


@dataclass(frozen=True, eq=False)
class Resolution:
    """Newly decided outcomes (resolved or gap), the number of pairs still pending, and each new
    outcome's row in the signals frame it was resolved from (aligned with ``outcomes``)."""

    outcomes: pd.DataFrame
    pending: int
    rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def tolerance_ms(horizon_s: int) -> int:
    """How late the mark may be after ts + h: max(h/2, 60 s), in milliseconds."""
    return max(horizon_s * 500, 60_000)


def outcome_rows(signals: pd.DataFrame, outcomes: pd.DataFrame, ids: pd.Index | None = None) -> NDArray[np.int64]:
    """Row of each outcome's signal in ``signals`` (-1 when absent).

    ``ids``: ``signals.event_id`` as an Index when the caller has one (``CycleInputs.signal_ids``).
    Storage hands outcomes grouped by signal, in the signals' order: then one comparison of
    neighbours finds the runs, and the run heads either equal the signal ids one for one (no
    hashing at all) or are looked up once per signal instead of once per outcome.
    """
    if len(signals) == 0 or len(outcomes) == 0:
        return np.full(len(outcomes), -1, dtype=np.int64)
    values = outcomes["signal_event_id"].to_numpy(dtype=object)
    index = ids if ids is not None else pd.Index(signals["event_id"])
    _, lengths, heads = value_runs(values)
    if heads.size * 2 > values.size:  # not grouped by signal: one lookup per outcome
        return lookup(index, values)
    signal_ids = signals["event_id"].to_numpy(dtype=object)
    if heads.size == signal_ids.size and bool(np.all(heads == signal_ids)):
        head_rows = np.arange(heads.size, dtype=np.int64)
    else:
        head_rows = lookup(index, heads)
    return np.repeat(head_rows, lengths)


def lookup(index: pd.Index, values: NDArray[np.object_]) -> NDArray[np.int64]:
    """Position of each value in ``index`` (-1 when absent). A plain array is passed on purpose: an
    object ``Index`` of the same strings would be converted first and is ~10x slower to look up."""
    return np.asarray(index.get_indexer(values), dtype=np.int64)  # type: ignore[arg-type]


def _already_mask(
    n: int, already: pd.DataFrame | None, horizons_s: list[int], rows: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """done[i, j]: (signal i, horizon j) is already stored."""
    done = np.zeros((n, len(horizons_s)), dtype=bool)
    if already is None or already.empty or n == 0:
        return done
    stored_h = already["horizon_s"].to_numpy(dtype=np.int64)
    for j, h in enumerate(horizons_s):  # a few horizons: one comparison each beats a hash lookup
        at = rows[(stored_h == h) & (rows >= 0)]
        done[at, j] = True
    return done


def pending_mark_spans(
    signals: pd.DataFrame, stored: pd.DataFrame, stored_rows: NDArray[np.int64], horizons_s: list[int]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per signal, the span of marks its (signal, horizon) pairs not stored yet can use, by the rule above:
    pair (i, h) only reads a mark in [ts_i + h, ts_i + h + tolerance(h)]. Out: (lo, hi) epoch ms per
    signal, lo > hi when every pair is stored. Lets storage read only the marks a resolution can use.
    """
    n = len(signals)
    done = _already_mask(n, stored, horizons_s, stored_rows)
    ts = signals["ts"].to_numpy(dtype=np.int64)
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    for j, h in enumerate(horizons_s):  # per horizon, vectorised over signals
        pending = ~done[:, j]
        start = ts + h * 1000
        np.minimum(lo, start, out=lo, where=pending)
        np.maximum(hi, start + tolerance_ms(h), out=hi, where=pending)
    return lo, hi


def value_runs(values: NDArray[ScalarT]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[ScalarT]]:
    """Run-length view of ``values``: start of each run, its length, and the run values.

    One comparison of neighbours instead of hashing every element: marks come grouped by symbol,
    so a few dozen runs stand for millions of rows (any order is still correct, only slower).
    """
    if values.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, values[:0]
    change = np.empty(values.size, dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    lengths = np.diff(np.append(starts, values.size))
    return starts, lengths, values[starts]


def resolve_outcomes(
    signals: pd.DataFrame,
    prices: pd.DataFrame,
    horizons_s: list[int],
    watermark_ms: int,
    already: pd.DataFrame | None = None,
    already_rows: NDArray[np.int64] | None = None,
) -> Resolution:
    """Decide every (signal, horizon) pair not in ``already``.

    In: signals and prices frames (see frames.py), horizons in seconds, the bot's watermark (ms),
    the stored outcomes and optionally their signal rows (``outcome_rows``) when already looked up.
    Out: a ``Resolution`` whose frame has the outcome columns, ordered by horizon then by the
    signals' input order, the count of pairs still pending and the new outcomes' signal rows.
    Vectorised: marks are coded by symbol runs and kept in (symbol code, ts) order (sorted only
    when they come unsorted); signals are sorted once on the same key, so every horizon is one
    ``searchsorted`` of sorted needles.
    """
    n = len(signals)
    if n == 0 or not horizons_s:
        return Resolution(empty_outcomes(), 0)
    if already is not None and not already.empty and already_rows is None:
        already_rows = outcome_rows(signals, already)
    done = _already_mask(n, already, horizons_s, np.zeros(0, dtype=np.int64) if already_rows is None else already_rows)
    todo_any = np.flatnonzero(~done.all(axis=1))
    if todo_any.size == 0:
        return Resolution(empty_outcomes(), 0)

    # Symbol codes: numbered in the order the marks' symbol runs appear (usually already sorted).
    mark_sym = prices["symbol"].to_numpy(dtype=object)
    _, lengths, heads = value_runs(mark_sym)
    head_codes, uniques = pd.factorize(heads)
    mark_code = np.repeat(head_codes.astype(np.int64), lengths)
    sig_code_all = pd.Index(uniques).get_indexer(pd.Index(signals["symbol"].to_numpy(dtype=object)[todo_any]))
    sig_code = np.asarray(sig_code_all, dtype=np.int64)  # -1: the symbol has no marks at all

    sig_ts = signals["ts"].to_numpy(dtype=np.int64)[todo_any]
    sig_price = signals["price"].to_numpy(dtype=np.float64)[todo_any]
    mark_ts = prices["ts"].to_numpy(dtype=np.int64)
    mark_price = prices["price"].to_numpy(dtype=np.float64)

    max_reach = max(h * 1000 + tolerance_ms(h) for h in horizons_s)
    base = int(min(sig_ts.min(), mark_ts.min() if mark_ts.size else sig_ts.min()))
    top = int(max(sig_ts.max() + max_reach, mark_ts.max() if mark_ts.size else 0))
    span = top - base + 1
    if span * (len(uniques) + 1) >= 2**62:
        raise ValueError("time span x symbols too large for the packed (symbol, ts) key")
    mark_key = mark_code * span + (mark_ts - base)
    if mark_key.size > 1 and not bool(np.all(mark_key[1:] >= mark_key[:-1])):
        order = np.argsort(mark_key, kind="stable")
        mark_key, mark_ts, mark_price = mark_key[order], mark_ts[order], mark_price[order]

    # Signals in (code, ts) order: adding h keeps the order, so every horizon's needles are sorted
    # and the marks they hit are read in order; results go back to input order by one scatter.
    marked = sig_code >= 0
    sig_key = np.where(marked, sig_code, 0) * span + (sig_ts - base)
    by_key = np.argsort(sig_key, kind="stable")
    sorted_key = sig_key[by_key]
    marked_sorted = marked[by_key]
    price_sorted = sig_price[by_key]
    last = max(mark_key.size - 1, 0)
    m = todo_any.size

    rows_parts: list[NDArray[np.int64]] = []
    h_parts: list[NDArray[np.int64]] = []
    found_parts: list[NDArray[np.bool_]] = []
    ret_parts: list[NDArray[np.float64]] = []
    mark_parts: list[NDArray[np.int64]] = []
    nomark_parts: list[NDArray[np.bool_]] = []
    pending = 0
    for j, h in enumerate(horizons_s):
        todo = ~done[todo_any, j]
        if not todo.any():
            continue
        found = np.zeros(m, dtype=bool)
        ret = np.full(m, np.nan)
        hit_ts = np.zeros(m, dtype=np.int64)
        if mark_key.size:
            needle = sorted_key + h * 1000
            idx = np.searchsorted(mark_key, needle, side="left")
            safe = np.minimum(idx, last)
            # Same symbol and no later than the deadline in one comparison: a mark of a later
            # symbol has a key beyond every deadline of this one (span covers all deadlines).
            f_sorted = marked_sorted & (idx < mark_key.size) & (mark_key[safe] <= needle + tolerance_ms(h))
            found[by_key] = f_sorted
            ret[by_key] = np.where(f_sorted, mark_price[safe] / price_sorted - 1.0, np.nan)
            hit_ts[by_key] = np.where(f_sorted, mark_ts[safe], 0)
        found &= todo
        deadline = sig_ts + (h * 1000 + tolerance_ms(h))
        gap = todo & ~found & (watermark_ms > deadline)
        pending += int(todo.sum() - found.sum() - gap.sum())
        decided = np.flatnonzero(found | gap)
        rows_parts.append(todo_any[decided])
        h_parts.append(np.full(decided.size, h, dtype=np.int64))
        found_parts.append(found[decided])
        ret_parts.append(ret[decided])
        mark_parts.append(hit_ts[decided])
        nomark_parts.append(~marked[decided])
    if not rows_parts or sum(p.size for p in rows_parts) == 0:
        return Resolution(empty_outcomes(), pending)
    rows = np.concatenate(rows_parts)
    found_all = np.concatenate(found_parts)
    nomark = np.concatenate(nomark_parts)
    status = np.array([GAP, RESOLVED], dtype=object)[found_all.astype(np.int64)]
    reason = np.empty(rows.size, dtype=object)  # None, but for the (usually few) gaps
    gaps = np.flatnonzero(~found_all)
    reason[gaps] = np.where(nomark[gaps], NO_MARKS, MISSING_MARK)
    ids = signals["event_id"].array.take(rows)
    frame = pd.DataFrame(
        {
            "signal_event_id": ids if ids.dtype == "str" else pd.array(ids, dtype="str"),
            "horizon_s": np.concatenate(h_parts),
            "status": pd.array(status, dtype="str"),
            "ret": np.concatenate(ret_parts),
            "mark_ts": np.concatenate(mark_parts),
            "reason": pd.Series(reason, dtype=object, copy=False),  # dtype given: no inference scan
        },
        copy=False,  # every column is freshly built: no copy, no consolidation
    )
    return Resolution(frame, pending, rows)


def symbols_without_marks(signals: pd.DataFrame, prices: pd.DataFrame) -> dict[str, int]:
    """Symbols that have signals but no price mark at all -> how many signals they have (sorted by symbol)."""
    if signals.empty:
        return {}
    _, _, heads = value_runs(prices["symbol"].to_numpy(dtype=object))  # marks come grouped by symbol
    marked = set(heads.tolist())
    groups = group_by(signals["symbol"])
    return {sym: int(n) for (sym,), n in zip(groups.keys, groups.count(), strict=True) if sym not in marked}
