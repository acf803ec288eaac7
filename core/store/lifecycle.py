"""Reads and deletes of the data lifecycle: how old a bot's raw events are, and removing expired ones.

The retention job (``core/services/retention.py``) works table by table and period by period (UTC
days of event time): it reads the keys (or, when archiving, the whole rows) of one period, then
deletes exactly those rows in chunks of ``CHUNK_ROWS``, each chunk its own short transaction that
first takes the bot row's lock and also lowers the bot's counters. So SQLite's write lock is never
held for more than one chunk, ingest interleaves between chunks, and the counters /health serves
always equal the stored rows.

Price marks are indexed by (bot, symbol, ts), not (bot, ts): their oldest time and their symbols are
found by a loose index scan (one index probe per symbol, a recursive CTE on both databases), never
by reading every mark of the bot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Table, any_, bindparam, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.models import Bot, ComponentName, PriceMark, Signal, SignalOutcome, Trade

CHUNK_ROWS = 5_000
"""Rows deleted per transaction: a few milliseconds of SQLite's write lock (``bench/capacity.py``)."""


@dataclass(frozen=True)
class EventTable:
    """One raw-event table: its time column, the columns that identify a row, the bot counter it feeds."""

    name: str
    table: Table
    time: str
    key: tuple[str, ...]
    counter: str | None  # None: outcomes, counted by status (resolved_count, gap_count)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


# Outcomes first: an interrupted run never leaves outcomes whose signal is gone.
TABLES: tuple[EventTable, ...] = (
    EventTable("signal_outcomes", _table(SignalOutcome), "signal_ts", ("signal_ts", "signal_id", "horizon_s"), None),
    EventTable("signals", _table(Signal), "ts", ("id",), "signal_count"),
    EventTable("trades", _table(Trade), "ts", ("id",), "trade_count"),
    EventTable("price_marks", _table(PriceMark), "ts", ("id",), "price_count"),
)
BY_NAME = {t.name: t for t in TABLES}
_OUTCOME_COUNTERS = {"resolved": "resolved_count", "gap": "gap_count"}

_SYMBOLS = text(
    "WITH RECURSIVE s(symbol) AS ("
    "SELECT min(symbol) FROM price_marks WHERE bot_id = :bot "
    "UNION ALL SELECT (SELECT min(p.symbol) FROM price_marks p WHERE p.bot_id = :bot AND p.symbol > s.symbol) "
    "FROM s WHERE s.symbol IS NOT NULL) "
    "SELECT symbol FROM s WHERE symbol IS NOT NULL"
)


async def mark_symbols(session: AsyncSession, bot_id: str) -> list[str]:
    """The symbols the bot has price marks of (a loose index scan: one probe per symbol)."""
    return [str(s) for s in (await session.execute(_SYMBOLS, {"bot": bot_id})).scalars()]


async def oldest(session: AsyncSession, spec: EventTable, bot_id: str, since_ms: int | None = None) -> int | None:
    """The earliest event time of the bot in ``spec``'s table (at or after ``since_ms``); None: no rows."""
    column = spec.table.c[spec.time]
    where = [spec.table.c.bot_id == bot_id]
    if since_ms is not None:
        where.append(column >= since_ms)
    if spec.name != "price_marks":
        value = (await session.execute(select(func.min(column)).where(*where))).scalar_one_or_none()
        return None if value is None else int(value)
    found = []
    for symbol in await mark_symbols(session, bot_id):
        stmt = select(func.min(column)).where(*where, spec.table.c.symbol == symbol)
        value = (await session.execute(stmt)).scalar_one_or_none()
        if value is not None:
            found.append(int(value))
    return min(found, default=None)


async def oldest_events(session: AsyncSession, bot_id: str) -> dict[str, int | None]:
    """Per raw-event table, the bot's earliest event time (epoch ms; None: no rows)."""
    return {spec.name: await oldest(session, spec, bot_id) for spec in TABLES}


def _period(spec: EventTable, bot_id: str, lo_ms: int, hi_ms: int) -> list[Any]:
    column = spec.table.c[spec.time]
    return [spec.table.c.bot_id == bot_id, column >= lo_ms, column < hi_ms]


