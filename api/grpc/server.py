"""The gRPC server: LearningService, grpc.health.v1.Health and server reflection on one port.

Health: ``""`` and ``edgeloop.v1.LearningService`` are SERVING while the readiness check
(``core.services.system.check_readiness``: the database, and Redis when configured) passes, and
NOT_SERVING while it fails; it is re-checked every ``health_interval_s`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from api.grpc.interceptor import SERVICE_NAME, EdgeloopInterceptor
from api.grpc.service import LearningService
from core.services import notify
from core.services.context import ServiceContext
from core.services.system import check_readiness
from core.settings import Settings
from core.store.db import ensure_migrated
from proto.edgeloop.v1 import learning_pb2_grpc
from workers.queue import open_job_queue

log = logging.getLogger("edgeloop.grpc")

HEALTH_INTERVAL_S = 2.0
SHUTDOWN_GRACE_S = 5.0
HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# Room above the ingest byte limit, so a somewhat oversize batch reaches the service and gets
# the same "batch_too_large" answer as REST; far larger ones are refused by gRPC itself
# (also RESOURCE_EXHAUSTED, without the edgeloop code).
_MESSAGE_SLACK = 2

# The readiness watcher of each running server; stop_grpc_server ends it before the context closes.
_watchers: dict[grpc.aio.Server, tuple[asyncio.Event, asyncio.Task[None]]] = {}


async def _report_readiness(ctx: ServiceContext, health: health_aio.HealthServicer) -> None:
    ready = await check_readiness(ctx)
    status = health_pb2.HealthCheckResponse.SERVING if ready.ok else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", SERVICE_NAME):
        await health.set(name, status)


async def _watch_readiness(
    ctx: ServiceContext, health: health_aio.HealthServicer, interval_s: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
        if not stop.is_set():
            await _report_readiness(ctx, health)
    await health.enter_graceful_shutdown()


async def start_grpc_server(
    ctx: ServiceContext, host: str, port: int, *, health_interval_s: float = HEALTH_INTERVAL_S
) -> tuple[grpc.aio.Server, int]:
    """Start serving on ``host:port`` (0 = an ephemeral port); returns the server and the bound port.

    Stop it with :func:`stop_grpc_server` (it also ends the health watcher, which uses the database).
    """
    limit = ctx.settings.max_body_bytes * _MESSAGE_SLACK
    server = grpc.aio.server(
        interceptors=[EdgeloopInterceptor(ctx)],
        options=[("grpc.max_receive_message_length", limit), ("grpc.so_reuseport", 0)],
    )
    learning_pb2_grpc.add_LearningServiceServicer_to_server(LearningService(ctx), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    await _report_readiness(ctx, health)  # so the first health check already answers
    await notify.start_listener(ctx)  # PostgreSQL: versions and revocations of other processes wake streams at once
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    stop = asyncio.Event()
    _watchers[server] = (stop, asyncio.create_task(_watch_readiness(ctx, health, health_interval_s, stop)))
    return server, bound


async def stop_grpc_server(server: grpc.aio.Server, grace_s: float | None = SHUTDOWN_GRACE_S) -> None:
    """Report NOT_SERVING, let in-flight calls finish for ``grace_s`` seconds, then stop; call before ctx.close()."""
    stop, watcher = _watchers.pop(server, (None, None))
    if stop is not None and watcher is not None:
        stop.set()
        await watcher
    await server.stop(grace_s)


async def serve_grpc(settings: Settings) -> None:
    """Run the gRPC server until SIGINT/SIGTERM, then stop gracefully."""
    ctx = ServiceContext.create(settings)
    try:
        await ensure_migrated(ctx.engine)
        async with open_job_queue(ctx):  # TriggerCycle enqueues at once (arq, or this process's runner)
            server, port = await start_grpc_server(ctx, settings.grpc_host, settings.grpc_port)
            log.info("gRPC serving %s on %s:%d", SERVICE_NAME, settings.grpc_host, port)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            await stop_grpc_server(server)
    finally:
        await ctx.close()


def run_grpc(settings: Settings) -> None:
    """``edgeloop grpc``: serve LearningService, health and reflection on settings.grpc_host:grpc_port."""
    asyncio.run(serve_grpc(settings))
