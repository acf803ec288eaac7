"""Ingest throughput: events/s through the real REST API vs a raw asyncpg COPY baseline.

Self-contained: creates database ``el_bench_ingest_<pid>``, migrates it, serves the API with
uvicorn in a subprocess, creates a bot, posts ``--batches`` batches of ``--batch-size`` mixed
events (signals with 4 components, trades, price marks; unique ids) over ``--concurrency``
HTTP connections, then COPYs the very same rows with asyncpg into scratch tables
(``LIKE <table> INCLUDING ALL``: same columns, same unique indexes) with the same batching and
concurrency, prints both rates and the ratio, and drops the database (also on failure).

    .venv/bin/python bench/ingest.py [--batches 200] [--batch-size 1000] [--concurrency 4]

Target (issue): >= 25,000 events/s through the API on the 2-core box, ratio >= 0.25.
``--py-spy out.svg`` attaches py-spy (if installed) to the server during the API load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = os.environ.get("EL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
ADMIN_TOKEN = "bench-admin-token-" + os.urandom(8).hex()
TARGET_EPS = 25_000
TARGET_RATIO = 0.25

# --- harness: database, server ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database(name: str) -> AsyncIterator[str]:
    """Create database ``name``, migrate it, yield its asyncpg DSN; drop it on the way out."""
    admin = await asyncpg.connect(f"{PG_DSN}/test")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        from core.store.db import upgrade

        await upgrade(sa_url(f"{PG_DSN}/{name}"))
        yield f"{PG_DSN}/{name}"
    finally:
        admin = await asyncpg.connect(f"{PG_DSN}/test")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def sa_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def server_env(dsn: str) -> dict[str, str]:
    """Environment of the uvicorn server under test: the scratch database and the bench admin token."""
    return {"EDGELOOP_DATABASE_URL": sa_url(dsn), "EDGELOOP_ADMIN_TOKEN": ADMIN_TOKEN, "EDGELOOP_LOG_LEVEL": "warning"}


async def create_bench_bot(http: httpx.AsyncClient, bot_id: str, name: str) -> dict[str, str]:
    """Create the bot through the API; returns its auth headers."""
    created = await http.post(
        "/v1/bots", json={"id": bot_id, "name": name}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    if created.status_code != 201:
        raise RuntimeError(f"POST /v1/bots: HTTP {created.status_code}: {created.text}")
    return {"Authorization": f"Bearer {created.json()['api_key']}"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def uvicorn_server(app: str, env: dict[str, str], *, factory: bool) -> AsyncIterator[tuple[str, int]]:
    """Run ``python -m uvicorn app`` (one worker) on a free port; yield (base url, pid) once /readyz is 200."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log", *(["--factory"] if factory else [])]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2.0) as http:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("server not ready after 60 s")
                await asyncio.sleep(0.1)
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(proc.wait, 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


# --- workload ---------------------------------------------------------------------------------

SYMBOLS = [f"SYM{i:02d}USDT" for i in range(20)]
COMPONENTS = ["ofi", "momentum", "meanrev", "vol_break", "funding", "basis", "news", "depth"]
GATES = ["conviction_gate", "fee_gate", "blocked_combo", "correlation_throttle"]
STRATEGIES = ["momo", "revert", "carry"]

SIGNAL_COLS = (
    "bot_id",
    "event_id",
    "ts",
    "symbol",
    "direction",
    "price",
    "conviction",
    "component_ids",
    "component_values",
    "decision",
    "blocked_by",
    "strategy",
    "expected_edge_bps",
    "regime",
)
TRADE_COLS = (
    "bot_id",
    "event_id",
    "ts",
    "opened_at",
    "symbol",
    "direction",
    "entry_price",
    "exit_price",
    "quantity",
    "pnl",
    "fees",
    "strategy",
    "conviction",
    "signal_event_id",
    "venue",
    "regime",
)
PRICE_COLS = ("bot_id", "symbol", "ts", "price", "event_id")


def make_events(
    n_batches: int, batch_size: int, seed: int, id_prefix: str, days_back: int = 30
) -> list[list[dict[str, Any]]]:
    """Mixed batches (signal, trade, price in turn); event ids and price (symbol, ts) unique across the run.

    Runs built with different ``days_back`` never share a mark's (symbol, ts).
    """
    rnd = random.Random(seed)
    # Old enough that nothing is "ahead of the server clock"; backfill is allowed.
    t0 = (time.time_ns() // 1_000_000) - days_back * 86_400_000
    batches: list[list[dict[str, Any]]] = []
    n = 0
    for _ in range(n_batches):
        batch: list[dict[str, Any]] = []
        for i in range(batch_size):
            n += 1
            ts = t0 + n  # unique ms per event -> unique (symbol, ts) for marks
            symbol = SYMBOLS[n % len(SYMBOLS)]
            direction = "long" if rnd.random() < 0.5 else "short"
            px = round(100 + rnd.random() * 50, 4)
            kind = i % 3
            if kind == 0:
                blocked = rnd.random() < 0.3
                ev: dict[str, Any] = {
                    "type": "signal",
                    "event_id": f"{id_prefix}sig-{n}",
                    "ts": ts,
                    "symbol": symbol,
                    "direction": direction,
                    "price": px,
                    "conviction": round(rnd.random(), 4),
                    "components": {c: round(rnd.uniform(-2, 2), 4) for c in rnd.sample(COMPONENTS, 4)},
                    "decision": "blocked" if blocked else "executed",
                    "strategy": rnd.choice(STRATEGIES),
                    "expected_edge_bps": round(rnd.uniform(-5, 25), 2),
                }
                if blocked:
                    ev["blocked_by"] = rnd.choice(GATES)
            elif kind == 1:
                qty = round(rnd.uniform(0.01, 2), 4)
                exit_px = round(px * (1 + rnd.uniform(-0.01, 0.01)), 4)
                fees = round(px * qty * 0.0004, 6)
                sign = 1 if direction == "long" else -1
                ev = {
                    "type": "trade",
                    "event_id": f"{id_prefix}tr-{n}",
                    "ts": ts,
                    "opened_at": ts - rnd.randint(1_000, 3_600_000),
                    "symbol": symbol,
                    "direction": direction,
                    "entry_price": px,
                    "exit_price": exit_px,
                    "quantity": qty,
                    "pnl": round(sign * (exit_px - px) * qty - fees, 6),
                    "fees": fees,
                    "strategy": rnd.choice(STRATEGIES),
                    "venue": "binance",
                }
            else:
                ev = {"type": "price", "ts": ts, "symbol": symbol, "price": px}
            batch.append(ev)
        batches.append(batch)
    return batches


def to_records(bot_id: str, batch: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows the API stores for a batch, as COPY records in the column order of *_COLS."""
    out: dict[str, list[tuple[Any, ...]]] = {"signals": [], "trades": [], "price_marks": []}
    for ev in batch:
        row = {**ev, "bot_id": bot_id}
        if ev["type"] == "signal":
            # as the API stores them: ids (here fixed ones, as a bot's component_names would give) and scores
            row["component_ids"] = [COMPONENTS.index(name) + 1 for name in ev["components"]]
            row["component_values"] = list(ev["components"].values())
            out["signals"].append(tuple(row.get(c) for c in SIGNAL_COLS))
        elif ev["type"] == "trade":
            out["trades"].append(tuple(row.get(c) for c in TRADE_COLS))
        else:
            out["price_marks"].append(tuple(row.get(c) for c in PRICE_COLS))
    return out


COLS = {"signals": SIGNAL_COLS, "trades": TRADE_COLS, "price_marks": PRICE_COLS}


@dataclass
class Run:
    events: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_concurrently(n_jobs: int, concurrency: int, job: Any) -> tuple[float, list[float]]:
    """Run ``await job(i)`` for i in range(n_jobs) with ``concurrency`` workers; (elapsed s, latencies)."""
    jobs: Iterator[int] = iter(range(n_jobs))
    latencies: list[float] = []

    async def worker() -> None:
        for i in jobs:
            start = time.perf_counter()
            await job(i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies


# --- the two measurements ---------------------------------------------------------------------


async def api_load(
    base: str, headers: dict[str, str], bot_id: str, bodies: list[bytes], batch_size: int, concurrency: int
) -> Run:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120.0) as http:
        hdrs = {**headers, "Content-Type": "application/json"}

        async def post(i: int) -> None:
            response = await http.post(f"/v1/bots/{bot_id}/events", content=bodies[i], headers=hdrs)
            if response.status_code != 200:
                raise RuntimeError(f"batch {i}: HTTP {response.status_code}: {response.text[:500]}")
            result = response.json()
            if result["accepted"] != batch_size:
                raise RuntimeError(f"batch {i}: expected {batch_size} accepted, got {result}")

        elapsed, latencies = await run_concurrently(len(bodies), concurrency, post)
    return Run(len(bodies) * batch_size, elapsed, latencies)


async def copy_baseline(
    dsn: str, records: list[dict[str, list[tuple[Any, ...]]]], batch_size: int, concurrency: int
) -> Run:
    """COPY each batch's rows (one transaction per batch, one COPY per table) into scratch tables."""
    setup = await asyncpg.connect(dsn)
    try:
        for table in COLS:
            await setup.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:

        async def copy(i: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                for table, rows in records[i].items():
                    if rows:
                        await conn.copy_records_to_table(f"bench_{table}", records=rows, columns=list(COLS[table]))

        elapsed, latencies = await run_concurrently(len(records), concurrency, copy)
    finally:
        await pool.close()
    return Run(len(records) * batch_size, elapsed, latencies)


async def row_counts(dsn: str, prefix: str = "") -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {prefix}{t}")) for t in COLS}
    finally:
        await conn.close()


def describe(run: Run) -> str:
    ms = [x * 1000 for x in run.latencies]
    return (
        f"{run.events:,} events in {run.seconds:.2f} s; per batch p50 {statistics.median(ms):.1f} ms, "
        f"p99 {pct(ms, 0.99):.1f} ms"
    )


async def main(args: argparse.Namespace) -> int:
    print(f"before: {load_line()}")
    db_name = f"el_bench_ingest_{os.getpid()}"
    bot_id = "bench-bot"
    t = time.perf_counter()
    batches = make_events(args.batches, args.batch_size, seed=42, id_prefix="")
    bodies = [orjson.dumps({"events": b}) for b in batches]
    records = [to_records(bot_id, b) for b in batches]
    warm = make_events(1, min(args.batch_size, 300), seed=7, id_prefix="warm-", days_back=60)[0]
    print(
        f"workload: {args.batches} batches x {args.batch_size} events (signal/trade/price in turn, 4 components), "
        f"{sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB per body, concurrency {args.concurrency} "
        f"(built in {time.perf_counter() - t:.1f} s)"
    )

    async with scratch_database(db_name) as dsn:
        async with uvicorn_server("api.rest.app:create_app", server_env(dsn), factory=True) as (base, pid):
            async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
                headers = await create_bench_bot(http, bot_id, "ingest bench")
                warm_resp = await http.post(f"/v1/bots/{bot_id}/events", json={"events": warm}, headers=headers)
                if warm_resp.status_code != 200:
                    raise RuntimeError(f"warm-up batch: HTTP {warm_resp.status_code}: {warm_resp.text[:500]}")

            server = psutil.Process(pid)
            me = psutil.Process()
            server_cpu0, my_cpu0 = sum(server.cpu_times()[:2]), sum(me.cpu_times()[:2])
            spy = start_py_spy(args.py_spy, pid)
            api = await api_load(base, headers, bot_id, bodies, args.batch_size, args.concurrency)
            stop_py_spy(spy, args.py_spy)
            server_cpu = sum(server.cpu_times()[:2]) - server_cpu0
            client_cpu = sum(me.cpu_times()[:2]) - my_cpu0
            during = load_line()

        stored = await row_counts(dsn)
        baseline = await copy_baseline(dsn, records, args.batch_size, args.concurrency)
        copied = await row_counts(dsn, "bench_")

    expected = api.events + len(warm)
    if sum(stored.values()) != expected or sum(copied.values()) != baseline.events:
        raise RuntimeError(f"row counts off: api stored {stored} (expected {expected}), copy stored {copied}")

    ratio = api.rate / baseline.rate
    print(f"api ingest:    {describe(api)}")
    print(
        f"               server CPU {server_cpu:.1f} s ({server_cpu / api.seconds:.0%} of one core), "
        f"load generator CPU {client_cpu:.1f} s; {during}"
    )
    print(f"asyncpg COPY:  {describe(baseline)}")
    ok = api.rate >= TARGET_EPS and ratio >= TARGET_RATIO
    print(
        f"api ingest: {api.rate:,.0f} events/s | asyncpg COPY baseline: {baseline.rate:,.0f} rows/s | "
        f"ratio {ratio:.2f} (target >= {TARGET_EPS:,} events/s and ratio >= {TARGET_RATIO}) "
        f"-> {'MET' if ok else 'NOT MET'}"
    )
    print(f"after: {load_line()}")
    return 0


def start_py_spy(out: str | None, pid: int) -> subprocess.Popen[bytes] | None:
    if not out:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy not found; --py-spy ignored")
        return None
    fmt = "speedscope" if out.endswith(".json") else ("raw" if out.endswith(".txt") else "flamegraph")
    return subprocess.Popen([exe, "record", "-p", str(pid), "-o", out, "-f", fmt, "-r", "200", "--nonblocking"])


def stop_py_spy(proc: subprocess.Popen[bytes] | None, out: str | None) -> None:
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    print(f"py-spy profile of the server written to {out}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200, help="batches to post (default 200)")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent HTTP connections (default 4)")
    parser.add_argument("--py-spy", metavar="OUT", help="profile the server with py-spy into OUT (.svg/.json/.txt)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(asyncio.run(main(parse_args())))
