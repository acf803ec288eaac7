"""Learning cycles (DESIGN.md section 8): queue, run, record, apply, recover.

Rules, and how they hold:
- One cycle per bot at a time, in queue order. A cycle is claimed under the bot row's lock, only
  when no cycle of the bot holds a live lease, and always the lowest ``seq`` first. A job drains
  the bot's queue; if another worker holds the lease, that worker's drain takes the cycle.
- A crash leaves the old version or the new one. The proposal, the new version, the cycle record
  and the audit entry are written in one transaction; the lease is renewed while the engine runs,
  and a cycle whose lease expires (worker killed) is re-queued by ``recover_stale_cycles``, or
  failed after ``MAX_ATTEMPTS`` attempts.
- Idempotent jobs: a claim only takes a queued (or expired) cycle, and the result is written only
  by the attempt that holds the claim, so a retried or duplicated job never makes two versions.
"""

from __future__ import annotations

import logging
import uuid
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import conflict, not_found
from core.schemas.cycles import ChangeRead, CycleQueued, CycleRead
from core.schemas.enums import AuditAction, CycleKind, CycleStatus
from core.schemas.params import ParamDocument, ParamSections
from core.schemas.resources import Page
from core.schemas.timefmt import ms_to_rfc3339
from core.services.auth import Principal, require_admin, require_bot
from core.services.context import ServiceContext
from core.services.cycle_run import MAX_ATTEMPTS, SYSTEM, claim_next, fail_row, run_claimed, transient
from core.services.paging import DEFAULT_LIMIT, decode_int_cursor, encode_cursor
from core.services.params import commit_version, observe_version, version_committed
from core.services.validation import INT8_MAX, require_stored_id
from core.store import repos
from core.store.models import Cycle

log = logging.getLogger("edgeloop.cycles")

STALL_MS = 60_000  # a queued cycle with no job for this long gets one again


def cycle_read(row: Cycle) -> CycleRead:
    def rfc(ms: int | None) -> str | None:
        return ms_to_rfc3339(ms) if ms is not None else None

    return CycleRead(
        cycle_id=row.id,
        bot_id=row.bot_id,
        kind=cast(CycleKind, row.kind),
        dry_run=row.dry_run,
        status=cast(CycleStatus, row.status),
        queued_at=ms_to_rfc3339(row.queued_at),
        started_at=rfc(row.started_at),
        finished_at=rfc(row.finished_at),
        inputs=row.inputs or {},
        changes=[ChangeRead.model_validate(c) for c in row.changes or []],
        applied_version=row.applied_version,
        base_version=row.base_version,
        error=row.error,
        requested_by=row.requested_by,
    )


async def queue_cycle(
    session: AsyncSession,
    bot_id: str,
    kind: str,
    dry_run: bool,
    requested_by: str,
    now: int,
    cycle_id: str | None = None,
) -> Cycle:
    """Add a queued cycle; the caller holds the bot lock (so ``seq`` is the queue order)."""
    row = Cycle(
        id=cycle_id or str(uuid.uuid4()),
        bot_id=bot_id,
        seq=await repos.next_cycle_seq(session, bot_id),
        kind=kind,
        dry_run=dry_run,
        status="queued",
        queued_at=now,
        attempts=0,
        requested_by=requested_by,
    )
    session.add(row)
    await session.flush()
    await repos.add_audit(
        session,
        bot_id=bot_id,
        at=now,
        actor=requested_by,
        action="cycle_queued",
        detail={"cycle_id": row.id, "kind": kind, "dry_run": dry_run},
    )
    return row


async def enqueue(ctx: ServiceContext, bot_id: str, cycle_id: str) -> None:
    """Hand a committed cycle to the queue. If that fails the cycle stays queued and recovery re-sends it
    (``recover_stale_cycles``: a queued cycle with no job gets one at the next tick or worker start)."""
    if ctx.jobs is None:
        log.warning("no job queue attached; cycle %s waits for recovery", cycle_id)
        return
    try:
        await ctx.jobs.enqueue_cycle(bot_id, cycle_id)
    except Exception as exc:
        if not transient(exc):
            raise
        log.exception("could not enqueue cycle %s; recovery will re-send it", cycle_id)


async def trigger_cycle(
    ctx: ServiceContext, principal: Principal, bot_id: str, kind: str, dry_run: bool
) -> CycleQueued:
    """Queue a cycle (bot keys: dry runs of their own bot only) and hand it to the workers after the commit."""
    require_bot(principal, bot_id)
    if not dry_run:
        require_admin(principal, bot_id)
    if ctx.jobs is not None:
        # With the queue down, answer 503 queue_unavailable and commit nothing, so a client that retries
        # never queues a second cycle. Should the queue drop between this check and the send, the cycle is
        # committed (202) and recovery sends its job once the queue is back.
        await ctx.jobs.check_available()
    async with ctx.sessions.begin() as session:
        if not await repos.lock_bot(session, bot_id):
            raise not_found("bot", bot_id)
        row = await queue_cycle(session, bot_id, kind, dry_run, principal.key_id, ctx.clock())
    await enqueue(ctx, bot_id, row.id)
    return CycleQueued(cycle_id=row.id, status="queued")


async def get_cycle(ctx: ServiceContext, principal: Principal, bot_id: str, cycle_id: str) -> CycleRead:
    require_bot(principal, bot_id)
    require_stored_id(cycle_id, "cycle")
    async with ctx.sessions() as session:
        row = await repos.get_cycle(session, bot_id, cycle_id)
    if row is None:
        raise not_found("cycle", cycle_id)
    observe_version(ctx, bot_id, row.applied_version)
    return cycle_read(row)


