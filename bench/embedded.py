"""Benchmark of the embedded default's responsiveness while a cycle runs (issue #16).

    python bench/embedded.py [--signals 200000] [--idle-s 8]

One SQLite file with a bot ``learner`` holding N signals (10 components, 3 horizons, 4 symbols,
minute marks, nothing resolved yet), copied twice. Against each copy, a server on free loopback
ports: first ``edgeloop api`` (the app with the embedded runner in its own process: how `edgeloop
serve` ran jobs before, outcomes written in one transaction as before), then ``edgeloop serve``
(jobs in a child process, SQLite outcome writes in parts). For each it measures,
idle and then while the learner's comprehensive cycle runs:
 - GET /v1/bots/poller/params latency, one request every 20 ms (bot ``poller``);
 - POST /v1/bots/ingester/events latency of 1,000-event batches, one every 250 ms (bot ``ingester``);
and prints p50/p99/max of each, the cycles' times (finished_at - started_at: load + compute + write),
and the ratios. Before that, the same cycle of a second bot ``solo`` (the same market) with no load:
the cycle-time target compares those. Targets: during the cycle in `serve`, GET p99 <= 50 ms and
ingest p99 <= 2x its idle p99; the cycle alone no slower than 1.2x the in-process one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.services import bots, ingest  # noqa: E402
from core.services.auth import Principal  # noqa: E402
from core.services.context import ServiceContext  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.store.db import upgrade  # noqa: E402

T0 = 1_767_225_600_000
MIN_MS = 60_000
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ADMIN_P = Principal("admin_token", "admin")
COMPONENTS = [f"c{i}" for i in range(10)]
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
# No scheduled jobs: a resolution falling due on its 10-minute grid mid-run would write the learner's
# outcomes before its cycle does, and measure something else.
QUIET = {"schedule": {"enabled": False}}
LEARNER = {"horizons": ["1m", "5m", "15m"], **QUIET}


# `edgeloop api` runs the embedded runner in its own process, as `serve` did before #16; writing the
# outcomes in one part is how SQLite was written before, too.
IN_PROCESS = (
    "import sys; import core.services.resolve as r; r.SQLITE_PART_ROWS = 10**9; "
    "from api.cli import main; sys.argv[0] = 'edgeloop'; main()"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def market_events(n_signals: int, seed: int = 0) -> list[dict[str, Any]]:
    """Minute marks (random walk) per symbol over the span, and n signals spread over it."""
    rng = np.random.default_rng(seed)
    minutes = max(n_signals // 20, 60)  # ~20 signals a minute across the symbols
    events: list[dict[str, Any]] = []
    for symbol in SYMBOLS:
        walk = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.0005, minutes + 20)))
        events += [
            {"type": "price", "ts": T0 + m * MIN_MS, "symbol": symbol, "price": round(float(p), 6)}
            for m, p in enumerate(walk)
        ]
    ts = np.sort(T0 + rng.integers(0, minutes * MIN_MS, n_signals))
    values = rng.normal(0, 1, (n_signals, len(COMPONENTS))).round(4)
    for i in range(n_signals):
        events.append(
            {
                "type": "signal",
                "event_id": f"s{i}",
                "ts": int(ts[i]),
                "symbol": SYMBOLS[i % len(SYMBOLS)],
                "direction": "long" if values[i, 0] > 0 else "short",
                "price": 100.0,
                "conviction": round(float(rng.random()), 4),
                "components": dict(zip(COMPONENTS, values[i].tolist(), strict=True)),
                "decision": "executed",
            }
        )
    return events


async def build_database(path: Path, n_signals: int) -> None:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    ctx = ServiceContext.create(Settings(database_url=url, redis_url=None))
    try:
        events = market_events(n_signals)
        for bot in ("learner", "solo"):  # the same market twice: one cycle under load, one alone
            await bots.create_bot(ctx, ADMIN_P, bot, None, LEARNER)
            for lo in range(0, len(events), 10_000):
                await ingest.ingest_events(ctx, ADMIN_P, bot, events[lo : lo + 10_000])
    finally:
        await ctx.close()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file, so a copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class Lat:
    samples: list[float] = field(default_factory=list)
    errors: int = 0

    def line(self) -> str:
        s, top = self.samples, max(self.samples, default=float("nan"))
        return f"p50 {pct(s, 50):6.1f} ms  p99 {pct(s, 99):7.1f} ms  max {top:7.1f} ms  n={len(s)} errors={self.errors}"


async def poll_params(http: httpx.AsyncClient, key: str, stop: asyncio.Event, out: Lat) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            r = await http.get("/v1/bots/poller/params", headers=headers, timeout=60)
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        took = (time.perf_counter() - t0) * 1000
        out.samples.append(took) if ok else None
        out.errors += not ok
        await asyncio.sleep(max(0.0, 0.020 - took / 1000))


async def post_batches(http: httpx.AsyncClient, key: str, bodies: list[bytes], stop: asyncio.Event, out: Lat) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    while not stop.is_set() and bodies:
        body = bodies.pop()
        t0 = time.perf_counter()
        try:
            r = await http.post("/v1/bots/ingester/events", content=body, headers=headers, timeout=60)
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        took = (time.perf_counter() - t0) * 1000
        out.samples.append(took) if ok else None
        out.errors += not ok
        await asyncio.sleep(max(0.0, 0.250 - took / 1000))


def ingest_bodies(start: int, n: int) -> list[bytes]:
    """n pre-encoded batches of 500 signals + 500 marks, all new (so each is a real write)."""
    bodies = []
    for b in range(start, start + n):
        base = T0 + 30 * 86_400_000 + b * 1_000 * 1_000
        events: list[dict[str, Any]] = []
        for i in range(500):
            ts = base + i * 2_000
            events.append({"type": "price", "ts": ts, "symbol": "BTCUSDT", "price": 100.0 + i / 100})
            events.append(
                {
                    "type": "signal",
                    "event_id": f"b{b}-{i}",
                    "ts": ts,
                    "symbol": "BTCUSDT",
                    "direction": "long",
                    "price": 100.0,
                    "conviction": 0.5,
                    "components": {"a": 1.0, "b": -0.5},
                    "decision": "executed",
                }
            )
        bodies.append(json.dumps({"events": events}).encode())
    return bodies[::-1]


def parse_ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def run_cycle(http: httpx.AsyncClient, bot: str) -> tuple[float, dict[str, Any]]:
    """Trigger the bot's comprehensive cycle and wait for it: (finished_at - started_at, the record)."""
    r = await http.post(f"/v1/bots/{bot}/cycles", json={"kind": "comprehensive"}, headers=ADMIN, timeout=60)
    cycle_id = r.json()["cycle_id"]
    while True:
        await asyncio.sleep(0.25)
        rec: dict[str, Any] = (await http.get(f"/v1/bots/{bot}/cycles/{cycle_id}", headers=ADMIN, timeout=300)).json()
        if rec["status"] in ("succeeded", "failed"):
            return parse_ts(rec["finished_at"]) - parse_ts(rec["started_at"]), rec


