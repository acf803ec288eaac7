"""Job functions, shared by arq workers and the embedded runner. Each takes the arq-style ``ctx`` dict.

``ctx["svc"]`` is the process's ``ServiceContext``; ``ctx["job_try"]`` counts attempts (1-based).
Transient failures (database or network) raise ``arq.Retry`` with exponential backoff; domain
failures are recorded on the cycle and end the job. Every job is idempotent (see core/services).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq import Retry

from core.errors import EdgeloopError
from core.services import cycles, resolve, retention, scheduler
from core.services.context import ServiceContext
from core.services.cycle_run import transient

log = logging.getLogger("edgeloop.jobs")

TICK_S = 60  # the scheduler's period: arq cron every minute, the embedded runner likewise
MAX_TRIES = 6
MAX_BACKOFF_S = 60.0

JobCtx = dict[str, Any]


def service(ctx: JobCtx) -> ServiceContext:
    svc: ServiceContext = ctx["svc"]
    return svc


def backoff_s(job_try: int) -> float:
    """1 s, 2 s, 4 s, ... capped at a minute."""
    return min(2.0 ** max(job_try - 1, 0), MAX_BACKOFF_S)


def _retry(ctx: JobCtx, what: str, exc: BaseException) -> Retry:
    defer = backoff_s(int(ctx.get("job_try", 1)))
    log.warning("%s hit a transient error (%s: %s); retrying in %.0fs", what, type(exc).__name__, exc, defer)
    return Retry(defer=defer)


async def resolve_outcomes(ctx: JobCtx, bot: str) -> dict[str, int]:
    """Resolve and store the bot's newly decidable outcomes."""
    try:
        result = await resolve.resolve_bot(service(ctx), bot)
    except EdgeloopError as exc:  # the bot is gone: nothing to do, nothing to retry
        log.warning("resolve_outcomes(%s): %s", bot, exc)
        return {}
    except Exception as exc:
        if not transient(exc):
            raise
        raise _retry(ctx, f"resolve_outcomes({bot})", exc) from exc
    return {"stored": result.stored, "pending": result.pending}


async def apply_retention(ctx: JobCtx, bot: str) -> dict[str, int]:
    """Remove (archiving first, when configured) the bot's raw events older than its retention."""
    try:
        result = await retention.apply_retention(service(ctx), bot)
    except EdgeloopError as exc:  # the bot is gone
        log.warning("apply_retention(%s): %s", bot, exc)
        return {}
    except Exception as exc:
        if not transient(exc):
            raise
        raise _retry(ctx, f"apply_retention({bot})", exc) from exc
    return result.removed


async def run_cycle(
    ctx: JobCtx, bot: str, kind: str | None = None, dry_run: bool = False, cycle_id: str | None = None
) -> str | None:
    """Run cycle ``cycle_id`` (and any cycle of the bot queued before it); returns its final status.

    Called with ``kind`` (and no ``cycle_id``), queues a new cycle of that kind first: a cycle asked
    for by a job rather than through the API.
    """
    if cycle_id is None:
        cycle_id = str(uuid.uuid4())
        kind = kind or "continuous"
    try:
        record = await cycles.execute_cycle(service(ctx), bot, cycle_id, kind=kind, dry_run=dry_run)
    except Exception as exc:
        if not transient(exc):
            raise
        raise _retry(ctx, f"run_cycle({bot}, {cycle_id})", exc) from exc
    return record.status if record is not None else None


async def schedule_tick(ctx: JobCtx) -> dict[str, Any]:
    """The fan-out: for every bot, queue the cycles and resolutions that are due; recover stale cycles."""
    try:
        result = await scheduler.run_schedule(service(ctx), TICK_S * 1000)
    except Exception as exc:
        if not transient(exc):
            raise
        log.warning("schedule tick skipped (%s: %s)", type(exc).__name__, exc)
        return {}
    return {
        "cycles": result.cycles,
        "resolves": result.resolves,
        "recovered": result.recovered,
        "retentions": result.retentions,
    }