async def read_period(
    session: AsyncSession, spec: EventTable, bot_id: str, lo_ms: int, hi_ms: int, *, full: bool
) -> dict[str, list[Any]]:
    """The bot's rows of ``spec`` with lo <= time < hi, as columns: the key columns only, or (``full``)
    every column, a signal's components as ``component_names`` + ``component_values`` lists."""
    if full:
        names = [c.name for c in spec.table.columns if c.name not in ("bot_id", "component_ids")]
    else:
        names = list(dict.fromkeys((*spec.key, spec.time)))
    where = _period(spec, bot_id, lo_ms, hi_ms)
    if spec.name == "price_marks":  # the (bot, symbol, ts) index, one range per symbol
        symbols = await mark_symbols(session, bot_id)
        if not symbols:
            return {name: [] for name in names}
        where.append(spec.table.c.symbol.in_(symbols))
    order = [spec.table.c[name] for name in spec.key]
    read = [*names, "component_ids"] if full and spec.name == "signals" else names
    stmt = select(*(spec.table.c[name] for name in read)).where(*where).order_by(*order)
    rows = (await session.execute(stmt)).all()
    columns: dict[str, list[Any]] = {name: [row[i] for row in rows] for i, name in enumerate(read)}
    if "component_ids" in columns:
        known = await _component_names(session, bot_id)
        columns["component_names"] = [[known[int(i)] for i in ids] for ids in columns.pop("component_ids")]
        columns["component_values"] = [list(map(float, values)) for values in columns["component_values"]]
    return columns


async def _component_names(session: AsyncSession, bot_id: str) -> dict[int, str]:
    table = _table(ComponentName)
    stmt = select(table.c.id, table.c.name).where(table.c.bot_id == bot_id)
    return {int(i): str(n) for i, n in (await session.execute(stmt)).all()}


async def delete_rows(session: AsyncSession, spec: EventTable, bot_id: str, keys: Sequence[tuple[Any, ...]]) -> int:
    """Delete the bot's rows of ``spec`` with these keys (``spec.key`` order; at most ``CHUNK_ROWS``) and
    lower the bot's counters by what was deleted; returns how many rows went. Call after ``repos.lock_bot``."""
    if not keys:
        return 0
    table = spec.table
    if spec.counter is not None:
        ids = [int(key[0]) for key in keys]
        if session.get_bind().dialect.name == "postgresql":  # one array parameter, not thousands
            chosen = table.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
        else:
            chosen = table.c.id.in_(ids)
        result = await session.execute(delete(table).where(table.c.bot_id == bot_id, chosen))
        removed = int(getattr(result, "rowcount", 0))
        await session.execute(
            update(Bot).where(Bot.id == bot_id).values({spec.counter: getattr(Bot, spec.counter) - removed})
        )
        return removed
    signal_ts = [int(key[0]) for key in keys]
    span = {"bot": bot_id, "lo": min(signal_ts), "hi": max(signal_ts)}
    if session.get_bind().dialect.name == "postgresql":
        # A join with the whole primary key as three arrays: one index probe per outcome. A list of row
        # values made the planner loop over the list per row (10 s for 5,000 outcomes), and a join on
        # (signal_id, horizon_s) alone scans the whole signal_ts span per key (1 s).
        pairs = {"ts": signal_ts, "sids": [int(k[1]) for k in keys], "hs": [int(k[2]) for k in keys]}
        result = await session.execute(_DELETE_OUTCOMES_PG, {**span, **pairs})
    else:
        stmt = (
            delete(table)
            .where(
                table.c.bot_id == bot_id,
                table.c.signal_ts.between(span["lo"], span["hi"]),
                tuple_(table.c.signal_ts, table.c.signal_id, table.c.horizon_s).in_([tuple(key) for key in keys]),
            )
            .returning(table.c.status)
        )
        result = await session.execute(stmt)
    statuses = list(result.scalars())
    lowered = {
        column: getattr(Bot, column) - sum(1 for s in statuses if s == status)
        for status, column in _OUTCOME_COUNTERS.items()
    }
    await session.execute(update(Bot).where(Bot.id == bot_id).values(lowered))
    return len(statuses)


_DELETE_OUTCOMES_PG = text(
    "DELETE FROM signal_outcomes AS o "
    "USING unnest(CAST(:ts AS int8[]), CAST(:sids AS int8[]), CAST(:hs AS int4[])) AS k(ts, sid, h) "
    "WHERE o.bot_id = :bot AND o.signal_ts BETWEEN :lo AND :hi "
    "AND o.signal_ts = k.ts AND o.signal_id = k.sid AND o.horizon_s = k.h "
    "RETURNING o.status"
)


async def record_run(session: AsyncSession, bot_id: str, run_ms: int, cutoff_ms: int | None) -> None:
    """Note a completed retention run on the bot row (what /health and ``retention_overdue`` read)."""
    values: dict[str, Any] = {"retention_run_ms": run_ms}
    if cutoff_ms is not None:
        values["retention_cutoff_ms"] = cutoff_ms
    await session.execute(update(Bot).where(Bot.id == bot_id).values(values))