async def measure(mode: str, db: Path, idle_s: float) -> dict[str, Any]:
    port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "EDGELOOP_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "EDGELOOP_ADMIN_TOKEN": ADMIN_TOKEN,
        "EDGELOOP_PORT": str(port),
        "EDGELOOP_GRPC_PORT": str(grpc_port),
        "EDGELOOP_LOG_LEVEL": "warning",
    }
    env.pop("EDGELOOP_REDIS_URL", None)
    if mode == "in-process":  # as before: jobs in the serving process, outcomes in one transaction
        argv = [sys.executable, "-c", IN_PROCESS, "api"]
    else:
        argv = [str(Path(sys.executable).parent / "edgeloop"), "serve"]
    server = subprocess.Popen(argv, env=env, cwd=db.parent)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(600):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            keys = {}
            for bot in ("poller", "ingester"):
                r = await http.post("/v1/bots", json={"id": bot, "config": QUIET}, headers=ADMIN)
                keys[bot] = r.json()["api_key"]
            bodies = ingest_bodies(0, 400)
            result: dict[str, Any] = {"solo_s": (await run_cycle(http, "solo"))[0]}
            for phase in ("idle", "cycle"):
                stop = asyncio.Event()
                get, post = Lat(), Lat()
                tasks = [
                    asyncio.ensure_future(poll_params(http, keys["poller"], stop, get)),
                    asyncio.ensure_future(post_batches(http, keys["ingester"], bodies, stop, post)),
                ]
                if phase == "idle":
                    await asyncio.sleep(idle_s)
                else:
                    result["cycle_s"], rec = await run_cycle(http, "learner")
                    result["cycle_status"], result["inputs"] = rec["status"], rec["inputs"]
                stop.set()
                await asyncio.gather(*tasks)
                result[phase] = (get, post)
            return result
    finally:
        server.terminate()
        server.wait(30)


