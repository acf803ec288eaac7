"""Storing decided outcomes: one columnar batch per resolution or cycle, pairs already stored skipped.

PostgreSQL: one binary ``COPY`` straight into ``signal_outcomes``, built by numpy (rows grouped by
their status and reason, so every group is one fixed-width record array; no Python code per
outcome). Writers of one bot take a transaction-scoped advisory lock first, so the only pairs a batch
can meet already stored are those another writer stored between this writer's read and its lock
(a resolution job and a cycle racing): the COPY then fails on the primary key, is rolled back to
its savepoint, and the batch goes through a temporary table and ``INSERT ... WHERE NOT EXISTS``.
``ON CONFLICT DO NOTHING`` would have been one path, but it costs the server twice a plain insert
per row. SQLite: one JSON parameter per status, ``INSERT ... SELECT FROM json_each`` with ``ON CONFLICT
DO NOTHING`` (one writer at a time anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import orjson
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.store import pgcopy


@dataclass(frozen=True)
class OutcomeBatch:
    """Outcomes to store for one bot, as columns (``ret`` NaN = NULL, ``reason`` None = NULL)."""

    bot_id: str
    signal_ts: NDArray[np.int64]
    signal_id: NDArray[np.int64]
    horizon_s: NDArray[np.int64]
    status: NDArray[np.object_]
    ret: NDArray[np.float64]
    mark_ts: NDArray[np.int64]
    reason: NDArray[np.object_]

    def __len__(self) -> int:
        return int(self.horizon_s.size)

    def parts(self, rows: int) -> Iterator[OutcomeBatch]:
        """The batch in consecutive slices of up to ``rows`` rows."""
        for lo in range(0, len(self), rows):
            cut = slice(lo, lo + rows)
            yield OutcomeBatch(
                self.bot_id,
                self.signal_ts[cut],
                self.signal_id[cut],
                self.horizon_s[cut],
                self.status[cut],
                self.ret[cut],
                self.mark_ts[cut],
                self.reason[cut],
            )


COLUMNS = ("bot_id", "signal_ts", "signal_id", "horizon_s", "status", "ret", "mark_ts", "reason")
_KEY = "bot_id, signal_ts, signal_id, horizon_s"


def lock_key(bot_id: str) -> int:
    """The advisory lock (a signed 64-bit key) that serializes one bot's outcome writers."""
    digest = hashlib.blake2b(f"signal_outcomes:{bot_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_ROWS_PER_PART = 250_000


def copy_rows(batch: OutcomeBatch) -> Iterator[NDArray[np.void]]:
    """The batch as binary COPY rows of ``COLUMNS``, built part by part: per (status, reason, ret is
    NULL) group, ``pgcopy.fixed_rows`` blocks of up to ``_ROWS_PER_PART`` rows (text fields are the
    same in every row of a group)."""
    gone = np.isnan(batch.ret)
    status, statuses = pd.factorize(batch.status)
    reason, reasons = pd.factorize(batch.reason, use_na_sentinel=True)
    group = (status.astype(np.int64) * (len(reasons) + 1) + (reason + 1)) * 2 + gone
    bot = batch.bot_id.encode()
    for g in np.unique(group).tolist():
        members = np.flatnonzero(group == g)
        first = int(members[0])
        text_reason = batch.reason[first]
        for lo in range(0, members.size, _ROWS_PER_PART):
            at = members[lo : lo + _ROWS_PER_PART]
            yield pgcopy.fixed_rows(
                at.size,
                [
                    ("const", bot),
                    ("int8", batch.signal_ts[at]),
                    ("int8", batch.signal_id[at]),
                    ("int4", batch.horizon_s[at]),
                    ("const", str(statuses[status[first]]).encode()),
                    ("null", None) if gone[first] else ("float8", batch.ret[at]),
                    ("int8", batch.mark_ts[at]),
                    ("null", None) if text_reason is None else ("const", str(text_reason).encode()),
                ],
            )


async def insert_outcomes(session: AsyncSession, batch: OutcomeBatch) -> dict[str, int]:
    """Store ``batch``, skipping (bot, signal, horizon) pairs already stored; returns how many were new,
    by status."""
    if len(batch) == 0:
        return {}
    if session.get_bind().dialect.name != "postgresql":
        return await _insert_sqlite(session, batch)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(batch.bot_id)})
    try:
        async with session.begin_nested():
            await pgcopy.copy_in(session, "signal_outcomes", COLUMNS, copy_rows(batch))
        codes, statuses = pd.factorize(batch.status)
        return {str(status): int(n) for status, n in zip(statuses, np.bincount(codes), strict=True)}
    except sa_exc.IntegrityError:  # some pairs were stored since this writer read: skip them
        return await _insert_new_only(session, batch)


async def _insert_new_only(session: AsyncSession, batch: OutcomeBatch) -> dict[str, int]:
    await session.execute(text("CREATE TEMPORARY TABLE outcome_batch (LIKE signal_outcomes) ON COMMIT DROP"))
    await pgcopy.copy_in(session, "outcome_batch", COLUMNS, copy_rows(batch))
    inserted = await session.execute(
        text(
            f"WITH new AS (INSERT INTO signal_outcomes SELECT DISTINCT ON ({_KEY}) * FROM outcome_batch AS b "
            "WHERE NOT EXISTS (SELECT 1 FROM signal_outcomes AS o WHERE o.bot_id = b.bot_id "
            "AND o.signal_ts = b.signal_ts AND o.signal_id = b.signal_id AND o.horizon_s = b.horizon_s) "
            "RETURNING status) SELECT status, count(*) FROM new GROUP BY status"
        )
    )
    counts = {str(status): int(n) for status, n in inserted.all()}
    await session.execute(text("DROP TABLE outcome_batch"))
    return counts


async def _insert_sqlite(session: AsyncSession, batch: OutcomeBatch) -> dict[str, int]:
    """One ``INSERT ... SELECT FROM json_each(?)`` per status, so the row counts say how many of each
    were new. The rows go as one JSON document built before the statement: SQLite then inserts them
    without the Python-side binding of ``executemany``, which took the GIL once per row and, beside a
    cycle's engine thread, stretched the time the file's write lock was held (ingest waits for it)."""
    ret = batch.ret.astype(object)
    ret[np.isnan(batch.ret)] = None
    columns = (batch.signal_ts, batch.signal_id, batch.horizon_s, ret, batch.mark_ts, batch.reason)
    payloads = []
    for status in sorted(set(batch.status.tolist())):
        chosen = batch.status == status
        payloads.append(
            (status, orjson.dumps(list(zip(*(column[chosen].tolist() for column in columns), strict=True))))
        )
    conn = await session.connection()
    counts = {}
    for status, payload in payloads:
        result = await conn.exec_driver_sql(
            f"INSERT INTO signal_outcomes ({', '.join(COLUMNS)}) "
            "SELECT ?, value ->> 0, value ->> 1, value ->> 2, ?, value ->> 3, value ->> 4, value ->> 5 "
            f"FROM json_each(?) WHERE true ON CONFLICT ({_KEY}) DO NOTHING",  # WHERE: SQLite's upsert syntax
            (batch.bot_id, status, payload.decode()),
        )
        counts[str(status)] = int(result.rowcount)
    return counts
