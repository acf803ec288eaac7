"""The arq worker: functions, the cron fan-out, startup/shutdown, and ``run_worker`` (``edgeloop worker``)."""

from __future__ import annotations

import asyncio
import logging
import signal
import warnings
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC
from typing import Any

from arq import Worker, cron, func
from arq.connections import RedisSettings

from core.services.context import ServiceContext, wall_clock_ms
from core.services.cycle_run import transient
from core.settings import Settings
from core.store.db import ensure_migrated
from workers import jobs
from workers.allocator import keep_freed_memory
from workers.heartbeat import beat_forever, worker_id
from workers.queue import QUEUE_FAILURES, QUEUE_NAME, ArqJobQueue

log = logging.getLogger("edgeloop.worker")


def job_timeout_s(settings: Settings) -> int:
    """Longest a cycle job may run: a job may run the bot's earlier queued cycles before its own."""
    return max(4 * settings.cycle_lease_s, 600)


def worker_kwargs(settings: Settings, *, clock: Callable[[], int] = wall_clock_ms) -> dict[str, Any]:
    """The arq ``Worker`` arguments for ``settings``: functions, the cron fan-out, startup and shutdown."""

    async def startup(ctx: dict[str, Any]) -> None:
        svc = ServiceContext.create(settings)
        svc.clock = clock
        await ensure_migrated(svc.engine)
        svc.jobs = ArqJobQueue(ctx["redis"])
        ctx["svc"] = svc
        ctx["worker_id"] = wid = worker_id("arq")
        ctx["heartbeat"] = asyncio.ensure_future(beat_forever(svc, wid, "arq"))

    async def shutdown(ctx: dict[str, Any]) -> None:
        beat: asyncio.Task[None] | None = ctx.pop("heartbeat", None)
        if beat is not None:
            beat.cancel()
            with suppress(asyncio.CancelledError):
                await beat
        svc: ServiceContext | None = ctx.pop("svc", None)
        if svc is not None:
            await svc.close()

    timeout = job_timeout_s(settings)
    return {
        "functions": [
            func(jobs.run_cycle, name="run_cycle", max_tries=jobs.MAX_TRIES, timeout=timeout, keep_result=0),
            func(jobs.resolve_outcomes, name="resolve_outcomes", max_tries=jobs.MAX_TRIES, timeout=600, keep_result=0),
            func(jobs.apply_retention, name="apply_retention", max_tries=jobs.MAX_TRIES, timeout=3600, keep_result=0),
        ],
        # Every minute (UTC, like the bots' schedules), and once at startup so a restart recovers at once.
        "cron_jobs": [cron(jobs.schedule_tick, name="schedule_tick", second=0, run_at_startup=True, timeout=300)],
        "queue_name": QUEUE_NAME,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url or "redis://localhost:6379/0"),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "job_timeout": timeout,
        "keep_result": 0,
        "timezone": UTC,
    }


def make_worker(
    settings: Settings,
    *,
    burst: bool = False,
    handle_signals: bool = True,
    clock: Callable[[], int] = wall_clock_ms,
    poll_delay_s: float = 0.5,
    max_jobs: int = 10,
) -> Worker:
    """An arq worker for ``settings`` (``redis_url`` required). ``burst``: stop once the queue is empty.

    Build it inside a running event loop (arq binds the loop in its constructor).
    """
    if not settings.redis_url:
        raise ValueError("EDGELOOP_REDIS_URL is required to run a worker (without it, `edgeloop serve` runs jobs)")
    return Worker(
        **worker_kwargs(settings, clock=clock),
        burst=burst,
        handle_signals=handle_signals,
        poll_delay=poll_delay_s,
        max_jobs=max_jobs,
    )


