"""The embedded runner: with no Redis, the job functions run in this process on the same schedule.

What `make run` uses: one process, SQLite, no Redis. Jobs are deduplicated by id while pending,
retried with the same backoff as arq, and run by a few consumer tasks; the numpy work inside a
cycle runs in a thread, so the API stays responsive. Cycles are recorded in the database, so a
restart loses no cycle: the first tick's recovery re-sends anything queued or interrupted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from arq import Retry

from core.services.context import ServiceContext
from workers import jobs
from workers.heartbeat import beat_forever, period_s, record_heartbeat_safely, worker_id

log = logging.getLogger("edgeloop.embedded")

JobFn = Callable[..., Awaitable[Any]]


class EmbeddedRunner:
    """A ``JobQueue`` that runs jobs in-process, plus the scheduler and the heartbeat."""

    backend = "embedded"

    def __init__(self, ctx: ServiceContext, *, tick_s: float = jobs.TICK_S, concurrency: int = 2) -> None:
        self.ctx = ctx
        self.tick_s = tick_s
        self.concurrency = concurrency
        self.worker_id = worker_id("embedded")
        self._queue: asyncio.Queue[tuple[str, JobFn, tuple[Any, ...], dict[str, Any], int]] = asyncio.Queue()
        self._pending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue_cycle(self, bot_id: str, cycle_id: str) -> None:
        self._submit(f"cycle:{cycle_id}", jobs.run_cycle, (bot_id,), {"cycle_id": cycle_id})

    async def enqueue_resolve(self, bot_id: str) -> None:
        self._submit(f"resolve:{bot_id}", jobs.resolve_outcomes, (bot_id,), {})

    async def check_available(self) -> None:
        """Always: the queue is this process."""

    async def has_cycle_job(self, cycle_id: str) -> bool:
        return f"cycle:{cycle_id}" in self._pending

    async def enqueue_retention(self, bot_id: str) -> None:
        self._submit(f"retention:{bot_id}", jobs.apply_retention, (bot_id,), {})

    def _submit(self, job_id: str, fn: JobFn, args: tuple[Any, ...], kwargs: dict[str, Any], job_try: int = 1) -> None:
        if job_try == 1 and job_id in self._pending:
            return
        self._pending.add(job_id)
        self._queue.put_nowait((job_id, fn, args, kwargs, job_try))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, delay_s: float, job: tuple[str, JobFn, tuple[Any, ...], dict[str, Any], int]) -> None:
        await asyncio.sleep(delay_s)
        self._queue.put_nowait(job)

    async def _consume(self) -> None:
        while True:
            job_id, fn, args, kwargs, job_try = await self._queue.get()
            retry = False
            try:
                await fn({"svc": self.ctx, "job_id": job_id, "job_try": job_try}, *args, **kwargs)
            except Retry as exc:
                retry = job_try < jobs.MAX_TRIES
                if retry:
                    self._spawn(self._later((exc.defer_score or 0) / 1000, (job_id, fn, args, kwargs, job_try + 1)))
                else:
                    log.error("job %s gave up after %d tries", job_id, job_try)
            except Exception:
                log.exception("job %s failed", job_id)
            finally:
                if not retry:
                    self._pending.discard(job_id)

    async def _tick(self) -> None:
        try:
            await jobs.schedule_tick({"svc": self.ctx, "job_id": "schedule_tick", "job_try": 1})
        except Exception:  # a bad tick must not stop the schedule
            log.exception("schedule tick failed")

    async def _schedule(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            await self._tick()

    async def start(self) -> None:
        """Beat and tick once before returning (a restart recovers interrupted cycles at once), then keep going."""
        for _ in range(self.concurrency):
            self._spawn(self._consume())
        await record_heartbeat_safely(self.ctx, self.worker_id, "embedded")
        await self._tick()
        self._spawn(self._schedule())
        self._spawn(beat_forever(self.ctx, self.worker_id, "embedded", first_after_s=period_s(self.ctx)))

    async def stop(self) -> None:
        """Cancel everything; a cycle interrupted here is put back in the queue (see core/services/cycles.py)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
