"""gRPC throughput: GetParams vs a trivial echo, and StreamEvents vs REST ingest, on PostgreSQL.

Self-contained: creates database ``el_bench_grpc_<pid>``, migrates it, runs the gRPC server
(``start_grpc_server``, plus a bare echo service on a second port of the same process and event
loop) and the REST API (uvicorn) in subprocesses, creates a bot, then measures

1. GetParams calls/s with ``--streams`` (64) calls in flight over one channel, for ``--seconds``;
   the same for a unary echo of a few bytes (no auth, no database: the floor of grpc.aio in
   Python); prints both and the ratio.
2. StreamEvents events/s: ``--batches`` mixed batches of ``--batch-size`` events over
   ``--concurrency`` client streams, vs the same workload (fresh ids) posted to the REST API over
   as many connections. Both go through ``core.services.ingest.ingest_events`` into PostgreSQL.

    .venv/bin/python bench/grpc.py [--streams 64] [--seconds 5] [--batches 200] [--batch-size 1000]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # this file is bench/grpc.py: keep it from shadowing the grpc package

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402

import grpc  # noqa: E402
import httpx  # noqa: E402
import orjson  # noqa: E402
import psutil  # noqa: E402

from bench.ingest import (  # noqa: E402
    api_load,
    create_bench_bot,
    free_port,
    load_line,
    make_events,
    scratch_database,
    server_env,
    uvicorn_server,
)

ECHO_METHOD = "/bench.Echo/Echo"


# --- server side (runs in a subprocess: ``bench/grpc.py --serve PORT ECHO_PORT``) -----------------


async def serve(port: int, echo_port: int) -> None:
    from api.grpc.server import start_grpc_server, stop_grpc_server
    from core.services.context import ServiceContext
    from core.settings import Settings

    ctx = ServiceContext.create(Settings())
    server, _ = await start_grpc_server(ctx, "127.0.0.1", port)

    async def echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return request

    echo_server = grpc.aio.server()
    echo_server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}),)
    )
    echo_server.add_insecure_port(f"127.0.0.1:{echo_port}")
    await echo_server.start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await echo_server.stop(None)
    await stop_grpc_server(server, None)
    await ctx.close()


@contextlib.asynccontextmanager
async def grpc_server(env: dict[str, str]) -> AsyncIterator[tuple[int, int, int]]:
    """Run the gRPC server subprocess; yield (port, echo port, pid) once it is serving."""
    port, echo_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), str(echo_port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"gRPC server did not start (exit code {proc.poll()})")
        yield port, echo_port, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(proc.wait, 10)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- client side ----------------------------------------------------------------------------------


async def calls_per_second(call: Callable[[], Awaitable[object]], streams: int, seconds: float) -> float:
    """``streams`` loops calling ``call`` back to back for ``seconds`` (after a 1 s warm-up); calls/s."""
    done = 0
    measuring = False
    deadline = 0.0

    async def loop() -> None:
        nonlocal done
        while True:
            await call()
            if measuring:
                if time.perf_counter() >= deadline:
                    return
                done += 1

    tasks = [asyncio.create_task(loop()) for _ in range(streams)]
    await asyncio.sleep(1.0)
    start = time.perf_counter()
    deadline = start + seconds
    measuring = True
    await asyncio.gather(*tasks)
    return done / (time.perf_counter() - start)


async def stream_ingest(
    port: int,
    metadata: tuple[tuple[str, str], ...],
    bot_id: str,
    batches: list[list[dict[str, object]]],
    concurrency: int,
) -> float:
    """Send the batches over ``concurrency`` StreamEvents calls; events/s (conversion to proto done before)."""
    from api.grpc.convert import event_from_dict
    from proto.edgeloop.v1 import learning_pb2, learning_pb2_grpc

    requests = [
        learning_pb2.IngestEventsRequest(bot_id=bot_id, events=[event_from_dict(e) for e in b]) for b in batches
    ]
    shares = [requests[i::concurrency] for i in range(concurrency)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = learning_pb2_grpc.LearningServiceStub(channel)
        start = time.perf_counter()
        results = await asyncio.gather(*(stub.StreamEvents(iter(share), metadata=metadata) for share in shares))
        elapsed = time.perf_counter() - start
    accepted = sum(r.accepted for r in results)
    expected = sum(len(b) for b in batches)
    if accepted != expected:
        raise RuntimeError(f"StreamEvents accepted {accepted}, expected {expected}")
    return accepted / elapsed


async def main(args: argparse.Namespace) -> int:
    from proto.edgeloop.v1 import learning_pb2, learning_pb2_grpc

    print(f"before: {load_line()}")
    bot_id = "bench-bot"
    grpc_batches = make_events(args.batches, args.batch_size, seed=42, id_prefix="g-")
    rest_batches = make_events(args.batches, args.batch_size, seed=43, id_prefix="r-")
    rest_bodies = [orjson.dumps({"events": b}) for b in rest_batches]
    async with scratch_database(f"el_bench_grpc_{os.getpid()}") as dsn:
        env = server_env(dsn)
        async with (
            uvicorn_server("api.rest.app:create_app", env, factory=True) as (base, _),
            grpc_server(env) as (port, echo_port, pid),
        ):
            async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
                headers = await create_bench_bot(http, bot_id, "grpc bench")
            metadata = (("authorization", headers["Authorization"]),)
            server = psutil.Process(pid)

            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = learning_pb2_grpc.LearningServiceStub(channel)
                request = learning_pb2.GetParamsRequest(bot_id=bot_id)
                cpu0 = sum(server.cpu_times()[:2])
                params_rate = await calls_per_second(
                    lambda: stub.GetParams(request, metadata=metadata), args.streams, args.seconds
                )
                params_cpu = (sum(server.cpu_times()[:2]) - cpu0) / (args.seconds + 1)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as channel:
                echo = channel.unary_unary(ECHO_METHOD)
                cpu0 = sum(server.cpu_times()[:2])
                echo_rate = await calls_per_second(lambda: echo(b"ping"), args.streams, args.seconds)
                echo_cpu = (sum(server.cpu_times()[:2]) - cpu0) / (args.seconds + 1)

            stream_rate = await stream_ingest(port, metadata, bot_id, grpc_batches, args.concurrency)
            rest = await api_load(base, headers, bot_id, rest_bodies, args.batch_size, args.concurrency)
            during = load_line()

    print(
        f"GetParams:    {params_rate:,.0f} calls/s over {args.streams} concurrent calls "
        f"(server CPU {params_cpu:.0%} of one core)"
    )
    print(
        f"echo (unary): {echo_rate:,.0f} calls/s over {args.streams} concurrent calls "
        f"(server CPU {echo_cpu:.0%} of one core)"
    )
    print(f"GetParams / echo ratio: {params_rate / echo_rate:.2f}")
    print(
        f"StreamEvents: {stream_rate:,.0f} events/s ({args.batches} x {args.batch_size} events, "
        f"{args.concurrency} streams, PostgreSQL)"
    )
    print(f"REST ingest:  {rest.rate:,.0f} events/s (same workload, {args.concurrency} connections)")
    print(f"StreamEvents / REST ratio: {stream_rate / rest.rate:.2f}")
    print(f"during: {during}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=64, help="concurrent unary calls (default 64)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per unary figure (default 5)")
    parser.add_argument("--batches", type=int, default=200, help="ingest batches per door (default 200)")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="ingest streams / connections (default 4)")
    parser.add_argument("--serve", nargs=2, type=int, metavar=("PORT", "ECHO_PORT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        asyncio.run(serve(*arguments.serve))
        sys.exit(0)
    sys.exit(asyncio.run(main(arguments)))
