"""Param read throughput: ``GET /v1/bots/{bot}/params`` vs a trivial FastAPI endpoint, same server setup.

Self-contained: creates database ``el_bench_params_<pid>``, migrates it, serves the edgeloop API with
uvicorn (one worker) in a subprocess, creates a bot, then drives ``--connections`` concurrent
keep-alive connections for ``--seconds`` at the params endpoint with the bot's key; then serves
``bench/_trivial_app.py`` (FastAPI returning fixed bytes) the same way and drives the same load.
Prints requests/s, p50/p99 latency of both and the ratio; drops the database (also on failure).

The load generator competes with the server for the 2 cores: ``wrk`` (C) is used when it is on
PATH, else an httpx load generator (Python; it saturates a core itself, so figures are a floor).

    .venv/bin/python bench/params.py [--seconds 10] [--connections 64] [--client auto|wrk|httpx]

Target (issue): ratio >= 0.6 and p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python bench/params.py`: import the shared helpers as bench.ingest

from bench.ingest import create_bench_bot, load_line, scratch_database, server_env, uvicorn_server  # noqa: E402

TARGET_RATIO = 0.6
TARGET_P99_MS = 20.0

# --- harness: database, server ---------------------------------------------------------------


# --- load generators --------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


async def wrk_load(url: str, headers: dict[str, str], connections: int, seconds: float, threads: int) -> Result:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out_b, err_b = await proc.communicate()
    out = out_b.decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err_b.decode()}{out}")
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if total is None or p50 is None or p99 is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    errors = 0
    for pattern in (
        r"Non-2xx or 3xx responses: (\d+)",
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
    ):
        match = re.search(pattern, out)
        if match is not None:
            errors += sum(int(g) for g in match.groups())
    elapsed_s = _ms(total.group(2) + total.group(3)) / 1000
    return Result(int(total.group(1)), elapsed_s, _ms(p50.group(1)), _ms(p99.group(1)), errors)


async def httpx_load(url: str, headers: dict[str, str], connections: int, seconds: float) -> Result:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(limits=limits, timeout=10.0, headers=headers) as http:
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                try:
                    response = await http.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return Result(len(ordered), elapsed, pct(0.5), pct(0.99), errors)


async def measure(client: str, url: str, headers: dict[str, str], args: argparse.Namespace, server_pid: int) -> Result:
    """A short warm-up, then the measured load; records the server's CPU seconds during it."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        check = await http.get(url, headers=headers)
    if check.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {check.status_code}: {check.text[:300]}")

    async def run(seconds: float) -> Result:
        if client == "wrk":
            return await wrk_load(url, headers, args.connections, seconds, args.wrk_threads)
        return await httpx_load(url, headers, args.connections, seconds)

    await run(1.0)
    server = psutil.Process(server_pid)
    cpu0 = sum(server.cpu_times()[:2])
    result = await run(args.seconds)
    result.server_cpu_s = sum(server.cpu_times()[:2]) - cpu0
    if result.errors:
        raise RuntimeError(f"{result.errors} failed requests against {url}")
    return result


def describe(name: str, r: Result) -> str:
    return (
        f"{name}: {r.rps:,.0f} req/s | p50 {r.p50_ms:.2f} ms | p99 {r.p99_ms:.2f} ms "
        f"| {r.requests:,} requests in {r.seconds:.1f} s | server CPU {r.server_cpu_s / r.seconds:.0%} of one core"
    )


async def main(args: argparse.Namespace) -> int:
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "httpx"
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH (apt-get install -y wrk), use --client httpx")
    note = "" if client == "wrk" else " (Python; competes with the server for CPU, figures are a floor)"
    print(f"before: {load_line()}")
    print(f"load generator: {client}{note}; {args.connections} connections, {args.seconds:g} s per target")

    bot_id = "bench-bot"
    async with scratch_database(f"el_bench_params_{os.getpid()}") as dsn:
        async with uvicorn_server("api.rest.app:create_app", server_env(dsn), factory=True) as (base, pid):
            async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
                headers = await create_bench_bot(http, bot_id, "params bench")
            api = await measure(client, f"{base}/v1/bots/{bot_id}/params", headers, args, pid)
            during_api = load_line()
        async with uvicorn_server("bench._trivial_app:app", {}, factory=False) as (base, pid):
            trivial = await measure(client, f"{base}/fixed", {}, args, pid)
            during_trivial = load_line()

    ratio = api.rps / trivial.rps
    print(describe("GET /v1/bots/{bot}/params", api) + f" | {during_api}")
    print(describe("trivial FastAPI /fixed   ", trivial) + f" | {during_trivial}")
    ok = ratio >= TARGET_RATIO and api.p99_ms < TARGET_P99_MS
    print(
        f"params: {api.rps:,.0f} req/s (p50 {api.p50_ms:.2f} ms, p99 {api.p99_ms:.2f} ms) | trivial FastAPI: "
        f"{trivial.rps:,.0f} req/s (p50 {trivial.p50_ms:.2f} ms, p99 {trivial.p99_ms:.2f} ms) | ratio {ratio:.2f} "
        f"(target ratio >= {TARGET_RATIO}, p99 < {TARGET_P99_MS:g} ms) -> {'MET' if ok else 'NOT MET'} [{client}]"
    )
    print(f"after: {load_line()}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto", help="load generator")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: leave a core)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
