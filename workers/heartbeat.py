"""Workers report they are alive in `worker_heartbeats`; `/v1/status` shows the age, health raises
`worker_missing` when it is older than ``worker_stale_s``."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

from core.services.context import ServiceContext
from core.services.cycle_run import transient
from core.services.status import record_heartbeat

log = logging.getLogger("edgeloop.heartbeat")


def worker_id(prefix: str) -> str:
    """``prefix:host:pid:random`` (fits the 64-character column)."""
    return f"{prefix}:{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:64]


def period_s(ctx: ServiceContext) -> float:
    """Often enough that one missed beat never looks like a dead worker."""
    return min(30.0, ctx.settings.worker_stale_s / 4)


async def record_heartbeat_safely(ctx: ServiceContext, wid: str, queue: str) -> None:
    """One heartbeat; database hiccups are logged, not fatal."""
    try:
        await record_heartbeat(ctx, wid, queue)
    except Exception as exc:
        if not transient(exc):
            raise
        log.warning("heartbeat not written (%s: %s)", type(exc).__name__, exc)


async def beat_forever(ctx: ServiceContext, wid: str, queue: str, first_after_s: float = 0.0) -> None:
    """Write a heartbeat (after ``first_after_s``) and then every ``period_s``."""
    await asyncio.sleep(first_after_s)
    while True:
        await record_heartbeat_safely(ctx, wid, queue)
        await asyncio.sleep(period_s(ctx))
