"""SQLite: how long the retention job holds the write lock at a time (issue 15: batched deletes).

Builds a SQLite database with one bot holding ``--days`` days of price marks (``--marks`` a day over 10
symbols) and one signal per minute with 5 outcomes each, runs the real retention job
(``core.services.retention.apply_retention``) with a retention of one day, and times every write
transaction it commits (begin to commit, SQLAlchemy engine events): the longest is how long ingest
can be kept waiting. Baseline in the same run: one plain ``DELETE ... WHERE ts < cutoff`` per table
of the same rows in a single transaction, what a naive job would hold the lock for.

    .venv/bin/python bench/retention_lock.py [--days 4] [--marks 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from sqlalchemy import event, text  # noqa: E402

from core.services import bots, retention  # noqa: E402
from core.services.auth import Principal  # noqa: E402
from core.services.context import ServiceContext  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.store import outcome_store  # noqa: E402
from core.store.db import upgrade  # noqa: E402

DAY = 86_400_000
T0 = 1_767_225_600_000
ADMIN = Principal("bench", "admin")


async def build(url: str, args: argparse.Namespace) -> None:
    await upgrade(url)
    ctx = ServiceContext.create(Settings(database_url=url))  # type: ignore[arg-type]
    try:
        await bots.create_bot(ctx, ADMIN, "b", None, {"lookback": "1h", "horizons": ["1m"], "retention": "1d"})
        n_marks = args.marks * args.days
        ts = T0 + np.arange(n_marks, dtype=np.int64) * (DAY * args.days // n_marks)
        n_sig = args.days * 1440
        sig_ts = T0 + np.arange(n_sig, dtype=np.int64) * 60_000
        async with ctx.engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO price_marks (bot_id, symbol, ts, price) VALUES ('b', ?, ?, 100.0)",
                [(f"S{i % 10}", int(t)) for i, t in enumerate(ts)],
            )
            await conn.exec_driver_sql(
                "INSERT INTO signals (id, bot_id, event_id, ts, symbol, direction, price, conviction, component_ids, "
                "component_values, decision) VALUES (?, 'b', ?, ?, 'S0', 'long', 100.0, 0.5, '[]', '[]', 'executed')",
                [(i + 1, f"s{i}", int(t)) for i, t in enumerate(sig_ts)],
            )
            await conn.exec_driver_sql(
                "UPDATE bots SET price_count = ?, signal_count = ?, watermark_ms = ? WHERE id = 'b'",
                (n_marks, n_sig, int(ts[-1])),
            )
        horizons = np.array([60, 300, 900, 1800, 3600], dtype=np.int64)
        batch = outcome_store.OutcomeBatch(
            "b",
            np.repeat(sig_ts, 5),
            np.repeat(np.arange(1, n_sig + 1, dtype=np.int64), 5),
            np.tile(horizons, n_sig),
            np.array(["resolved"] * (n_sig * 5), dtype=object),
            np.zeros(n_sig * 5),
            np.zeros(n_sig * 5, dtype=np.int64),
            np.array([None] * (n_sig * 5), dtype=object),
        )
        async with ctx.sessions.begin() as session:
            await outcome_store.insert_outcomes(session, batch)
            await session.execute(text("UPDATE bots SET resolved_count = :n WHERE id = 'b'"), {"n": n_sig * 5})
    finally:
        await ctx.close()


async def timed_retention(url: str) -> tuple[list[float], dict[str, int], float]:
    ctx = ServiceContext.create(Settings(database_url=url))  # type: ignore[arg-type]
    held: list[float] = []
    opened: dict[int, float] = {}

    def began(conn: Any) -> None:
        opened[id(conn)] = time.perf_counter()

    def committed(conn: Any) -> None:
        start = opened.pop(id(conn), None)
        if start is not None:
            held.append(time.perf_counter() - start)

    event.listen(ctx.engine.sync_engine, "begin", began)
    event.listen(ctx.engine.sync_engine, "commit", committed)
    try:
        began_at = time.perf_counter()
        result = await retention.apply_retention(ctx, "b")
        return held, result.removed, time.perf_counter() - began_at
    finally:
        await ctx.close()


async def naive(url: str, cutoff: int) -> float:
    ctx = ServiceContext.create(Settings(database_url=url))  # type: ignore[arg-type]
    try:
        began = time.perf_counter()
        async with ctx.engine.begin() as conn:
            await conn.exec_driver_sql("DELETE FROM signal_outcomes WHERE bot_id = 'b' AND signal_ts < ?", (cutoff,))
            for table in ("signals", "trades", "price_marks"):
                await conn.exec_driver_sql(f"DELETE FROM {table} WHERE bot_id = 'b' AND ts < ?", (cutoff,))
        return time.perf_counter() - began
    finally:
        await ctx.close()


async def main(args: argparse.Namespace) -> None:
    print(f"load average {os.getloadavg()[0]:.2f}; {args.days} days x {args.marks:,} marks, 1 signal/min x 5 outcomes")
    workdir = Path(tempfile.mkdtemp(prefix="el_bench_retention_"))
    try:
        path = workdir / "a.db"
        await build(f"sqlite+aiosqlite:///{path}", args)
        shutil.copy(path, workdir / "b.db")
        held, removed, total = await timed_retention(f"sqlite+aiosqlite:///{path}")
        watermark = T0 + args.days * DAY - DAY * args.days // (args.marks * args.days)
        baseline = await naive(f"sqlite+aiosqlite:///{workdir / 'b.db'}", watermark - DAY)
        rows = sum(removed.values())
        print(f"retention job: removed {rows:,} rows ({removed}) in {total:.2f} s, {len(held)} write transactions")
        print(f"write lock held per transaction: longest {max(held) * 1000:.0f} ms, "
              f"median {statistics.median(held) * 1000:.0f} ms")  # fmt: skip
        print(f"baseline, one DELETE per table in one transaction: lock held {baseline * 1000:,.0f} ms "
              f"({baseline / max(held):.0f}x the longest chunk)")  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--marks", type=int, default=100_000)
    asyncio.run(main(parser.parse_args()))
