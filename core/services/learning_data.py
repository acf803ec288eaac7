"""Load what a cycle reads about one bot into the learning engine's frames (core/learn/frames.py).

Columnar bulk reads (``core/store/bulk.py``: COPY on PostgreSQL, one select per table on SQLite)
turned into frames with numpy; nothing runs per signal, outcome or mark in Python. The window is
event time: ``[watermark - lookback, watermark]``.

Marks are only read where a pair not stored yet can use them: for each symbol, from the earliest
``ts + h`` to the latest deadline ``ts + h + max(h/2, 60 s)`` of its pending (signal, horizon)
pairs. Every other symbol of the window's signals that has marks in the window is represented by
its first one, so "does this symbol have marks" (the ``no_marks`` gap reason, the health check's
``no_price_marks``) answers as if every mark had been read. When every pair is stored, a cycle
reads one mark per symbol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.learn.frames import (
    OUTCOME_COLUMNS,
    PRICE_COLUMNS,
    SIGNAL_COLUMNS,
    TRADE_COLUMNS,
    CycleInputs,
    empty_components,
    empty_frame,
)
from core.learn.outcomes import pending_mark_spans, value_runs
from core.schemas.config import LearningConfig
from core.store import bulk, pgcopy, repos
from core.store.components import Components
from core.store.outcome_store import OutcomeBatch


@dataclass(frozen=True)
class Window:
    """Event-time window a cycle or a resolution reads, epoch ms, both ends inclusive."""

    since_ms: int
    until_ms: int

    @classmethod
    def back_from(cls, watermark_ms: int, lookback_s: int) -> Window:
        return cls(watermark_ms - lookback_s * 1000, watermark_ms)


@dataclass(frozen=True, eq=False)
class Loaded:
    """What a cycle or a resolution read: the engine's inputs (with each stored outcome's signal row)
    and ``signals.id`` of each row of ``inputs.signals``."""

    inputs: CycleInputs
    signal_ids: NDArray[np.int64]

    def outcome_batch(self, bot_id: str, outcomes: pd.DataFrame, rows: NDArray[np.int64]) -> OutcomeBatch:
        """Outcomes decided from these signals (``rows``: each one's row in ``inputs.signals``) -> the
        columns to store, grouped by signal in the signals' (time) order, horizons in frame order
        within a signal: close to the primary key's order, and a later read hands each signal's
        outcomes together (``signal_order``)."""
        by = np.argsort(rows, kind="stable")
        at = rows[by]
        reason = outcomes["reason"].to_numpy(dtype=object)[by]
        reason[pd.isna(reason)] = None
        return OutcomeBatch(
            bot_id=bot_id,
            signal_ts=self.inputs.signals["ts"].to_numpy(dtype=np.int64)[at],
            signal_id=self.signal_ids[at],
            horizon_s=outcomes["horizon_s"].to_numpy(dtype=np.int64)[by],
            status=outcomes["status"].to_numpy(dtype=object)[by],
            ret=outcomes["ret"].to_numpy(dtype=np.float64)[by],
            mark_ts=outcomes["mark_ts"].to_numpy(dtype=np.int64)[by],
            reason=reason,
        )


def frame(columns: pgcopy.Columns, spec: dict[str, str]) -> pd.DataFrame:
    """Columns from ``core.store.bulk`` -> a frame with the contract's dtypes (``spec``)."""
    if not columns or next(iter(columns.values())).size == 0:
        return empty_frame(spec)
    data: dict[str, Any] = {}
    for name, dtype in spec.items():
        values = columns[name]
        # Explicit dtypes: pandas would infer "str" for an object column that holds only strings.
        data[name] = pd.Series(values, dtype=dtype, copy=False)
    return pd.DataFrame(data)


def components_frame(components: Components, ids: NDArray[np.int64]) -> pd.DataFrame:
    """Wide float64 frame aligned with the signals whose ``signals.id`` are ``ids``: one sorted column per
    component, NaN where a signal lacks it."""
    if ids.size == 0 or components.ids.size == 0:
        return empty_components(ids.size)
    matrix = components.matrix
    if not np.array_equal(components.ids, ids):  # another snapshot or order: align on the id
        rows = np.asarray(pd.Index(components.ids).get_indexer(pd.Index(ids)), dtype=np.int64)
        matrix = np.where((rows >= 0)[:, None], matrix[np.maximum(rows, 0)], np.nan)
    return pd.DataFrame(matrix, columns=pd.Index(components.names, dtype=object))


def signal_order(
    signal_ids: NDArray[np.int64], ids: NDArray[np.int64], horizons: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For outcomes of signals ``ids`` at ``horizons``: (the permutation that puts them in (signal row,
    horizon) order, dropping those whose signal is not in ``signal_ids``; the signal row of each, permuted).

    Storage hands them grouped by signal: then the lookup runs once per signal, and when each group
    is in horizon order, the sort too (one per signal, not per outcome).
    """
    index = pd.Index(signal_ids)
    starts, lengths, _ = value_runs(ids)
    grouped = starts.size * 2 <= ids.size
    if grouped:
        heads = np.asarray(index.get_indexer(pd.Index(ids[starts])), dtype=np.int64)
        horizon_up = np.ones(ids.size, dtype=bool)
        horizon_up[1:] = horizons[1:] > horizons[:-1]
        horizon_up[starts] = True
        if bool(horizon_up.all()):
            by = np.argsort(heads, kind="stable")
            by = by[heads[by] >= 0]
            lengths = lengths[by]
            offsets = np.repeat(starts[by] - (np.cumsum(lengths) - lengths), lengths)
            return offsets + np.arange(offsets.size, dtype=np.int64), np.repeat(heads[by], lengths)
        rows = np.repeat(heads, lengths)
    else:
        rows = np.asarray(index.get_indexer(pd.Index(ids)), dtype=np.int64)
    ranks, distinct = pd.factorize(horizons, sort=True)
    key = rows * len(distinct) + ranks
    order = np.argsort(key, kind="stable")
    order = order[rows[order] >= 0]
    return order, rows[order]


def outcomes_frame(
    columns: pgcopy.Columns, signal_ids: NDArray[np.int64], event_ids: pd.api.extensions.ExtensionArray
) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """Stored outcome columns -> (outcomes frame in (signal row, horizon_s) order, each one's signal row).

    Outcomes of signals not in ``signal_ids`` (stored after the signals were read) are left out.
    """
    order, rows = signal_order(signal_ids, columns["signal_id"], columns["horizon_s"])
    if rows.size == 0:
        return empty_frame(OUTCOME_COLUMNS), rows
    outcomes = pd.DataFrame(
        {
            "signal_event_id": event_ids.take(rows),
            "horizon_s": columns["horizon_s"][order],
            "status": pd.array(columns["status"][order], dtype="str"),
            "ret": columns["ret"][order],
            "mark_ts": columns["mark_ts"][order],
            "reason": pd.Series(columns["reason"][order], dtype=object),  # pandas would infer "str"
        }
    )
    return outcomes, rows


async def load_marks(
    session: AsyncSession,
    bot_id: str,
    signals: pd.DataFrame,
    window: Window,
    bounds: tuple[NDArray[np.int64], NDArray[np.int64]] | None,
) -> pd.DataFrame:
    """Marks of the signals' symbols, in (symbol, ts) order: per symbol the span its pending pairs can use
    (``bounds``: ``core.learn.outcomes.pending_mark_spans``; None: the whole window), else its first mark
    in the window."""
    if signals.empty:
        return empty_frame(PRICE_COLUMNS)
    codes, symbols = pd.factorize(signals["symbol"].to_numpy(dtype=object), sort=True)
    names = [str(s) for s in symbols]
    lo = np.full(len(names), window.since_ms, dtype=np.int64)
    hi = np.full(len(names), window.until_ms, dtype=np.int64)
    if bounds is not None:
        sig_lo, sig_hi = bounds
        lo = np.full(len(names), np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(len(names), np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(lo, codes, sig_lo)
        np.maximum.at(hi, codes, sig_hi)
        np.maximum(lo, window.since_ms, out=lo)
        np.minimum(hi, window.until_ms, out=hi)
    return await _marks_frame(session, bot_id, names, lo, hi, window)


async def _marks_frame(
    conn: AsyncSession | AsyncConnection,
    bot_id: str,
    names: list[str],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    window: Window,
) -> pd.DataFrame:
    """Marks of ``names[i]`` within [lo[i], hi[i]], or its first mark in the window when there are none
    there (``lo > hi``: none wanted), in (symbol, ts) order."""
    wanted = np.flatnonzero(lo <= hi)
    k, ts, price = await bulk.read_marks(
        conn, bot_id, [names[i] for i in wanted], lo[wanted].tolist(), hi[wanted].tolist()
    )
    code = wanted[k]
    present = np.zeros(len(names), dtype=bool)
    present[code] = True
    unmarked = np.flatnonzero(~present)
    if unmarked.size:  # one mark stands for "this symbol has marks in the window"
        first_k, first_ts, first_price = await bulk.read_marks(
            conn,
            bot_id,
            [names[i] for i in unmarked],
            [window.since_ms] * unmarked.size,
            [window.until_ms] * unmarked.size,
            first_only=True,
        )
        first_code = unmarked[first_k]
        at = np.searchsorted(code, first_code)
        code, ts, price = (
            np.insert(code, at, first_code),
            np.insert(ts, at, first_ts),
            np.insert(price, at, first_price),
        )
    if code.size > 1:
        ahead = (code[1:] > code[:-1]) | ((code[1:] == code[:-1]) & (ts[1:] > ts[:-1]))
        if not bool(ahead.all()):
            by = np.lexsort((ts, code))
            code, ts, price = code[by], ts[by], price[by]
    if code.size == 0:
        return empty_frame(PRICE_COLUMNS)
    return pd.DataFrame({"symbol": pd.array(names, dtype="str").take(code), "ts": ts, "price": price})


async def _window_marks(session: AsyncSession, bot_id: str, window: Window) -> tuple[list[str], pd.DataFrame]:
    """Every mark in the window of every symbol the window's signals name (and those symbols), read on
    a connection of its own: ``load_marks`` with no bounds, without waiting for the signals."""

    async def read(conn: AsyncConnection) -> tuple[list[str], pd.DataFrame]:
        names = await bulk.window_symbols(conn, bot_id, window.since_ms, window.until_ms)
        edges = (
            np.full(len(names), window.since_ms, dtype=np.int64),
            np.full(len(names), window.until_ms, dtype=np.int64),
        )
        return names, await _marks_frame(conn, bot_id, names, *edges, window)

    return await bulk.read_on(session, True, read)


async def _horizons(session: AsyncSession, bot_id: str) -> list[int] | None:
    bot = await repos.get_bot(session, bot_id)
    return None if bot is None else LearningConfig.model_validate(bot.config).horizon_seconds()


async def _load(
    session: AsyncSession, bot_id: str, window: Window, horizons_s: Sequence[int] | None, *, full: bool
) -> Loaded:
    """The reads in an order that overlaps the server's work with ours: on PostgreSQL the stored
    outcomes and the component scores are read on connections of their own while the signals are
    decoded here. Those statements see their own snapshots: rows stored meanwhile are dropped by the
    id alignment, and a signal stored meanwhile may come without its scores until the next cycle.

    A bot with no outcome stored yet (its first cycle, a backfill) has every pair pending, so the marks
    they can use are the whole window's: those are read beside the signals too, not after them (and
    again the usual way if the signals turn out to name a symbol that read did not know)."""
    since, until = window.since_ms, window.until_ms
    apart = bulk.is_postgres(session)
    reads: list[asyncio.Future[Any]] = []
    early_marks: asyncio.Future[tuple[list[str], pd.DataFrame]] | None = None
    if apart:
        reads.append(asyncio.ensure_future(bulk.read_outcomes(session, bot_id, since, until, apart=True)))
        if full:
            reads.append(asyncio.ensure_future(bulk.read_components(session, bot_id, since, until, apart=True)))
        if not any((await repos.outcome_status_counts(session, bot_id)).values()):
            early_marks = asyncio.ensure_future(_window_marks(session, bot_id, window))
            reads.append(early_marks)
    try:
        ids, columns = await bulk.read_signals(session, bot_id, since, until)
        signals = frame(columns, SIGNAL_COLUMNS)
        del columns
        trades = frame(await bulk.read_trades(session, bot_id, since, until), TRADE_COLUMNS) if full else None
        if horizons_s is None:
            horizons_s = await _horizons(session, bot_id)
        if apart:
            stored = await reads[0]
            comps = await reads[1] if full else None
        else:
            stored = await bulk.read_outcomes(session, bot_id, since, until)
            comps = await bulk.read_components(session, bot_id, since, until) if full else None
        prices = None
        if early_marks is not None:
            known, window_marks = await early_marks
            if set(signals["symbol"].unique()) <= set(known):
                prices = window_marks
            del window_marks
    finally:  # on an error here: stop the other reads, and never leave their own errors unretrieved
        for read in reads:
            read.cancel()
        if reads:
            await asyncio.wait(reads)
        for read in reads:
            if not read.cancelled():
                read.exception()
    components = components_frame(comps, ids) if comps is not None else empty_components(len(signals))
    del comps
    outcomes, rows = outcomes_frame(stored, ids, signals["event_id"].array)
    del stored
    if prices is None:
        bounds = None
        if horizons_s is not None:
            bounds = pending_mark_spans(signals, outcomes, rows, list(horizons_s))
        prices = await load_marks(session, bot_id, signals, window, bounds)
    trades = trades if trades is not None else empty_frame(TRADE_COLUMNS)
    inputs = CycleInputs(
        signals=signals, components=components, trades=trades, prices=prices, outcomes=outcomes, outcome_rows=rows
    )
    return Loaded(inputs, ids)


async def load_resolution_inputs(
    session: AsyncSession, bot_id: str, window: Window, horizons_s: Sequence[int] | None = None
) -> Loaded:
    """Signals (no components, no trades), stored outcomes and the marks the pending pairs can use.

    ``horizons_s``: the bot's horizons (read from its config when not given).
    """
    return await _load(session, bot_id, window, horizons_s, full=False)


async def load_cycle_inputs(
    session: AsyncSession, bot_id: str, window: Window, horizons_s: Sequence[int] | None = None
) -> Loaded:
    """Everything a cycle reads: signals (+ components), trades, stored outcomes in signal order
    (signals' (ts, event_id), then horizon), and the marks pending pairs can use (see the module doc).

    ``horizons_s``: the bot's horizons (read from its config when not given).
    """
    return await _load(session, bot_id, window, horizons_s, full=True)