async def list_cycles(
    ctx: ServiceContext, principal: Principal, bot_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[CycleRead]:
    """The bot's cycles, newest first."""
    require_bot(principal, bot_id)
    async with ctx.sessions() as session:
        if await repos.current_version(session, bot_id) is None:
            raise not_found("bot", bot_id)
        rows = await repos.list_cycles(
            session, bot_id, before=decode_int_cursor(cursor, max_value=INT8_MAX), limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    observe_version(ctx, bot_id, max((r.applied_version or 0 for r in rows), default=0))
    return Page(items=[cycle_read(r) for r in rows], next_cursor=encode_cursor(rows[-1].seq) if more else None)


async def apply_cycle(ctx: ServiceContext, principal: Principal, bot_id: str, cycle_id: str) -> ParamDocument:
    """Make a stored proposal (dry run or apprentice mode) the next version; 409 if stale or not applicable."""
    require_admin(principal, bot_id)
    require_stored_id(cycle_id, "cycle")
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if not await repos.lock_bot(session, bot_id):
            raise not_found("bot", bot_id)
        row = await repos.get_cycle(session, bot_id, cycle_id)
        if row is None:
            raise not_found("cycle", cycle_id)
        if row.status != "succeeded":
            raise conflict(
                "cycle_not_finished",
                "Cycle has no proposal",
                f"cycle {cycle_id} is {row.status}; only a succeeded cycle can be applied",
            )
        if row.applied_version is not None:
            raise conflict(
                "cycle_already_applied",
                "Cycle already applied",
                f"cycle {cycle_id} became version {row.applied_version}",
            )
        if not row.changes or row.proposal is None:
            raise conflict("empty_proposal", "Nothing to apply", f"cycle {cycle_id} proposed no changes")
        document = await commit_version(
            ctx,
            session,
            bot_id,
            ParamSections.model_validate(row.proposal["sections"]),
            source="cycle",
            cycle_id=row.id,
            now_ms=now,
            expect_version=row.base_version,
        )
        row.applied_version = document.version
        await repos.add_audit(
            session,
            bot_id=bot_id,
            at=now,
            actor=principal.key_id,
            action="cycle_applied",
            detail={
                "cycle_id": row.id,
                "base_version": row.base_version,
                "new_version": document.version,
                "changes": len(row.changes),
            },
        )
    await version_committed(ctx, bot_id)
    return document


async def execute_cycle(
    ctx: ServiceContext, bot_id: str, cycle_id: str, *, kind: str | None = None, dry_run: bool = False
) -> CycleRead | None:
    """Job body: run the bot's queued cycles in order (``cycle_id`` among them); return its record (None if unknown).

    With ``kind``, a missing cycle row is created first (a job enqueued without going through
    ``trigger_cycle``). Transient errors (database or network) put the cycle back in the queue and
    propagate, so the job is retried; any other error fails the cycle with that error.
    """
    if kind is not None:
        async with ctx.sessions.begin() as session:
            if await repos.lock_bot(session, bot_id) and await repos.get_cycle(session, bot_id, cycle_id) is None:
                await queue_cycle(session, bot_id, kind, dry_run, SYSTEM, ctx.clock(), cycle_id=cycle_id)
    while (claim := await claim_next(ctx, bot_id)) is not None:
        await run_claimed(ctx, bot_id, claim)
    async with ctx.sessions() as session:
        row = await repos.get_cycle(session, bot_id, cycle_id)
    return cycle_read(row) if row is not None else None


# --- schedule and recovery ---------------------------------------------------------------------


async def recover_stale_cycles(ctx: ServiceContext) -> list[str]:
    """Re-queue running cycles whose lease expired (fail them after ``MAX_ATTEMPTS``) and re-send jobs for
    queues that stalled (a lost job). Returns the ids of the cycles handed to the queue."""
    now = ctx.clock()
    async with ctx.sessions() as session:
        bots = sorted({row.bot_id for row in await repos.expired_cycles(session, now)})
    sent: dict[str, str] = {}
    action: AuditAction
    for bot_id in bots:
        async with ctx.sessions.begin() as session:
            await repos.lock_bot(session, bot_id)
            for row in await repos.active_cycles(session, bot_id):
                if row.status != "running" or (row.lease_until or 0) >= now:
                    continue
                if row.attempts >= MAX_ATTEMPTS:
                    fail_row(row, now, f"gave up after {row.attempts} attempts (worker lost or database unavailable)")
                    action = "cycle_failed"
                else:
                    row.status, row.lease_until = "queued", None
                    action = "cycle_requeued"
                    sent.setdefault(bot_id, row.id)
                await repos.add_audit(
                    session,
                    bot_id=bot_id,
                    at=now,
                    actor=SYSTEM,
                    action=action,
                    detail={"cycle_id": row.id, "attempts": row.attempts},
                )
    async with ctx.sessions() as session:
        stalled = set(await repos.stalled_queues(session, now - STALL_MS))
        waiting = await repos.stalled_queues(session, now + 1)
    for bot_id, cycle_id in waiting:
        # A queued cycle whose job is gone (Redis restarted without persistence, or was down when the cycle
        # was queued) gets one now; one queued for long gets one anyway (its job's worker may have died).
        if (bot_id, cycle_id) in stalled or (ctx.jobs is not None and not await ctx.jobs.has_cycle_job(cycle_id)):
            sent.setdefault(bot_id, cycle_id)
    for bot_id, cycle_id in sent.items():
        await enqueue(ctx, bot_id, cycle_id)
    return list(sent.values())