async def close_worker(worker: Worker, grace_s: float = 0.0) -> None:
    """Stop ``worker``: let its running jobs finish for up to ``grace_s``, cancel the rest, then ``Worker.close``.

    arq's own ``close`` cancels the running jobs and gathers them without ``return_exceptions``, so a job
    cancelled while it was finishing (writing its result to Redis) raised ``CancelledError`` out of the
    shutdown. A cancelled cycle job is not lost: it puts its cycle back in the queue (``cycle_run``).
    Also silences the DeprecationWarning arq 0.28 triggers on redis-py 5 (``close`` -> ``aclose``).
    """
    ongoing = [task for task in worker.tasks.values() if not task.done()]
    if ongoing and grace_s > 0:
        await asyncio.wait(ongoing, timeout=grace_s)
    for task in worker.tasks.values():
        task.cancel()
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    worker.tasks.clear()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Call to deprecated close", category=DeprecationWarning)
        try:
            await worker.close()
        except QUEUE_FAILURES:
            # Redis is gone: arq's close stops at its first Redis call, before our shutdown ran. Run it
            # (heartbeat, database engine) and drop the pool without talking to Redis.
            log.info("Redis unreachable while stopping the worker; closing without it")
            if worker.on_shutdown is not None:
                await worker.on_shutdown(worker.ctx)
            pool, worker._pool = worker._pool, None
            if pool is not None:
                with suppress(*QUEUE_FAILURES):
                    await pool.aclose(close_connection_pool=True)


RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 30.0
STABLE_S = 60.0  # a worker that ran this long before Redis failed starts its backoff again from the minimum


async def run_until_stopped(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Callable[[], int] = wall_clock_ms,
    poll_delay_s: float = 0.5,
    min_backoff_s: float = RECONNECT_MIN_S,
    max_backoff_s: float = RECONNECT_MAX_S,
    grace_s: float = 10.0,
) -> int:
    """Run arq workers until ``stop`` is set, starting a new one whenever Redis drops; returns the restarts.

    A lost Redis connection ends an arq worker (``redis.exceptions.ConnectionError`` out of its poll loop,
    or of ``create_pool`` at start). Learning must not stop with it: the worker is closed (running jobs get
    ``grace_s`` to finish), and a new one connects after a backoff (``min_backoff_s`` doubling to
    ``max_backoff_s``). A new worker's start-up tick sends a job for every queued cycle that has none,
    so what a non-persistent Redis lost runs without anyone restarting anything.
    """
    backoff, restarts = min_backoff_s, 0
    while not stop.is_set():
        worker = make_worker(settings, handle_signals=False, clock=clock, poll_delay_s=poll_delay_s)
        started = asyncio.get_running_loop().time()
        run = asyncio.ensure_future(worker.async_run())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        failure: BaseException | None = None
        if run.done():
            failure = run.exception() if not run.cancelled() else None
        else:
            run.cancel()
            with suppress(asyncio.CancelledError, *QUEUE_FAILURES):
                await run
        await close_worker(worker, grace_s=grace_s if failure is not None else 0.0)
        if stop.is_set():
            break
        if failure is not None and not (isinstance(failure, QUEUE_FAILURES) or transient(failure)):
            raise failure  # a bug, not an outage (Redis or the database unreachable at start-up)
        if asyncio.get_running_loop().time() - started > STABLE_S:
            backoff = min_backoff_s
        log.warning("worker stopped (%s: %s); starting again in %.0f s", type(failure).__name__, failure, backoff)
        restarts += 1
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff)
        backoff = min(backoff * 2, max_backoff_s)
    return restarts


def run_worker(settings: Settings) -> None:
    """Run arq workers until SIGINT/SIGTERM: cycles, resolutions and the per-minute schedule fan-out.

    Survives Redis restarts (``run_until_stopped``): it reconnects with backoff and learning resumes.
    """

    keep_freed_memory(settings.keep_freed_memory_mb)
    if settings.worker_metrics_port is not None:  # the cycles run here: their metrics are this process's
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr=settings.host)
        log.info("worker metrics on http://%s:%d/metrics", settings.host, settings.worker_metrics_port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_until_stopped(settings, stop)

    asyncio.run(main())


class WorkerSettings:
    """For ``arq workers.settings.WorkerSettings``: the same worker, settings from the environment.

    ``edgeloop worker`` (``run_worker``) is the usual way in.
    """


for _name, _value in worker_kwargs(Settings()).items():
    setattr(WorkerSettings, _name, _value)
