"""Where jobs go: arq on Redis, or the embedded in-process runner; ``open_job_queue`` picks one for a process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import queue_unavailable
from core.services.context import JobQueue, ServiceContext
from workers.embedded import EmbeddedRunner
from workers.jobs import TICK_S

QUEUE_NAME = "edgeloop:queue"


# What Redis being down or unreachable raises (redis-py wraps socket errors, but not always).
QUEUE_FAILURES: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
CONNECT_TIMEOUT_S = 2.0  # a Redis host that drops packets answers 503 within this, not after the OS timeout


def arq_redis(url: str) -> ArqRedis:
    """An arq client that connects on first use (so the API starts, and /readyz reports, while Redis is down)."""
    pool = ConnectionPool.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=10.0)
    return ArqRedis(pool, default_queue_name=QUEUE_NAME)


class ArqJobQueue:
    """Jobs as arq jobs. Job ids make enqueueing idempotent: one pending job per cycle, one per bot's resolution.

    Redis failures leave here as ``queue_unavailable`` (503 to a client; transient to jobs and the schedule).
    """

    backend = "arq"

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def check_available(self) -> None:
        try:
            await self.redis.ping()
        except QUEUE_FAILURES as exc:
            raise queue_unavailable() from exc

    async def has_cycle_job(self, cycle_id: str) -> bool:
        try:
            status = await Job(f"cycle:{cycle_id}", self.redis, _queue_name=QUEUE_NAME).status()
        except QUEUE_FAILURES as exc:
            raise queue_unavailable() from exc
        return status != JobStatus.not_found

    async def enqueue_cycle(self, bot_id: str, cycle_id: str) -> None:
        try:
            await self._enqueue_cycle(bot_id, cycle_id)
        except QUEUE_FAILURES as exc:
            raise queue_unavailable() from exc

    async def _enqueue_cycle(self, bot_id: str, cycle_id: str) -> None:
        job_id = f"cycle:{cycle_id}"
        if await self.redis.enqueue_job("run_cycle", bot_id, cycle_id=cycle_id, _job_id=job_id) is not None:
            return
        # A job with this id exists. If arq believes it is in progress, its worker may have been killed:
        # arq re-runs such a job only when the in-progress marker expires (the job timeout), so send a
        # second one now (at most one a minute); the cycle's claim makes a duplicate a no-op.
        if await Job(job_id, self.redis, _queue_name=QUEUE_NAME).status() == JobStatus.in_progress:
            kick = f"{job_id}:{int(time.time()) // 60}"
            await self.redis.enqueue_job("run_cycle", bot_id, cycle_id=cycle_id, _job_id=kick)

    async def enqueue_resolve(self, bot_id: str) -> None:
        try:
            await self.redis.enqueue_job("resolve_outcomes", bot_id, _job_id=f"resolve:{bot_id}")
        except QUEUE_FAILURES as exc:
            raise queue_unavailable() from exc

    async def enqueue_retention(self, bot_id: str) -> None:
        try:
            await self.redis.enqueue_job("apply_retention", bot_id, _job_id=f"retention:{bot_id}")
        except QUEUE_FAILURES as exc:
            raise queue_unavailable() from exc


@asynccontextmanager
async def open_job_queue(ctx: ServiceContext, *, tick_s: float = TICK_S) -> AsyncIterator[JobQueue]:
    """Attach ``ctx.jobs`` for the life of a process (the API lifespan, the CLI).

    With ``EDGELOOP_REDIS_URL``: arq (workers run the jobs). Without: the embedded runner, which also
    runs the schedule every ``tick_s`` seconds and writes this process's heartbeat.
    """
    if ctx.settings.redis_url:
        redis = arq_redis(ctx.settings.redis_url)
        queue: JobQueue = ArqJobQueue(redis)
        ctx.jobs = queue
        try:
            yield queue
        finally:
            ctx.jobs = None
            await redis.aclose(close_connection_pool=True)
        return
    runner = EmbeddedRunner(ctx, tick_s=tick_s)
    ctx.jobs = runner
    await runner.start()
    try:
        yield runner
    finally:
        ctx.jobs = None
        await runner.stop()
