"""End-to-end learning cycle on PostgreSQL: load + compute + write, through the real service layer.

    .venv/bin/python bench/cycle_pg.py [--signals N] [--components C] [--symbols S] [--marks M] [--trades T]
                                       [--scaling]

Defaults as ``bench/cycle.py``: 1,000,000 signals, 20 components, 50 symbols, 5 horizons,
10,000,000 price marks, 100,000 trades over 7 days (``build_market``).

Self-contained: creates database ``el_bench_cycle_<pid>`` (migrated with the project's Alembic
migration), creates a bot through ``core.services.bots.create_bot``, COPYs the market into
``signals``, ``trades`` and ``price_marks`` (setup, timed but not part of the figure), sets the
bot's watermark, ``VACUUM ANALYZE``s, then runs a ``comprehensive`` cycle through
``cycles.trigger_cycle`` + ``cycles.execute_cycle`` (what a worker runs) twice:

 (i)  cold: no outcomes stored yet, the cycle resolves and writes all ~5M (signal, horizon) outcomes;
 (ii) steady: a second cycle right after (every pair in the window stored but the pending ones).

The setup and each cycle run in fresh child processes, so a cycle's peak RSS (``ru_maxrss``) is
its own. The phases are timed by wrapping ``cycle_run._snapshot`` (load), ``_compute`` (compute:
resolution, then the learners while the new outcomes are written beside them in a transaction of
their own) and ``_record`` (write: version + cycle record + audit, one transaction). The "inside"
line times the storage reads and decoding, ``learn`` (the engine after resolution) and
``store_resolution`` / ``insert_outcomes`` (the outcome write); the outcome and component reads
overlap the signal read (connections of their own). The baseline, measured in the same run: raw
``COPY (SELECT ...) TO STDOUT`` (binary, bytes only, no decoding) of the rows a full load reads:
the window's signals, trades, price marks and stored outcomes (cold: signals + trades + marks;
steady: signals + trades + outcomes). ``--scaling`` repeats the cold cycle at 1/10 of the size in
a second database.

Target (issue): end to end <= 20 s, peak RSS <= 3 GB; loading's share reported.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python bench/cycle_pg.py`: import the shared helpers as bench.*

from bench.ingest import SIGNAL_COLS, load_line, sa_url, scratch_database  # noqa: E402

BOT = "bench"
TARGET_S = 20.0
TARGET_RSS_MB = 3072.0
T = TypeVar("T")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- setup: bot, COPY of the market ----------------------------------------------------------------


def _binary_copy(columns: list[tuple[str, np.ndarray[Any, Any]]]) -> bytes:
    """PostgreSQL binary COPY data for fixed-width columns: ``(kind, values)`` with kind "int8",
    "float8" or "text" (a numpy bytes array whose items all have the same length)."""
    n = len(columns[0][1])
    fields: list[tuple[str, str]] = [("n", ">i2")]
    values: dict[str, Any] = {"n": len(columns)}
    for i, (kind, array) in enumerate(columns):
        if kind == "text":
            width = array.dtype.itemsize
            fields += [(f"l{i}", ">i4"), (f"v{i}", f"S{width}")]
            values[f"l{i}"], values[f"v{i}"] = width, array
        else:
            fields += [(f"l{i}", ">i4"), (f"v{i}", ">i8" if kind == "int8" else ">f8")]
            values[f"l{i}"], values[f"v{i}"] = 8, array
    rows = np.empty(n, dtype=np.dtype(fields))
    for name, value in values.items():
        rows[name] = value
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rows.tobytes() + b"\xff\xff"


def _price_copy(prices: pd.DataFrame) -> list[bytes]:
    """Binary COPY chunks of ``price_marks`` (bot_id, symbol, ts, price), one per symbol run."""
    symbol = prices["symbol"].to_numpy(dtype=object)
    change = np.flatnonzero(symbol[1:] != symbol[:-1]) + 1
    bounds = [0, *change.tolist(), len(symbol)]
    ts, price = prices["ts"].to_numpy(np.int64), prices["price"].to_numpy(np.float64)
    chunks = []
    for lo, hi in itertools.pairwise(bounds):
        n = hi - lo
        chunks.append(
            _binary_copy(
                [
                    ("text", np.full(n, BOT.encode())),
                    ("text", np.full(n, str(symbol[lo]).encode())),
                    ("int8", ts[lo:hi]),
                    ("float8", price[lo:hi]),
                ]
            )
        )
    return chunks


def _records(frame: pd.DataFrame, columns: list[str], extra: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    data = []
    for name in columns:
        if name in extra:
            data.append(extra[name])
            continue
        values = frame[name].to_numpy(dtype=object)
        data.append([None if (isinstance(v, float) and v != v) else v for v in values.tolist()])
    return list(zip(*data, strict=True))


async def load_market(dsn: str, args: argparse.Namespace) -> dict[str, int]:
    """Create the bot (service layer) and COPY a ``build_market`` into its tables; returns row counts."""
    from bench.cycle import build_market
    from core.services import bots
    from core.services.auth import Principal
    from core.services.context import ServiceContext
    from core.settings import Settings

    t0 = time.perf_counter()
    market = build_market(
        args.signals, n_components=args.components, n_symbols=args.symbols, n_marks=args.marks, n_trades=args.trades
    )
    signals, trades, prices = market.signals, market.trades, market.prices
    comp = market.components
    names = [str(c) for c in comp.columns]
    scores = comp.to_numpy()
    present = ~np.isnan(scores)
    del market, comp
    built = time.perf_counter() - t0

    ctx = ServiceContext.create(Settings(database_url=sa_url(dsn), redis_url=None))  # type: ignore[arg-type]
    try:
        await bots.create_bot(ctx, Principal("bench", "admin"), BOT, "cycle bench", None)
    finally:
        await ctx.close()

    conn = await asyncpg.connect(dsn)
    try:
        # Setup only: skip the per-row foreign-key triggers (the bot exists; rows are generated).
        await conn.execute("SET session_replication_role = replica")
        # Components as the API stores them: ids from the bot's component_names, and the scores.
        await conn.executemany("INSERT INTO component_names (bot_id, name) VALUES ($1, $2)", [(BOT, n) for n in names])
        code = dict(await conn.fetch("SELECT name, id FROM component_names WHERE bot_id = $1", BOT))
        codes = np.array([code[n] for n in names], dtype=np.int64)
        component_ids = [codes[row].tolist() for row in present]
        component_values = [values[row].tolist() for values, row in zip(scores, present, strict=True)]
        del scores, present
        sig_cols = list(SIGNAL_COLS)
        n = len(signals)
        extra = {"bot_id": [BOT] * n, "component_ids": component_ids, "component_values": component_values}
        rows = _records(signals, sig_cols, extra)
        await conn.copy_records_to_table("signals", records=rows, columns=sig_cols)
        del rows, component_ids, component_values, extra
        trade_cols = ["bot_id", *(c for c in trades.columns)]
        rows = _records(trades, trade_cols, {"bot_id": [BOT] * len(trades)})
        await conn.copy_records_to_table("trades", records=rows, columns=trade_cols)
        del rows
        for chunk in _price_copy(prices):
            await conn.copy_to_table(
                "price_marks", source=io.BytesIO(chunk), columns=["bot_id", "symbol", "ts", "price"], format="binary"
            )
        watermark = int(prices["ts"].max())
        await conn.execute("UPDATE bots SET watermark_ms = $1 WHERE id = $2", watermark, BOT)
        copied = time.perf_counter() - t0 - built
        for table in ("signals", "component_names", "trades", "price_marks", "signal_outcomes"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        counts = {
            t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in ("signals", "trades", "price_marks")
        }
    finally:
        await conn.close()
    print(
        f"setup: built the market in {built:.1f} s, COPY {copied:.1f} s, VACUUM ANALYZE "
        f"{time.perf_counter() - t0 - built - copied:.1f} s; rows {counts}"
    )
    return counts


# --- one cycle, in a child process -------------------------------------------------------------------


def _timed(phases: dict[str, float], name: str, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0

    return wrapper


def _timed_sync(phases: dict[str, float], name: str, fn: Callable[..., T]) -> Callable[..., T]:
    def wrapper(*args: Any, **kwargs: Any) -> T:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0

    return wrapper


class _RunHere:
    """Job queue stand-in: the bench runs the queued cycle itself, right after queueing it."""

    backend = "bench"

    async def enqueue_cycle(self, bot_id: str, cycle_id: str) -> None:
        return None

    async def enqueue_resolve(self, bot_id: str) -> None:
        return None

    async def enqueue_retention(self, bot_id: str) -> None:
        return None


async def child_cycle(dsn: str) -> dict[str, Any]:
    """Queue and run one comprehensive cycle through the service layer; phases, counts, peak RSS."""
    from core.services import cycle_run, cycles, learning_data
    from core.services.auth import Principal
    from core.services.context import ServiceContext
    from core.settings import Settings
    from core.store import bulk, outcome_store, pgcopy
    from core.store import components as components_store

    phases: dict[str, float] = {}
    marks: dict[str, float] = {}
    snapshot = cycle_run._snapshot

    async def snapshot_then_rss(*args: Any, **kwargs: Any) -> Any:
        result = await snapshot(*args, **kwargs)
        marks["rss_after_load_mb"] = peak_rss_mb()
        return result

    cycle_run._snapshot = _timed(phases, "load", snapshot_then_rss)  # type: ignore[method-assign]
    cycle_run._compute = _timed(phases, "compute", cycle_run._compute)  # type: ignore[method-assign]
    cycle_run._record = _timed(phases, "write", cycle_run._record)  # type: ignore[method-assign]
    detail: dict[str, float] = {}  # inside load and write; the outcome read overlaps the signal read
    for name in ("read_signals", "read_components", "read_trades", "read_outcomes", "read_marks"):
        setattr(bulk, name, _timed(detail, name, getattr(bulk, name)))
    outcome_store.insert_outcomes = _timed(detail, "insert_outcomes", outcome_store.insert_outcomes)
    cycle_run._learn = _timed_sync(detail, "learn", cycle_run._learn)  # type: ignore[method-assign]
    cycle_run.store_resolution = _timed(detail, "store_resolution", cycle_run.store_resolution)
    components_store.from_padded = _timed_sync(detail, "decode_components", components_store.from_padded)
    pgcopy.decode_csv = _timed_sync(detail, "decode_csv", pgcopy.decode_csv)
    for name in ("outcomes_frame", "components_frame"):
        setattr(learning_data, name, _timed_sync(detail, name, getattr(learning_data, name)))
    from workers.allocator import keep_freed_memory

    settings = Settings(database_url=sa_url(dsn), redis_url=None)  # type: ignore[arg-type]
    keep_freed_memory(settings.keep_freed_memory_mb)  # as the worker that runs the cycle does
    ctx = ServiceContext.create(settings)
    ctx.jobs = _RunHere()
    rss0 = peak_rss_mb()
    try:
        t0 = time.perf_counter()
        queued = await cycles.trigger_cycle(ctx, Principal("bench", "admin"), BOT, "comprehensive", False)
        record = await cycles.execute_cycle(ctx, BOT, queued.cycle_id)
        total = time.perf_counter() - t0
    finally:
        await ctx.close()
    assert record is not None
    if record.status != "succeeded":
        raise RuntimeError(f"cycle {record.status}: {record.error}")
    return {
        "total": total,
        **phases,
        "detail": detail,
        "rss_mb": peak_rss_mb(),
        "rss_start_mb": rss0,
        **marks,
        "inputs": record.inputs,
        "changes": len(record.changes),
        "applied_version": record.applied_version,
    }


def run_child(*argv: str) -> dict[str, Any]:
    """Run this script with ``argv`` in a fresh process; its last stdout line is the JSON result.

    A child's ``ru_maxrss`` starts from its parent's size at the fork (Linux keeps the high-water mark
    across exec), so the parent stays small: the market is built and copied in a child as well.
    """
    out = subprocess.run([sys.executable, __file__, *argv], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    lines = out.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# --- baseline: raw COPY TO STDOUT of the same rows ---------------------------------------------------


async def copy_baseline(dsn: str, since_ms: int, until_ms: int) -> dict[str, tuple[float, int]]:
    """Seconds and bytes of ``COPY (SELECT ...) TO STDOUT (FORMAT binary)`` per table of the window."""
    from core.store import bulk

    queries = {
        "signals": f"SELECT {', '.join(bulk.SIGNAL_READ)}, component_ids, component_values FROM signals "
        f"WHERE bot_id = '{BOT}' "
        f"AND ts BETWEEN {since_ms} AND {until_ms} ORDER BY ts, event_id",
        "trades": f"SELECT {', '.join(bulk.TRADE_READ)} FROM trades WHERE bot_id = '{BOT}' "
        f"AND ts BETWEEN {since_ms} AND {until_ms} ORDER BY ts, event_id",
        "price_marks": f"SELECT symbol, ts, price FROM price_marks WHERE bot_id = '{BOT}' "
        f"AND ts BETWEEN {since_ms} AND {until_ms} ORDER BY symbol, ts",
        "signal_outcomes": f"SELECT {', '.join(bulk.OUTCOME_READ)} FROM signal_outcomes WHERE bot_id = '{BOT}' "
        f"AND signal_ts BETWEEN {since_ms} AND {until_ms}",
    }
    out: dict[str, tuple[float, int]] = {}
    conn = await asyncpg.connect(dsn)
    try:
        for table, query in queries.items():
            size = 0

            async def sink(chunk: bytes) -> None:
                nonlocal size
                size += len(chunk)

            t0 = time.perf_counter()
            await conn.copy_from_query(query, output=sink, format="binary")
            out[table] = (time.perf_counter() - t0, size)
    finally:
        await conn.close()
    return out


async def window_of(dsn: str) -> tuple[int, int]:
    from core.schemas.config import LearningConfig

    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT watermark_ms, config FROM bots WHERE id = $1", BOT)
    finally:
        await conn.close()
    config = LearningConfig.model_validate(json.loads(row["config"]))
    return row["watermark_ms"] - config.lookback_seconds() * 1000, row["watermark_ms"]


# --- report --------------------------------------------------------------------------------------------


def describe(name: str, r: dict[str, Any], baseline_s: float) -> str:
    total, load = r["total"], r.get("load", 0.0)
    rest = total - load - r.get("compute", 0.0) - r.get("write", 0.0)
    inputs = r["inputs"]
    return (
        f"{name}: total {total:.2f} s = load {load:.2f} s ({load / total:.0%}) + compute {r.get('compute', 0):.2f} s "
        f"+ write {r.get('write', 0):.2f} s + claim/other {rest:.2f} s; peak RSS {r['rss_mb']:.0f} MB "
        f"({r.get('rss_after_load_mb', 0):.0f} MB by the end of the load); "
        f"load vs raw COPY {baseline_s:.2f} s: {load / max(baseline_s, 1e-9):.1f}x\n"
        f"    inputs: signals {inputs.get('signals_total', 0):,}, trades {inputs.get('trades', 0):,}, "
        f"marks loaded {inputs.get('marks_read', 0):,}, new outcomes {inputs.get('new_outcomes', 0):,}, "
        f"outcomes {inputs.get('outcomes', 0):,}, gaps {inputs.get('gaps', 0):,}, "
        f"pending {inputs.get('pending', 0):,}; "
        f"{r['changes']} changes, applied version {r['applied_version']}\n"
        f"    inside: {', '.join(f'{k} {v:.2f} s' for k, v in r['detail'].items())}"
    )


async def bench(args: argparse.Namespace, signals: int, label: str) -> dict[str, Any]:
    scaled = argparse.Namespace(**{**vars(args), "signals": signals})
    scaled.marks = args.marks * signals // args.signals
    scaled.trades = max(args.trades * signals // args.signals, 1)
    name = f"el_bench_cycle_{os.getpid()}_{label}"
    async with scratch_database(name) as dsn:
        sizes = ["--signals", str(signals), "--components", str(args.components), "--symbols", str(args.symbols)]
        sizes += ["--marks", str(scaled.marks), "--trades", str(scaled.trades)]
        await asyncio.to_thread(run_child, *sizes, "--setup", dsn)
        since, until = await window_of(dsn)
        print(f"[{label}] before the cold cycle: {load_line()}")
        cold = await asyncio.to_thread(run_child, "--child", dsn)
        print(f"[{label}] before the steady cycle: {load_line()}")
        steady = await asyncio.to_thread(run_child, "--child", dsn)
        base = await copy_baseline(dsn, since, until)
    return {"cold": cold, "steady": steady, "baseline": base}


async def main(args: argparse.Namespace) -> int:
    print(
        f"signals={args.signals:,} components={args.components} symbols={args.symbols} marks={args.marks:,} "
        f"trades={args.trades:,}; {load_line()}"
    )
    full = await bench(args, args.signals, "full")
    base = full["baseline"]
    for table, (seconds, size) in base.items():
        print(f"baseline COPY TO STDOUT {table}: {seconds:.2f} s, {size / 2**20:.0f} MiB")
    full_read = sum(s for t, (s, _) in base.items() if t != "signal_outcomes")
    steady_read = sum(s for t, (s, _) in base.items() if t != "price_marks")
    print(describe("(i) cold", full["cold"], full_read) + "   [baseline: signals + trades + all marks]")
    print(describe("(ii) steady", full["steady"], steady_read) + "   [baseline: signals + trades + outcomes]")
    for name, r in (("cold", full["cold"]), ("steady", full["steady"])):
        ok = r["total"] <= TARGET_S and r["rss_mb"] <= TARGET_RSS_MB
        print(
            f"{name}: {r['total']:.2f} s (target <= {TARGET_S:.0f} s), peak RSS {r['rss_mb']:.0f} MB "
            f"(target <= {TARGET_RSS_MB:.0f} MB) -> {'MET' if ok else 'NOT MET'}"
        )
    if args.scaling:
        small = await bench(args, args.signals // 10, "tenth")
        a, b = small["cold"]["total"], full["cold"]["total"]
        print(
            f"scaling (cold, end to end): {args.signals // 10:,} signals {a:.2f} s vs {args.signals:,} signals "
            f"{b:.2f} s: {b / max(a, 1e-9):.1f}x for 10x the data"
        )
    print(f"after: {load_line()}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    from bench.cycle import add_market_args

    add_market_args(ap)
    ap.add_argument("--scaling", action="store_true", help="also run the cold cycle at 1/10 of the size")
    ap.add_argument("--setup", metavar="DSN", help=argparse.SUPPRESS)
    ap.add_argument("--child", metavar="DSN", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.marks = args.marks or 10 * args.signals
    args.trades = args.trades or max(args.signals // 10, 1)
    return args


if __name__ == "__main__":
    parsed = parse_args()
    if parsed.setup:
        print(json.dumps(asyncio.run(load_market(parsed.setup, parsed))))
        sys.exit(0)
    if parsed.child:
        print(json.dumps(asyncio.run(child_cycle(parsed.child))))
        sys.exit(0)
    sys.exit(asyncio.run(main(parsed)))
