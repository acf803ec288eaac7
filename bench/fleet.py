"""A fleet of polling bots against two API processes on PostgreSQL, while versions keep coming.

Self-contained: creates database ``el_bench_fleet_<pid>``, migrates it, creates ``--bots`` bots, serves the
edgeloop API in two uvicorn processes (one worker each, jobs to arq on ``--redis``), and:

- ``--bots`` simulated bots (default 1,000), each ``GET /v1/bots/{bot}/params`` with ``If-None-Match`` once a
  second (random phase) for ``--seconds`` (default 120), half of them on each API process. The load runs in
  ``--clients`` processes (default 2) speaking minimal HTTP/1.1 over keep-alive sockets, so the client
  costs little of the 2 shared cores.
- a separate process commits a new version every ``--every`` seconds (default 10), a rollback through the
  service layer, on the first ``--probed`` bots in turn, and prints when each commit returned;
- per API process, one long-poll (``?wait=30``) per probed bot: the moment it answers 200 with the new
  version is when that process made the version visible.

Prints errors, p50/p99 latency of the polls, database statements per poll (both processes'
``edgeloop_db_queries_total``, which counts every SQL statement, over the polling window) and the delay
from commit to visible per process. Drops the database (also on failure).

    .venv/bin/python bench/fleet.py [--bots 1000] [--seconds 120] [--every 10] [--clients 2]

Targets (issue 12): 0 errors, p99 < 20 ms, < 0.01 DB queries per poll, commit-to-visible p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import load_line, sa_url, scratch_database, server_env, uvicorn_server  # noqa: E402

TARGETS = {"errors": 0, "p99_ms": 20.0, "queries_per_poll": 0.01, "visible_p99_ms": 100.0}


# --- the bots ----------------------------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status = int((await reader.readline()).split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length:
        await reader.readexactly(length)
    return status, headers


async def _bot(port: int, bot: str, key: str, start: float, warm: float, stop: float, out: dict[str, Any]) -> None:
    etag: str | None = None
    reader = writer = None
    at = start + random.random()
    while at < stop:
        await asyncio.sleep(max(0.0, at - time.time()))
        at += 1.0
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            request = f"GET /v1/bots/{bot}/params HTTP/1.1\r\nHost: fleet\r\nAuthorization: Bearer {key}\r\n"
            if etag:
                request += f"If-None-Match: {etag}\r\n"
            began = time.perf_counter()
            writer.write((request + "\r\n").encode())
            status, headers = await asyncio.wait_for(_read_response(reader), 10)
            if at - 1.0 >= warm:  # the warm-up (every bot's first, cold polls) is reported apart
                out["latency"].append(time.perf_counter() - began)
            if status == 200:
                etag = headers.get("etag", etag)
                out["ok"] += 1
            elif status == 304:
                out["not_modified"] += 1
            else:
                out["errors" if at - 1.0 >= warm else "warmup_errors"].append(f"HTTP {status}")
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as exc:
            out["errors" if at - 1.0 >= warm else "warmup_errors"].append(type(exc).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _client_process(bots: list[tuple[int, str, str]], conn: Any) -> None:
    out: dict[str, Any] = {"latency": [], "ok": 0, "not_modified": 0, "errors": [], "warmup_errors": []}
    conn.send("ready")
    start, warm, stop = conn.recv()

    async def main() -> None:
        await asyncio.gather(*(_bot(port, bot, key, start, warm, stop, out) for port, bot, key in bots))

    asyncio.run(main())
    conn.send({**out, "latency": np.asarray(out["latency"], dtype=np.float64)})
    conn.close()


# --- the committer (a separate process) and the probes ------------------------------------------------------

COMMITTER = """
import asyncio, json, sys, time
sys.path.insert(0, {root!r})
from core.services import bots, params
from core.services.context import ServiceContext
from core.settings import Settings

async def main():
    ctx = ServiceContext.create(Settings(database_url={url!r}))
    try:
        n = 0
        while time.time() < {stop}:
            await asyncio.sleep({every})
            bot = "fleet-%04d" % (n % {probed})
            n += 1
            began = time.time()
            doc = await params.rollback(ctx, bots.CLI_PRINCIPAL, bot, 1)
            done = time.time()
            print(json.dumps({{"bot": bot, "version": doc.version, "began": began, "committed": done}}), flush=True)
    finally:
        await ctx.close()
