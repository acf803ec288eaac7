"""Fixtures for queue tests: settings pointing at the real Redis, the app over arq, a real arq worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import httpx
import pytest

from api.rest.app import create_app
from core.services.context import ServiceContext, wall_clock_ms
from core.settings import Settings
from workers.queue import ArqJobQueue, arq_redis
from workers.settings import close_worker, make_worker


@pytest.fixture
def arq_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url})


@pytest.fixture
async def arq_ctx(arq_settings: Settings) -> AsyncIterator[ServiceContext]:
    """A service context whose jobs go to arq (what an API replica has)."""
    assert arq_settings.redis_url
    context = ServiceContext.create(arq_settings)
    redis = arq_redis(arq_settings.redis_url)
    context.jobs = ArqJobQueue(redis)
    try:
        yield context
    finally:
        await redis.aclose(close_connection_pool=True)
        await context.close()


@pytest.fixture
async def arq_client(arq_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(arq_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://edgeloop.test") as http:
            yield http


async def run_burst(settings: Settings, clock: Callable[[], int] = wall_clock_ms) -> None:
    """A real arq worker in this process, in burst mode: runs every queued job (and the startup cron), then stops."""
    worker = make_worker(settings, burst=True, handle_signals=False, clock=clock, poll_delay_s=0.05)
    try:
        await asyncio.wait_for(worker.async_run(), 60)
    finally:
        await close_worker(worker)


@asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """A real arq worker running in the background for the duration of the block."""
    worker = make_worker(settings, handle_signals=False, poll_delay_s=0.05)
    task = asyncio.ensure_future(worker.async_run())
    try:
        yield
    finally:
        await close_worker(worker, grace_s=10)
        with suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    """Poll ``check`` until it is true (or fail after ``timeout_s``)."""
    for _ in range(int(timeout_s / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true within {timeout_s} s")
