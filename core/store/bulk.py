"""Columnar bulk reads and writes of the learning loop: signals, components, trades, marks, outcomes.

Each read returns numpy columns (int64, float64, or object arrays of str/None), the same on both
databases; ``core/services/learning_data.py`` turns them into the engine's frames.

- PostgreSQL: ``COPY (SELECT ...) TO STDOUT`` through the session's asyncpg connection, inside the
  session's transaction. Numbers-only results come in the binary format for ``numpy.frombuffer``:
  outcomes and component scores (arrays padded to one width) as fixed-width rows decoded while
  they stream, marks aggregated into one row of arrays per symbol; rows with text come as CSV for
  pandas' C reader. No Python object is made per value except the strings themselves.
- SQLite: the same selects through SQLAlchemy, the rows transposed once (component arrays are JSON
  lists there, parsed by one ``orjson.loads`` per column).

Reads that must line up (a signal's row, its components, its outcomes) carry ``signals.id`` and
are joined on it, so statements that see different snapshots (READ COMMITTED) never misalign.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Table, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core.store import components as components_store
from core.store import pgcopy
from core.store.components import Components
from core.store.models import ComponentName, PriceMark, Signal, SignalOutcome, Trade

T = TypeVar("T")
SIGNALS: Table = Signal.__table__  # type: ignore[assignment]
TRADES: Table = Trade.__table__  # type: ignore[assignment]
PRICES: Table = PriceMark.__table__  # type: ignore[assignment]
OUTCOMES: Table = SignalOutcome.__table__  # type: ignore[assignment]

# Column kinds (core/store/pgcopy.py): "int" (int64), "float" (float64, NULL -> NaN), "str" (object, NULL -> None).
SIGNAL_READ: dict[str, str] = {
    "event_id": "str",
    "ts": "int",
    "symbol": "str",
    "direction": "str",
    "price": "float",
    "conviction": "float",
    "decision": "str",
    "blocked_by": "str",
    "strategy": "str",
    "expected_edge_bps": "float",
    "regime": "str",
}
TRADE_READ: dict[str, str] = {
    "event_id": "str",
    "symbol": "str",
    "direction": "str",
    "opened_at": "int",
    "ts": "int",
    "entry_price": "float",
    "exit_price": "float",
    "quantity": "float",
    "pnl": "float",
    "fees": "float",
    "strategy": "str",
    "conviction": "float",
    "signal_event_id": "str",
    "venue": "str",
    "regime": "str",
}
# Stored outcome statuses and reasons travel as small codes (index into these; reason 0 = NULL).
STATUSES: tuple[str, ...] = ("resolved", "gap")
REASONS: tuple[str | None, ...] = (None, "no_marks", "missing_mark")


def is_postgres(session: AsyncSession | AsyncConnection) -> bool:
    bind = session.get_bind() if isinstance(session, AsyncSession) else session
    return bind.dialect.name == "postgresql"


def _transpose(rows: Sequence[Sequence[Any]], kinds: dict[str, str]) -> pgcopy.Columns:
    """SQLAlchemy rows -> columns of the given kinds (one C-level transpose, no per-value Python)."""
    if not rows:
        return {name: pgcopy.empty_column(kind) for name, kind in kinds.items()}
    columns = list(zip(*rows, strict=True))
    out: pgcopy.Columns = {}
    for (name, kind), values in zip(kinds.items(), columns, strict=True):
        if kind == "int":
            out[name] = np.array(values, dtype=np.int64)
        elif kind == "float":
            out[name] = np.array(values, dtype=np.float64)  # None -> NaN
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            out[name] = array
    return out


# --- reads ----------------------------------------------------------------------------------------


def _window(table: Table, bot_id: str, since_ms: int, until_ms: int) -> Any:
    return (table.c.bot_id == bot_id) & table.c.ts.between(since_ms, until_ms)


_WINDOW_PG = "bot_id = $1::text AND ts BETWEEN $2::int8 AND $3::int8"


async def read_signals(
    session: AsyncSession, bot_id: str, since_ms: int, until_ms: int
) -> tuple[NDArray[np.int64], pgcopy.Columns]:
    """Signals with since <= ts <= until in (ts, event_id) order: (``signals.id``, ``SIGNAL_READ`` columns)."""
    kinds = {"id": "int", **SIGNAL_READ}
    if is_postgres(session):
        query = f"SELECT id, {', '.join(SIGNAL_READ)} FROM signals WHERE {_WINDOW_PG} ORDER BY ts, event_id"
        data = await pgcopy.copy_out(session, query, bot_id, since_ms, until_ms, fmt="csv")
        columns = await asyncio.to_thread(pgcopy.decode_csv, data, kinds)
    else:
        stmt = (
            select(SIGNALS.c.id, *(SIGNALS.c[name] for name in SIGNAL_READ))
            .where(_window(SIGNALS, bot_id, since_ms, until_ms))
            .order_by(SIGNALS.c.ts, SIGNALS.c.event_id)
        )
        columns = _transpose((await session.execute(stmt)).all(), kinds)
    ids = columns.pop("id")
    return ids, columns


async def component_names(conn: AsyncSession | AsyncConnection, bot_id: str) -> dict[int, str]:
    table: Table = ComponentName.__table__  # type: ignore[assignment]
    stmt = select(table.c.id, table.c.name).where(table.c.bot_id == bot_id)
    return dict((await conn.execute(stmt)).all())


# Every signal's ids and scores padded to the window's widest (-1 and NaN): fixed-width rows that
# stream into numpy. Signals wider than that (stored after the width was read) are not in the
# caller's signal read either.
_COMPONENTS_PG = (
    "SELECT id, component_ids || array_fill(-1, ARRAY[$4::int4 - cardinality(component_ids)]), "
    "component_values || array_fill('NaN'::float8, ARRAY[$4::int4 - cardinality(component_ids)]) "
    f"FROM signals WHERE {_WINDOW_PG} AND cardinality(component_ids) <= $4::int4"
)


async def read_components(
    session: AsyncSession, bot_id: str, since_ms: int, until_ms: int, *, apart: bool = False
) -> Components:
    """Component scores of the signals with since <= ts <= until, keyed by ``signals.id`` (any order).
    ``apart``: as for ``read_outcomes``."""
    if is_postgres(session):
        return await read_on(session, apart, lambda conn: _components_pg(conn, bot_id, since_ms, until_ms))
    stmt = select(SIGNALS.c.id, cast(SIGNALS.c.component_ids, Text), cast(SIGNALS.c.component_values, Text)).where(
        _window(SIGNALS, bot_id, since_ms, until_ms)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return components_store.empty()
    names = await component_names(session, bot_id)
    signal_ids, id_lists, value_lists = zip(*rows, strict=True)
    ids = np.array(signal_ids, dtype=np.int64)
    return components_store.from_json_lists(ids, list(id_lists), list(value_lists), names)


async def _components_pg(conn: AsyncConnection, bot_id: str, since_ms: int, until_ms: int) -> Components:
    widest = select(func.max(func.cardinality(SIGNALS.c.component_ids))).where(
        _window(SIGNALS, bot_id, since_ms, until_ms)
    )
    width = (await conn.execute(widest)).scalar_one_or_none()
    if not width:
        return components_store.empty()
    names = await component_names(conn, bot_id)
    types = ("int8", f"int4[{width}]", f"float8[{width}]")
    ids, codes, values = await pgcopy.copy_fixed(conn, _COMPONENTS_PG, bot_id, since_ms, until_ms, width, types=types)
    return await asyncio.to_thread(components_store.from_padded, ids, codes, values, names)


async def read_trades(session: AsyncSession, bot_id: str, since_ms: int, until_ms: int) -> pgcopy.Columns:
    """Trades closed within [since, until], in (ts, event_id) order, columns as ``TRADE_READ``."""
    if is_postgres(session):
        query = f"SELECT {', '.join(TRADE_READ)} FROM trades WHERE {_WINDOW_PG} ORDER BY ts, event_id"
        data = await pgcopy.copy_out(session, query, bot_id, since_ms, until_ms, fmt="csv")
        return await asyncio.to_thread(pgcopy.decode_csv, data, TRADE_READ)
    stmt = (
        select(*(TRADES.c[name] for name in TRADE_READ))
        .where(_window(TRADES, bot_id, since_ms, until_ms))
        .order_by(TRADES.c.ts, TRADES.c.event_id)
    )
    return _transpose((await session.execute(stmt)).all(), TRADE_READ)


OUTCOME_READ: dict[str, str] = {
    "signal_id": "int",
    "horizon_s": "int",
    "status": "str",
    "ret": "float",
    "mark_ts": "int",
    "reason": "str",
}
# One row per outcome, every column fixed width (status and reason as codes into STATUSES/REASONS,
# 0 = a value outside them): decoded while it streams. One range of the primary key: no join.
_OUTCOMES_PG = (
    "SELECT o.signal_id, o.horizon_s, coalesce(array_position($4::text[], o.status::text), 0)::int2, "
    "coalesce(o.ret, 'NaN'::float8), o.mark_ts, "
    "(CASE WHEN o.reason IS NULL THEN 1 ELSE coalesce(array_position($5::text[], o.reason::text) + 1, 0) END)::int2 "
    "FROM signal_outcomes o WHERE o.bot_id = $1::text AND o.signal_ts BETWEEN $2::int8 AND $3::int8"
)


def outcomes_select(bot_id: str, since_ms: int, until_ms: int) -> Any:
    """Stored outcomes of the signals with since <= ts <= until, in primary-key order (signal ts,
    signal id, horizon_s): each signal's outcomes together."""
    return (
        select(*(OUTCOMES.c[name] for name in OUTCOME_READ))
        .where(OUTCOMES.c.bot_id == bot_id, OUTCOMES.c.signal_ts.between(since_ms, until_ms))
        .order_by(OUTCOMES.c.signal_ts, OUTCOMES.c.signal_id, OUTCOMES.c.horizon_s)
    )