asyncio.run(main())
"""


async def _probe(base: str, bot: str, key: str, stop: float, seen: list[dict[str, Any]]) -> None:
    """Long-poll one bot on one process; record when each new version became visible there."""
    version = 1
    async with httpx.AsyncClient(base_url=base, timeout=40) as http:
        while time.time() < stop:
            headers = {"Authorization": f"Bearer {key}", "If-None-Match": f'"{version}"'}
            try:
                response = await http.get(f"/v1/bots/{bot}/params?wait=30", headers=headers)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                version = response.json()["version"]
                seen.append({"base": base, "bot": bot, "version": version, "at": time.time()})


async def _queries(base: str) -> float:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:  # behind the fleet's requests
        text = (await http.get("/metrics")).text
    match = re.search(r"^edgeloop_db_queries_total (\S+)$", text, re.M)
    return float(match.group(1)) if match else float("nan")


# --- the run -------------------------------------------------------------------------------------------------


async def _create_bots(url: str, n: int) -> list[tuple[str, str]]:
    from core.services import bots
    from core.services.context import ServiceContext
    from core.settings import Settings

    ctx = ServiceContext.create(Settings(database_url=url))
    try:
        made = []
        for i in range(n):
            created = await bots.create_bot(ctx, bots.CLI_PRINCIPAL, f"fleet-{i:04d}", None, None)
            made.append((created.id, created.api_key))
        return made
    finally:
        await ctx.close()


def pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


async def main(args: argparse.Namespace) -> int:
    print(f"load before: {load_line()}", flush=True)
    async with scratch_database(f"el_bench_fleet_{os.getpid()}") as dsn:
        url = sa_url(dsn)
        made = await _create_bots(url, args.bots)
        print(f"{len(made)} bots created", flush=True)
        # With Redis the API processes only enqueue (an embedded runner would tick over all bots at start-up);
        # nothing is queued here, so Redis sees no traffic.
        env = {**server_env(dsn), "EDGELOOP_LOG_LEVEL": "warning", "EDGELOOP_REDIS_URL": args.redis}
        async with (
            uvicorn_server("api.rest.app:create_app", env, factory=True) as (base_a, _),
            uvicorn_server("api.rest.app:create_app", env, factory=True) as (base_b, _),
        ):
            bases = [base_a, base_b]
            ports = [int(b.rsplit(":", 1)[1]) for b in bases]
            assignments = [(ports[i % 2], bot, key) for i, (bot, key) in enumerate(made)]
            shards = [assignments[i :: args.clients] for i in range(args.clients)]
            ctx = mp.get_context("spawn")
            pipes, procs = [], []
            for shard in shards:
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_client_process, args=(shard, child), daemon=True)
                proc.start()
                pipes.append(parent)
                procs.append(proc)
            for pipe in pipes:
                await asyncio.to_thread(pipe.recv)  # every client process is up
            queries_start = sum([await _queries(b) for b in bases])
            start = time.time() + 1.0
            warm = start + args.warmup
            stop = warm + args.seconds
            for pipe in pipes:
                pipe.send((start, warm, stop))
            committer = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    COMMITTER.format(root=str(ROOT), url=url, stop=stop - 1, every=args.every, probed=args.probed),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            seen: list[dict[str, Any]] = []
            keys = dict(made)
            probes = [
                asyncio.create_task(_probe(base, f"fleet-{i:04d}", keys[f"fleet-{i:04d}"], stop, seen))
                for base in bases
                for i in range(args.probed)
            ]
            await asyncio.sleep(max(0.0, warm - time.time()))
            queries_before = sum([await _queries(b) for b in bases])
            results = [await asyncio.to_thread(pipe.recv) for pipe in pipes]
            queries_after = sum([await _queries(b) for b in bases])
            load_during = load_line()
            for proc in procs:
                proc.join()
            out, _ = await asyncio.to_thread(committer.communicate)
            for task in probes:
                task.cancel()
            await asyncio.gather(*probes, return_exceptions=True)
    commits = [json.loads(line) for line in out.splitlines() if line.strip()]
    latency = np.concatenate([r["latency"] for r in results]) * 1000
    polls = len(latency)
    errors = [e for r in results for e in r["errors"]]
    warmup_errors = [e for r in results for e in r["warmup_errors"]]
    ok = sum(r["ok"] for r in results)
    not_modified = sum(r["not_modified"] for r in results)
    queries = queries_after - queries_before
    queries_warm = queries_before - queries_start
    delays: dict[str, list[float]] = {b: [] for b in bases}
    for commit in commits:
        for base in bases:
            first = [
                s["at"]
                for s in seen
                if s["base"] == base and s["bot"] == commit["bot"] and s["version"] == commit["version"]
            ]
            if first:
                delays[base].append((min(first) - commit["committed"]) * 1000)
    print(f"load during: {load_during}")
    print(
        f"polls {polls:,} ({polls / args.seconds:,.0f}/s; 200: {ok:,}, 304: {not_modified:,}), errors {len(errors)}"
        + (f" ({', '.join(sorted(set(errors))[:5])})" if errors else "")
    )
    print(f"warm-up ({args.warmup:.0f} s, every bot's first polls at once): errors {len(warmup_errors)}")
    print(f"latency p50 {pct(latency, 50):.2f} ms, p99 {pct(latency, 99):.2f} ms, max {latency.max():.1f} ms")
    print(
        f"database statements {queries:.0f} over the window = {queries / max(polls, 1):.5f} per poll "
        f"(after a {args.warmup:.0f} s warm-up: {queries_warm:.0f} statements for {len(made)} cold bots)"
    )
    print(f"versions committed {len(commits)}")
    worst = []
    for i, base in enumerate(bases):
        d = np.asarray(delays[base])
        seen_n = len(d)
        print(
            f"API {'AB'[i]}: commit -> visible over {seen_n}/{len(commits)} versions: "
            f"p50 {pct(d, 50):.1f} ms, p99 {pct(d, 99):.1f} ms, max {d.max() if seen_n else float('nan'):.1f} ms"
        )
        worst.append(pct(d, 99) if seen_n == len(commits) and seen_n else float("inf"))
    met = {
        "errors": len(errors) == TARGETS["errors"],
        "p99": pct(latency, 99) < TARGETS["p99_ms"],
        "queries": queries / max(polls, 1) < TARGETS["queries_per_poll"],
        "visible": max(worst) < TARGETS["visible_p99_ms"],
    }
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items()))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between committed versions")
    parser.add_argument("--probed", type=int, default=5, help="bots the committer changes in turn (long-polled)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument(
        "--redis",
        default=os.environ.get("EDGELOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/9"),
        help="Redis for the API processes' job queue (nothing is enqueued)",
    )
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of polling before the measured window (cold caches)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
