"""Capacity: does a fleet's cost stay flat as days of history pile up? (issue 15)

Two scratch PostgreSQL databases get the same simulated fleet, day by day: database ``on`` runs the
retention job after every day, database ``off`` keeps everything. Each simulated day every bot gets
``--signals`` signals (5 components, ``--symbols`` symbols), ``--marks`` price marks over those
symbols and ``--trades`` trades, loaded by binary COPY (the fleet's bulk, as fast as the server takes
it), then every bot's outcomes are resolved through the service layer (what the 10-minute job does).
Bots learn with ``lookback`` 1 d, so a cycle's window holds one day on day 1 and on day N alike:
any difference is the cost of the history around it. Measured through the real service layer:

- ingest events/s (``ingest_events``, batches of 1,000 mixed events into a probe bot) on day 1 and day N;
- a continuous cycle of one bot on day 1 and day N (both databases);
- GET /v1/bots/{bot}/params p99 through the ASGI app (httpx) on day 1 and day N;
- database size after each day, retention on and off;
- the retention job's duration per day (all bots), as a share of a day of one worker's time;
- cycles per hour with 1 worker process and with 2 (continuous cycles of distinct bots, day N).

Each figure is printed with how it extrapolates to 1,000 bots x 1 year. The issue's full size is
200 bots x 14 days; the default here is smaller (see bench/README.md for the size each recorded run
used and the machine's load).

    .venv/bin/python bench/capacity.py [--bots 20] [--days 14] [--signals 1000] [--marks 20000] [--trades 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ is sys.path[0] and bench/grpc.py would shadow grpcio.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
logging.getLogger("edgeloop").setLevel(logging.ERROR)  # "no job queue attached": cycles run here, directly

from bench.ingest import sa_url, scratch_database  # noqa: E402
from core.services import bots, cycles, ingest, resolve, retention  # noqa: E402
from core.services.auth import Principal  # noqa: E402
from core.services.context import ServiceContext  # noqa: E402
from core.settings import Settings  # noqa: E402

ADMIN = Principal("bench", "admin")
DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z: simulated day 1 starts here
COMPONENTS = ("ofi", "momentum", "meanrev", "carry", "vol")
CONFIG = {"lookback": "1d", "min_outcomes": 30, "schedule": {"enabled": False}}
SIGNAL_COLUMNS = (
    "bot_id", "event_id", "ts", "symbol", "direction", "price", "conviction",
    "component_ids", "component_values", "decision", "blocked_by", "strategy",
)  # fmt: skip
TRADE_COLUMNS = (
    "bot_id", "event_id", "ts", "opened_at", "symbol", "direction", "entry_price", "exit_price",
    "quantity", "pnl", "fees", "strategy",
)  # fmt: skip


def settings_for(dsn: str) -> Settings:
    return Settings(database_url=sa_url(dsn), redis_url=None, log_level="warning")  # type: ignore[arg-type]


class Market:
    """Deterministic per (bot, day): a random walk per symbol, signals whose `ofi` leads it a little."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.symbols = [f"SYM{i}" for i in range(args.symbols)]

    def day(self, bot: int, day: int, component_ids: list[int], bot_id: str) -> dict[str, list[tuple[Any, ...]]]:
        a = self.args
        rng = np.random.default_rng(bot * 10_000 + day)
        start = T0 + day * DAY
        per_symbol = a.marks // a.symbols
        step = DAY // per_symbol
        marks: list[tuple[Any, ...]] = []
        paths = {}
        for s, symbol in enumerate(self.symbols):
            walk = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.0005, per_symbol)) + s * 0.01)
            paths[symbol] = walk
            ts = start + np.arange(per_symbol, dtype=np.int64) * step
            marks.extend(zip([bot_id] * per_symbol, [symbol] * per_symbol, ts.tolist(), walk.tolist(), strict=True))
        sig_ts = np.sort(rng.integers(start, start + DAY - 3_600_000, a.signals))
        sym = rng.integers(0, a.symbols, a.signals)
        scores = rng.normal(0, 1, (a.signals, len(COMPONENTS)))
        signals = []
        for i in range(a.signals):
            symbol = self.symbols[int(sym[i])]
            price = float(paths[symbol][min(int((sig_ts[i] - start) // step), per_symbol - 1)])
            blocked = i % 7 == 0
            signals.append(
                (
                    bot_id, f"d{day}s{i}", int(sig_ts[i]), symbol, "long" if scores[i, 0] > 0 else "short", price,
                    float(rng.uniform(0, 1)), component_ids, scores[i].tolist(),
                    "blocked" if blocked else "executed", "fee_gate" if blocked else None, f"st{i % 3}",
                )
            )  # fmt: skip
        trades = []
        for i in range(a.trades):
            opened = start + int(rng.integers(0, DAY - 7_200_000))
            entry = float(rng.uniform(90, 110))
            exit_ = entry * (1 + float(rng.normal(0, 0.003)))
            trades.append(
                (
                    bot_id, f"d{day}t{i}", opened + 3_600_000, opened, self.symbols[i % a.symbols], "long", entry,
                    exit_, 1.0, exit_ - entry - 0.01, 0.01, f"st{i % 3}",
                )
            )  # fmt: skip
        return {"signals": signals, "price_marks": marks, "trades": trades}


async def component_ids(conn: asyncpg.Connection, bot_id: str) -> list[int]:
    await conn.executemany(
        "INSERT INTO component_names (bot_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(bot_id, c) for c in COMPONENTS],
    )
    rows = await conn.fetch("SELECT name, id FROM component_names WHERE bot_id = $1", bot_id)
    ids = dict(rows)
    return [ids[c] for c in COMPONENTS]


async def load_day(conn: asyncpg.Connection, data: dict[str, list[tuple[Any, ...]]], bot_id: str) -> None:
    """COPY one bot-day and keep the bot row's counters and watermark as ingest would."""
    async with conn.transaction():
        await conn.copy_records_to_table("signals", records=data["signals"], columns=SIGNAL_COLUMNS)
        await conn.copy_records_to_table(
            "price_marks", records=data["price_marks"], columns=("bot_id", "symbol", "ts", "price")
        )
        await conn.copy_records_to_table("trades", records=data["trades"], columns=TRADE_COLUMNS)
        watermark = max(r[2] for r in data["price_marks"])
        await conn.execute(
            "UPDATE bots SET signal_count = signal_count + $2, price_count = price_count + $3, "
            "trade_count = trade_count + $4, watermark_ms = greatest(coalesce(watermark_ms, 0), $5) WHERE id = $1",
            bot_id, len(data["signals"]), len(data["price_marks"]), len(data["trades"]), watermark,
        )  # fmt: skip


def probe_events(day: int, n: int, tag: str) -> list[dict[str, Any]]:
    """n mixed events of simulated day ``day`` in the fleet's proportions (mostly marks)."""
    start = T0 + day * DAY
    events: list[dict[str, Any]] = []
    for i in range(n):
        ts = start + 3_600_000 + i * 37
        if i % 21 == 0:
            events.append(
                {
                    "type": "signal", "event_id": f"{tag}s{i}", "ts": ts, "symbol": "SYM0", "direction": "long",
                    "price": 100.0, "conviction": 0.5, "decision": "executed",
                    "components": {c: 0.1 * k for k, c in enumerate(COMPONENTS, 1)},
                }
            )  # fmt: skip
        else:
            events.append({"type": "price", "ts": ts, "symbol": f"SYM{i % 10}", "price": 100.0 + i % 13})
    return events


async def measure_ingest(ctx: ServiceContext, day: int, batches: int) -> float:
    """events/s of ``batches`` x 1,000 events through ``ingest_events`` into the probe bot."""
    await ingest.ingest_events(ctx, ADMIN, "probe", probe_events(day, 200, f"d{day}warm"))  # untimed warm-up
    total = 0
    began = time.perf_counter()
    for b in range(batches):
        events = probe_events(day, 1000, f"d{day}b{b}")
        result = await ingest.ingest_events(ctx, ADMIN, "probe", events)
        total += result.accepted
    return total / (time.perf_counter() - began)


async def measure_cycle(ctx: ServiceContext, bot_id: str, runs: int = 3) -> float:
    """Median of ``runs`` dry-run continuous cycles of one bot (the first in a process is cold)."""
    times = []
    for _ in range(runs):
        queued = await cycles.trigger_cycle(ctx, ADMIN, bot_id, "continuous", True)
        began = time.perf_counter()
        record = await cycles.execute_cycle(ctx, bot_id, queued.cycle_id)
        times.append(time.perf_counter() - began)
        assert record is not None and record.status == "succeeded", record
    return statistics.median(times)


async def measure_params(ctx: ServiceContext, key: str, n: int) -> float:
    """p99 latency (ms) of GET /params through the ASGI app (no job runner, no network)."""
    from api.rest.app import create_app

    app = create_app(ctx.settings, ctx=ctx)
    latencies = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(n):
                began = time.perf_counter()
                response = await http.get("/v1/bots/b0/params", headers=headers)
                latencies.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
    return float(np.percentile(latencies, 99))


async def db_size(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT pg_database_size(current_database())"))


def cycle_workers(dsn: str, bot_ids: list[str], workers: int, rounds: int) -> tuple[float, int]:
    """``rounds`` continuous cycles of each of ``bot_ids``, the bots split over ``workers`` processes;
    (cycles per hour, cycles)."""
    parts = [bot_ids[w::workers] * rounds for w in range(workers)]
    go_at = time.time() + 15  # every process has imported and connected by then: they start together
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child-cycles", dsn, ",".join(part), str(go_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for part in parts
    ]
    spans = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    assert all(s["start"] >= go_at for s in spans), "a worker was not ready at the start signal"
    wall = max(s["end"] for s in spans) - go_at
    done = sum(s["cycles"] for s in spans)
    return done / wall * 3600, done


async def child_cycles(dsn: str, bot_ids: list[str], go_at: float) -> None:
    ctx = ServiceContext.create(settings_for(dsn))
    try:
        async with ctx.sessions() as session:  # connect before the start signal
            await session.execute(text("SELECT 1"))
        await asyncio.sleep(max(go_at - time.time(), 0))
        start = time.time()
        for bot_id in bot_ids:
            queued = await cycles.trigger_cycle(ctx, ADMIN, bot_id, "continuous", False)
            record = await cycles.execute_cycle(ctx, bot_id, queued.cycle_id)
            assert record is not None and record.status == "succeeded", record
        print(json.dumps({"start": start, "end": time.time(), "cycles": len(bot_ids)}))
    finally:
        await ctx.close()


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


async def main(args: argparse.Namespace) -> None:
    print(f"fleet: {args.bots} bots x {args.days} days; per bot-day {args.signals} signals, {args.marks} marks, "
          f"{args.trades} trades; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    market = Market(args)
    figures: dict[str, Any] = {"sizes": {"on": [], "off": []}, "retention_s": [], "resolve_s": []}
    async with (
        scratch_database(f"el_bench_cap_on_{os.getpid()}") as on,
        scratch_database(f"el_bench_cap_off_{os.getpid()}") as off,
    ):
        dbs = {"on": on, "off": off}
        ctxs = {name: ServiceContext.create(settings_for(dsn)) for name, dsn in dbs.items()}
        conns = {name: await asyncpg.connect(dsn) for name, dsn in dbs.items()}
        figures["empty"] = await db_size(conns["on"])
        keys: dict[str, str] = {}
        comp: dict[tuple[str, str], list[int]] = {}
        try:
            for name, ctx in ctxs.items():
                for b in range(args.bots):
                    created = await bots.create_bot(ctx, ADMIN, f"b{b}", None, CONFIG)
                    keys[name] = keys.get(name) or created.api_key
                    comp[(name, f"b{b}")] = await component_ids(conns[name], f"b{b}")
                await bots.create_bot(ctx, ADMIN, "probe", None, CONFIG)
            wall = time.perf_counter()
            for day in range(args.days):
                began = time.perf_counter()
                for b in range(args.bots):
                    for name in dbs:
                        data = market.day(b, day, comp[(name, f"b{b}")], f"b{b}")
                        await load_day(conns[name], data, f"b{b}")
                load_s = time.perf_counter() - began
                first, last = day == 0, day == args.days - 1
                if first or last:
                    for name, ctx in ctxs.items():
                        figures[f"ingest_{name}_{day + 1}"] = await measure_ingest(ctx, day, args.ingest_batches)
                began = time.perf_counter()
                for b in range(args.bots):
                    for ctx in ctxs.values():
                        await resolve.resolve_bot(ctx, f"b{b}")
                figures["resolve_s"].append(time.perf_counter() - began)
                if first or last:
                    for name, ctx in ctxs.items():
                        figures[f"cycle_{name}_{day + 1}"] = await measure_cycle(ctx, "b0")
                    figures[f"params_p99_{day + 1}"] = await measure_params(ctxs["on"], keys["on"], args.params_n)
                began = time.perf_counter()
                for b in [*range(args.bots), "probe"]:
                    await retention.apply_retention(ctxs["on"], b if isinstance(b, str) else f"b{b}")
                figures["retention_s"].append(time.perf_counter() - began)
                for name in dbs:
                    await conns[name].execute("VACUUM (ANALYZE) signals, price_marks, trades, signal_outcomes")
                    figures["sizes"][name].append(await db_size(conns[name]))
                print(
                    f"day {day + 1:>2}: load {load_s:5.1f} s, resolve {figures['resolve_s'][-1]:5.1f} s, retention "
                    f"{figures['retention_s'][-1]:5.2f} s; size on {mb(figures['sizes']['on'][-1])}, "
                    f"off {mb(figures['sizes']['off'][-1])}  (elapsed {time.perf_counter() - wall:.0f} s)",
                    flush=True,
                )
            for ctx in ctxs.values():
                await ctx.engine.dispose()
            n = min(args.bots, args.cycle_bots)
            ids = [f"b{b}" for b in range(n)]
            one, done1 = cycle_workers(on, ids, 1, args.cycle_rounds)
            two, _ = cycle_workers(on, ids, 2, args.cycle_rounds)
            figures["cycles_per_hour"] = (one, two, done1)
        finally:
            for conn in conns.values():
                await conn.close()
            for ctx in ctxs.values():
                await ctx.close()
    report(args, figures)


def report(args: argparse.Namespace, f: dict[str, Any]) -> None:
    d1, dn = 1, args.days
    print(f"\n=== figures (load average now {os.getloadavg()[0]:.2f}) ===")
    for name in ("on", "off"):
        a, b = f[f"ingest_{name}_{d1}"], f[f"ingest_{name}_{dn}"]
        print(f"ingest, retention {name}: day 1 {a:,.0f} events/s, day {dn} {b:,.0f} events/s: {b / a:.2f}x "
              f"(target >= 0.8x: {'met' if b / a >= 0.8 else 'NOT met'})")  # fmt: skip
    for name in ("on", "off"):
        a, b = f[f"cycle_{name}_{d1}"], f[f"cycle_{name}_{dn}"]
        print(f"continuous cycle of one bot (1 day window, median of 3), retention {name}: day 1 {a:.2f} s, "
              f"day {dn} {b:.2f} s: "
              f"{b / a:.2f}x (target within 20%: {'met' if abs(b / a - 1) <= 0.2 else 'NOT met'})")  # fmt: skip
    print(f"GET /params p99: day 1 {f[f'params_p99_{d1}']:.2f} ms, day {dn} {f[f'params_p99_{dn}']:.2f} ms")
    on, off = f["sizes"]["on"], f["sizes"]["off"]
    print("database size per day, retention on :", ", ".join(mb(s) for s in on))
    print("database size per day, retention off:", ", ".join(mb(s) for s in off))
    window = 3  # retention keeps lookback 1 d + 1 h + 30 min + 1 d margin: full after day 3
    if len(on) > window + 1:
        tail = on[window:]
        print(f"retention on, days {window + 1}..{dn}: min {mb(min(tail))}, max {mb(max(tail))} "
              f"(flat within {max(tail) / min(tail) - 1:.0%})")  # fmt: skip
    per_day_off = (off[-1] - off[0]) / max(dn - 1, 1)
    ret = statistics.mean(f["retention_s"][window:] or f["retention_s"])
    share = ret / 86_400
    print(f"retention job: {ret:.2f} s per simulated day for {args.bots + 1} bots = {share:.4%} of one worker-day "
          f"(target < 1%: {'met' if share < 0.01 else 'NOT met'})")  # fmt: skip
    one, two, n = f["cycles_per_hour"]
    print(f"cycles per hour ({n} continuous cycles): 1 worker {one:,.0f}, 2 workers {two:,.0f}: {two / one:.2f}x "
          f"(target >= 1.6x: {'met' if two / one >= 1.6 else 'NOT met'})")  # fmt: skip
    scale = 1000 / args.bots
    bot_day_events = args.signals + args.marks + args.trades
    print("\n=== extrapolated to 1,000 bots x 1 year (linear in bots; per-day figures from this run) ===")
    print(f"ingest needed: {1000 * bot_day_events / 86_400:,.0f} events/s on average vs {f[f'ingest_on_{dn}']:,.0f} "
          "measured in one process (API replicas add to it)")  # fmt: skip
    print(f"database, retention off: +{mb(per_day_off * scale)} per day -> {per_day_off * scale * 365 / 1e9:,.0f} GB "
          "after a year")  # fmt: skip
    data_on = on[-1] - f["empty"]
    print(f"database, retention on: flat at about {mb(data_on * scale)} of event data "
          f"(this run's {mb(data_on)} above an empty database's {mb(f['empty'])}, x {scale:g})")  # fmt: skip
    print(f"retention job: {ret * scale:,.0f} s per day for 1,000 bots = {share * scale:.2%} of one worker-day")
    needed = 1000 * 3 / 24  # 2 continuous (12 h) + 1 comprehensive per bot per day
    print(f"cycles needed: ~{needed:,.0f} per hour (2 continuous + 1 comprehensive per bot-day); one worker runs "
          f"{one:,.0f} continuous cycles per hour at this window size")  # fmt: skip


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--signals", type=int, default=1000)
    parser.add_argument("--marks", type=int, default=20_000)
    parser.add_argument("--trades", type=int, default=100)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--ingest-batches", type=int, default=10)
    parser.add_argument("--params-n", type=int, default=1000)
    parser.add_argument("--cycle-bots", type=int, default=20)
    parser.add_argument("--cycle-rounds", type=int, default=3)
    parser.add_argument("--child-cycles", nargs=3, metavar=("DSN", "BOTS", "GO_AT"), help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    options = parse()
    if options.child_cycles:
        dsn, names, go = options.child_cycles
        asyncio.run(child_cycles(dsn, names.split(","), float(go)))
    else:
        asyncio.run(main(options))