async def read_outcomes(
    session: AsyncSession, bot_id: str, since_ms: int, until_ms: int, *, apart: bool = False
) -> pgcopy.Columns:
    """Stored outcomes of the window's signals, columns as ``OUTCOME_READ`` (``signal_id`` = ``signals.id``).

    ``apart``: on PostgreSQL, read on a connection of its own (its own snapshot), so the caller may
    keep using ``session`` meanwhile: the scan runs in the server while the caller decodes signals.
    Each signal's outcomes come together, in the order of the primary key (or of the table, when
    the planner scans it whole); the caller orders them by its signal rows.
    """
    if not is_postgres(session):
        return _transpose((await session.execute(outcomes_select(bot_id, since_ms, until_ms))).all(), OUTCOME_READ)
    return await read_on(session, apart, lambda conn: _outcomes_pg(conn, bot_id, since_ms, until_ms))


async def read_on(session: AsyncSession, apart: bool, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """``read`` on the session's connection, or (``apart``) on a connection of its own whose transaction
    only runs this read: no JIT (it compiles for longer than these scans run), no parallel workers,
    whose interleaved rows would break up each signal's outcomes (the caller's fast path)."""
    engine = session.bind
    if not (apart and isinstance(engine, AsyncEngine)):
        return await read(await session.connection())
    async with engine.connect() as conn:
        for setting in ("jit = off", "max_parallel_workers_per_gather = 0"):
            await conn.exec_driver_sql(f"SET LOCAL {setting}")
        return await read(conn)


async def _outcomes_pg(conn: AsyncConnection, bot_id: str, since_ms: int, until_ms: int) -> pgcopy.Columns:
    statuses, reasons = list(STATUSES), [r for r in REASONS if r is not None]
    args = (bot_id, since_ms, until_ms, statuses, reasons)
    types = ("int8", "int4", "int2", "float8", "int8", "int2")
    sid, horizon, status, ret, mark, reason = await pgcopy.copy_fixed(conn, _OUTCOMES_PG, *args, types=types)
    if status.size and (status.min() == 0 or reason.min() == 0):  # a value outside the tables: read as text
        return _transpose((await conn.execute(outcomes_select(bot_id, since_ms, until_ms))).all(), OUTCOME_READ)
    return {
        "signal_id": sid,
        "horizon_s": horizon.astype(np.int64),
        "status": np.array((None, *STATUSES), dtype=object)[status],
        "ret": ret,
        "mark_ts": mark,
        "reason": np.array((None, *REASONS), dtype=object)[reason],
    }


_MARKS_PG = (
    "SELECT ARRAY[r.i], m.ts, m.price "
    "FROM unnest($2::text[], $3::int8[], $4::int8[]) WITH ORDINALITY AS r(symbol, lo, hi, i) "
    "CROSS JOIN LATERAL (SELECT array_agg(q.ts) AS ts, array_agg(q.price) AS price FROM "
    "(SELECT p.ts, p.price FROM price_marks p WHERE p.bot_id = $1::text AND p.symbol = r.symbol "
    "AND p.ts BETWEEN r.lo AND r.hi ORDER BY p.ts {limit}) AS q) AS m"
)


async def window_symbols(conn: AsyncSession | AsyncConnection, bot_id: str, since_ms: int, until_ms: int) -> list[str]:
    """The symbols the signals with since <= ts <= until name, sorted."""
    stmt = select(SIGNALS.c.symbol).where(_window(SIGNALS, bot_id, since_ms, until_ms)).distinct()
    return sorted(str(symbol) for symbol in (await conn.execute(stmt)).scalars())


async def read_marks(
    session: AsyncSession | AsyncConnection,
    bot_id: str,
    symbols: Sequence[str],
    lo_ms: Sequence[int],
    hi_ms: Sequence[int],
    *,
    first_only: bool = False,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Marks of ``symbols[k]`` with ``lo_ms[k] <= ts <= hi_ms[k]`` (only the earliest with ``first_only``):
    (k, ts, price) in (k, ts) order."""
    if not symbols:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if is_postgres(session):
        query = _MARKS_PG.format(limit="LIMIT 1" if first_only else "")
        data = await pgcopy.copy_out(session, query, bot_id, list(symbols), list(lo_ms), list(hi_ms), fmt="binary")
        (index, ts, price), lengths = await asyncio.to_thread(pgcopy.binary_arrays, data, ("int8", "int8", "float8"))
        return np.repeat(index - 1, lengths[:, 1]), ts, price
    parts: list[pgcopy.Columns] = []
    for k, (symbol, lo, hi) in enumerate(zip(symbols, lo_ms, hi_ms, strict=True)):  # per symbol, not per mark
        stmt = (
            select(PRICES.c.ts, PRICES.c.price)
            .where(PRICES.c.bot_id == bot_id, PRICES.c.symbol == symbol, PRICES.c.ts.between(lo, hi))
            .order_by(PRICES.c.ts)
            .limit(1 if first_only else None)
        )
        part = _transpose((await session.execute(stmt)).all(), {"ts": "int", "price": "float"})
        part["k"] = np.full(part["ts"].size, k, dtype=np.int64)
        parts.append(part)
    return tuple(np.concatenate([p[name] for p in parts]) for name in ("k", "ts", "price"))  # type: ignore[return-value]