DESCRIBE = {"in-process": "edgeloop api, jobs in-process", "serve": "edgeloop serve, jobs in a child"}


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def main(args: argparse.Namespace) -> int:
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="edgeloop-bench-embedded-") as tmp:
        base = Path(tmp) / "base.db"
        t0 = time.perf_counter()
        await build_database(base, args.signals)
        print(f"loaded {args.signals:,} signals in {time.perf_counter() - t0:.1f} s", flush=True)
        results = {}
        for mode in ("in-process", "serve"):
            db = Path(tmp) / mode / "edgeloop.db"
            db.parent.mkdir()
            shutil.copy(base, db)
            print(f"load average before {mode}: {os.getloadavg()[0]:.2f}", flush=True)
            results[mode] = r = await measure(mode, db, args.idle_s)
            print(f"== {mode} ({DESCRIBE[mode]})")
            print(f"  cycle alone (bot solo): {r['solo_s']:.2f} s")
            print(f"  cycle under the load below: {r['cycle_status']} in {r['cycle_s']:.2f} s, inputs {r['inputs']}")
            for phase in ("idle", "cycle"):
                get, post = r[phase]
                print(f"  {phase:5s} GET /params      {get.line()}")
                print(f"  {phase:5s} ingest 1k batch  {post.line()}")
        inproc, child = results["in-process"], results["serve"]
        get_p99 = pct(child["cycle"][0].samples, 99)
        ingest_ratio = pct(child["cycle"][1].samples, 99) / pct(child["idle"][1].samples, 99)
        cycle_ratio = child["solo_s"] / inproc["solo_s"]
        loaded_ratio = child["cycle_s"] / inproc["cycle_s"]
        print("== targets (serve)")
        print(f"  GET /params p99 during the cycle: {get_p99:.1f} ms (target <= 50 ms) -> {met(get_p99 <= 50)}")
        print(f"  ingest p99 during / idle: {ingest_ratio:.2f}x (target <= 2x) -> {met(ingest_ratio <= 2)}")
        times = f"{child['solo_s']:.2f} s / {inproc['solo_s']:.2f} s"
        print(
            f"  cycle alone vs in-process: {times} = {cycle_ratio:.2f}x (target <= 1.2x) -> {met(cycle_ratio <= 1.2)}"
        )
        # Under load the API in `serve` answers 2-3x the requests it answers while stalled in-process (the
        # load is closed-loop), and shares the cores with the child: context, not the target.
        loaded = f"{child['cycle_s']:.2f} s / {inproc['cycle_s']:.2f} s"
        print(f"  cycle under load vs in-process: {loaded} = {loaded_ratio:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--signals", type=int, default=200_000)
    ap.add_argument("--idle-s", type=float, default=8.0)
    return ap.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
