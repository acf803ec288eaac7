"""Outcome resolution: what happened to the price after each signal, at each horizon.

Rule (DESIGN.md section 8): for a signal at ``ts`` with price p_0 and a horizon h, the outcome
is ret = p_h / p_0 - 1 where p_h is the first mark of the same symbol at or after ts + h,
accepted if that mark is no later than the deadline ts + h + max(h/2, 60 s). Without such a
mark the pair is a gap once the watermark is strictly past the deadline (reason "no_marks"
when the symbol has no marks at all, else "missing_mark"); before that it is pending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core.learn.frames import OUTCOME_COLUMNS, empty_outcomes

RESOLVED = "resolved"
GAP = "gap"
NO_MARKS = "no_marks"
MISSING_MARK = "missing_mark"


@dataclass(frozen=True, eq=False)
class Resolution:
    """Newly decided outcomes (resolved or gap) and the number of pairs still pending."""

    outcomes: pd.DataFrame
    pending: int


def tolerance_ms(horizon_s: int) -> int:
    """How late the mark may be after ts + h: max(h/2, 60 s), in milliseconds."""
    return max(horizon_s * 500, 60_000)


def _already_mask(event_ids: pd.Index, already: pd.DataFrame | None, horizons_s: list[int]) -> NDArray[np.bool_]:
    """done[i, j]: (signal i, horizon j) is already stored."""
    done = np.zeros((len(event_ids), len(horizons_s)), dtype=bool)
    if already is None or already.empty or len(event_ids) == 0:
        return done
    rows = event_ids.get_indexer(pd.Index(already["signal_event_id"]))
    cols = pd.Index(horizons_s).get_indexer(pd.Index(already["horizon_s"].to_numpy(dtype=np.int64)))
    keep = (rows >= 0) & (cols >= 0)
    done[rows[keep], cols[keep]] = True
    return done


def resolve_outcomes(
    signals: pd.DataFrame,
    prices: pd.DataFrame,
    horizons_s: list[int],
    watermark_ms: int,
    already: pd.DataFrame | None = None,
) -> Resolution:
    """Decide every (signal, horizon) pair not in ``already``.

    In: signals and prices frames (see frames.py), horizons in seconds, the bot's watermark (ms),
    the stored outcomes. Out: a ``Resolution`` whose frame has the outcome columns, ordered by
    horizon then by the signals' input order, and the count of pairs still pending.
    Vectorised: marks are sorted once on a (symbol code, ts) key and every signal is located
    with one ``searchsorted`` per horizon.
    """
    n = len(signals)
    if n == 0 or not horizons_s:
        return Resolution(empty_outcomes(), 0)
    event_ids = pd.Index(signals["event_id"])
    done = _already_mask(event_ids, already, horizons_s)

    codes, uniques = pd.factorize(pd.concat([signals["symbol"], prices["symbol"]], ignore_index=True), sort=True)
    sig_code = codes[:n].astype(np.int64)
    mark_code = codes[n:].astype(np.int64)
    sig_ts = signals["ts"].to_numpy(dtype=np.int64)
    sig_price = signals["price"].to_numpy(dtype=np.float64)
    mark_ts = prices["ts"].to_numpy(dtype=np.int64)
    mark_price = prices["price"].to_numpy(dtype=np.float64)
    has_marks = np.zeros(len(uniques), dtype=bool)
    has_marks[mark_code] = True

    max_reach = max(h * 1000 + tolerance_ms(h) for h in horizons_s)
    base = int(min(sig_ts.min(), mark_ts.min() if mark_ts.size else sig_ts.min()))
    top = int(max(sig_ts.max() + max_reach, mark_ts.max() if mark_ts.size else 0))
    span = top - base + 1
    if span * (len(uniques) + 1) >= 2**62:
        raise ValueError("time span x symbols too large for the packed (symbol, ts) key")
    mark_key = mark_code * span + (mark_ts - base)
    order = np.argsort(mark_key, kind="stable")
    mark_key = mark_key[order]
    mark_ts, mark_price = mark_ts[order], mark_price[order]

    parts: list[pd.DataFrame] = []
    pending = 0
    for j, h in enumerate(horizons_s):
        todo = np.flatnonzero(~done[:, j])
        if todo.size == 0:
            continue
        target = sig_ts[todo] + h * 1000
        deadline = target + tolerance_ms(h)
        idx = np.searchsorted(mark_key, sig_code[todo] * span + (target - base), side="left")
        safe = np.minimum(idx, max(mark_key.size - 1, 0))
        if mark_key.size:
            found = (idx < mark_key.size) & (mark_key[safe] // span == sig_code[todo]) & (mark_ts[safe] <= deadline)
        else:
            found = np.zeros(todo.size, dtype=bool)
        gap = ~found & (watermark_ms > deadline)
        pending += int(todo.size - found.sum() - gap.sum())
        decided = found | gap
        rows = todo[decided]
        f = found[decided]
        ret = np.full(rows.size, np.nan)
        marks = np.zeros(rows.size, dtype=np.int64)
        if mark_key.size:
            hit = safe[decided][f]
            ret[f] = mark_price[hit] / sig_price[rows[f]] - 1.0
            marks[f] = mark_ts[hit]
        reason = np.where(has_marks[sig_code[rows]], MISSING_MARK, NO_MARKS).astype(object)
        reason[f] = None
        parts.append(
            pd.DataFrame(
                {
                    "signal_event_id": signals["event_id"].to_numpy()[rows],
                    "horizon_s": np.full(rows.size, h, dtype=np.int64),
                    "status": np.where(f, RESOLVED, GAP),
                    "ret": ret,
                    "mark_ts": marks,
                    "reason": reason,
                }
            )
        )
    if not parts:
        return Resolution(empty_outcomes(), pending)
    frame = pd.concat(parts, ignore_index=True)
    return Resolution(frame.astype({k: v for k, v in OUTCOME_COLUMNS.items() if v != "object"}), pending)


def symbols_without_marks(signals: pd.DataFrame, prices: pd.DataFrame) -> dict[str, int]:
    """Symbols that have signals but no price mark at all -> how many signals they have (sorted by symbol)."""
    if signals.empty:
        return {}
    marked = pd.Index(prices["symbol"].unique())
    counts = signals.loc[~signals["symbol"].isin(marked), "symbol"].value_counts()
    return {str(k): int(counts[k]) for k in sorted(counts.index)}


def outcome_counts(outcomes: pd.DataFrame) -> dict[str, int]:
    """Resolved and gap counts of an outcomes frame."""
    status = outcomes["status"]
    return {"resolved": int((status == RESOLVED).sum()), "gap": int((status == GAP).sum())}
