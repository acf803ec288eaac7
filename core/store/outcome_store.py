"""Storing decided outcomes: one columnar batch per resolution or cycle, pairs already stored skipped.

PostgreSQL: ``INSERT ... SELECT FROM ROWS FROM (unnest(...))`` per 250k rows with one parameter per
column, serialized in C (numbers as array literals, ids as one JSON array, status and reason as codes);
SQLite: ``executemany`` of row tuples. The server's cost per row (the bot foreign-key check, the
primary-key index, WAL) is most of the time; nothing runs per outcome in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class OutcomeBatch:
    """Outcomes to store for one bot, as columns (``ret`` NaN = NULL, ``reason`` None = NULL)."""

    bot_id: str
    signal_event_id: NDArray[np.object_]
    horizon_s: NDArray[np.int64]
    status: NDArray[np.object_]
    ret: NDArray[np.float64]
    mark_ts: NDArray[np.int64]
    reason: NDArray[np.object_]

    def __len__(self) -> int:
        return int(self.horizon_s.size)


_INSERT_CHUNK = 250_000
_OUTCOME_INSERT_PG = text(
    "INSERT INTO signal_outcomes (bot_id, signal_event_id, horizon_s, status, ret, mark_ts, reason) "
    "SELECT CAST(:bot_id AS text), u.sid, u.h, (CAST(:statuses AS text[]))[u.st], u.ret, u.mk, "
    "(CAST(:reasons AS text[]))[u.rs] "
    "FROM ROWS FROM (json_array_elements_text(CAST(:sid AS json)), unnest(CAST(CAST(:h AS text) AS int4[])), "
    "unnest(CAST(CAST(:st AS text) AS int4[])), unnest(CAST(CAST(:ret AS text) AS float8[])), "
    "unnest(CAST(CAST(:mk AS text) AS int8[])), unnest(CAST(CAST(:rs AS text) AS int4[]))) "
    "AS u(sid, h, st, ret, mk, rs) "
    "ON CONFLICT (bot_id, signal_event_id, horizon_s) DO NOTHING"
)


def _pg_array(values: NDArray[Any]) -> str:
    """A numeric array as a PostgreSQL array literal; NaN becomes NULL (orjson writes it as null)."""
    return "{" + orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1] + "}"


def _codes(values: NDArray[np.object_]) -> tuple[NDArray[np.int64], list[str]]:
    """1-based codes into the returned table, 0 for None (an out-of-range subscript is NULL in SQL)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, [str(u) for u in uniques]


async def insert_outcomes(session: AsyncSession, batch: OutcomeBatch) -> int:
    """Store ``batch``, skipping (bot, signal, horizon) pairs already stored; returns how many were new."""
    if len(batch) == 0:
        return 0
    if session.get_bind().dialect.name != "postgresql":
        ret = batch.ret.astype(object)
        ret[np.isnan(batch.ret)] = None
        rows = zip(
            [batch.bot_id] * len(batch),
            batch.signal_event_id.tolist(),
            batch.horizon_s.tolist(),
            batch.status.tolist(),
            ret.tolist(),
            batch.mark_ts.tolist(),
            batch.reason.tolist(),
            strict=True,
        )
        conn = await session.connection()
        result = await conn.exec_driver_sql(
            "INSERT INTO signal_outcomes (bot_id, signal_event_id, horizon_s, status, ret, mark_ts, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bot_id, signal_event_id, horizon_s) DO NOTHING",
            list(rows),
        )
        return int(result.rowcount)
    status, statuses = _codes(batch.status)
    reason, reasons = _codes(batch.reason)
    stored = 0
    for lo in range(0, len(batch), _INSERT_CHUNK):
        part = slice(lo, lo + _INSERT_CHUNK)
        params = {
            "bot_id": batch.bot_id,
            "statuses": statuses,
            "reasons": reasons,
            "sid": orjson.dumps(batch.signal_event_id[part].tolist()).decode(),
            "h": _pg_array(batch.horizon_s[part]),
            "st": _pg_array(status[part]),
            "ret": _pg_array(batch.ret[part]),
            "mk": _pg_array(batch.mark_ts[part]),
            "rs": _pg_array(reason[part]),
        }
        inserted = await session.execute(_OUTCOME_INSERT_PG, params)
        stored += int(getattr(inserted, "rowcount", 0))
    if stored >= _ANALYZE_AFTER:
        await _analyze_if_grown(session, stored)
    return stored


_ANALYZE_AFTER = 10_000


async def _analyze_if_grown(session: AsyncSession, added: int) -> None:
    """ANALYZE the outcomes table when a batch grew it by more than a fifth. Until autovacuum catches up
    (a minute or more), the planner would think the table still small and join the next cycle's read
    with one index probe per outcome, ~10x slower than the hash join its statistics then choose."""
    estimate = await session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'signal_outcomes'::regclass"))
    if added > 0.2 * max(float(estimate.scalar_one()), 0.0):
        await session.execute(text("ANALYZE signal_outcomes"))
