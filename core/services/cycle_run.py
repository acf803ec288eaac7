"""Running one claimed cycle: the lease, the snapshot, the pure engine in a thread, the atomic write.

Used by ``core/services/cycles.py`` (``execute_cycle``); see its docstring for the rules.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from core.errors import EdgeloopError, ErrorKind, not_found
from core.learn.enrich import resolve_pending
from core.learn.frames import CycleInputs
from core.learn.outcomes import Resolution
from core.learn.proposal import Proposal, alters_behaviour
from core.schemas.config import LearningConfig
from core.schemas.enums import AuditAction, CycleKind
from core.schemas.params import ParamSections
from core.services.context import ServiceContext
from core.services.learning_data import Loaded, Window, load_cycle_inputs
from core.services.metrics import CYCLE_DURATION, CYCLES
from core.services.params import commit_version, version_committed
from core.services.resolve import store_resolution
from core.store import repos
from core.store.db import unavailable_error
from core.store.models import Cycle

log = logging.getLogger("edgeloop.cycles")

SYSTEM = "system"
MAX_ATTEMPTS = 3  # a cycle whose worker dies this many times is failed, not re-run forever
MAX_RERUNS = 3  # a cycle re-computes when the document moved on (rollback) while it ran
NOTHING_LOADED = Loaded(CycleInputs(), np.zeros(0, dtype=np.int64))


def transient(exc: BaseException) -> bool:
    """A failure that passes: the database unreachable (``core.store.db.unavailable_error``), the queue
    unreachable (``queue_unavailable``), or a socket error or timeout on the way to either. The work is
    retried, never failed, for these."""
    if isinstance(exc, EdgeloopError):
        return exc.kind == ErrorKind.UNAVAILABLE  # the database or the queue, reported by their own layer
    return isinstance(exc, OSError | TimeoutError) or unavailable_error(exc) is not None


@dataclass(frozen=True)
class Claim:
    cycle_id: str
    kind: str
    attempt: int


@dataclass(frozen=True)
class Snapshot:
    """What one computation read: the bot's config, its event-time now, the version and the frames."""

    config: LearningConfig
    now_ms: int
    base_version: int
    sections: ParamSections
    loaded: Loaded
    # The evidence clocks the last succeeded cycle left (its insight's facts["evidence"]): carried into
    # this cycle so a value without significant evidence for evidence_ttl decays (core/learn/README.md).
    evidence: dict[str, int] = field(default_factory=dict)

    @property
    def inputs(self) -> CycleInputs:
        return self.loaded.inputs


def fail_row(row: Cycle, now: int, error: str) -> None:
    row.status, row.finished_at, row.lease_until, row.error = "failed", now, None, error


async def claim_next(ctx: ServiceContext, bot_id: str) -> Claim | None:
    """Claim the bot's next cycle (lowest seq); None when none is queued, or when another worker runs one.

    Whoever holds the lease drains the queue, so a job that finds the bot busy may simply end: the
    holder's next claim (under the same lock) sees every cycle committed before that check.
    """
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if not await repos.lock_bot(session, bot_id):
            return None
        active = await repos.active_cycles(session, bot_id)
        if any(c.status == "running" and (c.lease_until or 0) >= now for c in active):
            return None
        for row in active:
            if row.attempts >= MAX_ATTEMPTS:
                fail_row(row, now, f"gave up after {row.attempts} attempts (worker lost or database unavailable)")
                await repos.add_audit(
                    session,
                    bot_id=bot_id,
                    at=now,
                    actor=SYSTEM,
                    action="cycle_failed",
                    detail={"cycle_id": row.id, "error": row.error},
                )
                continue
            row.status, row.started_at, row.error = "running", now, None
            row.attempts += 1
            row.lease_until = now + ctx.settings.cycle_lease_s * 1000
            return Claim(row.id, row.kind, row.attempts)
    return None


async def _renew_lease(ctx: ServiceContext, claim: Claim, lost: asyncio.Event) -> None:
    """Keep the claim alive while the engine runs; set ``lost`` if another attempt took the cycle over."""
    period = ctx.settings.cycle_lease_s / 3
    while True:
        await asyncio.sleep(period)
        try:
            async with ctx.sessions.begin() as session:
                until = ctx.clock() + ctx.settings.cycle_lease_s * 1000
                if not await repos.renew_cycle_lease(session, claim.cycle_id, claim.attempt, until):
                    lost.set()
                    return
        except Exception as exc:
            if not transient(exc):
                raise
            log.warning("could not renew the lease of cycle %s; retrying", claim.cycle_id)


async def _snapshot(ctx: ServiceContext, bot_id: str) -> Snapshot:
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, bot_id)
        if bot is None:
            raise not_found("bot", bot_id)
        config = LearningConfig.model_validate(bot.config)
        document = await repos.get_version_document(session, bot_id, bot.current_version)
        assert document is not None, "bots.current_version points at a missing version"
        sections = ParamSections.model_validate({k: v for k, v in document.items() if k in ParamSections.model_fields})
        if bot.watermark_ms is None:  # nothing sent yet: nothing to learn from
            return Snapshot(config, bot.created_at, bot.current_version, sections, NOTHING_LOADED)
        window = Window.back_from(bot.watermark_ms, config.lookback_seconds())
        loaded = await load_cycle_inputs(session, bot_id, window, config.horizon_seconds())
        evidence = evidence_clocks(await repos.latest_insight(session, bot_id))
    return Snapshot(config, bot.watermark_ms, bot.current_version, sections, loaded, evidence)


def evidence_clocks(prior: Cycle | None) -> dict[str, int]:
    """The evidence clocks (value path -> event time, ms) a cycle recorded in its insight; {} without one."""
    facts: Any = ((prior.insight if prior is not None else None) or {}).get("facts") or {}
    clocks = facts.get("evidence") or {}
    return {str(k): int(v) for k, v in clocks.items() if isinstance(v, int | float)} if isinstance(clocks, dict) else {}


def _learn(snapshot: Snapshot, kind: str, resolution: Resolution) -> Proposal:
    """The pure cycle (numpy/pandas); runs in a worker thread, off the event loop."""
    from core.learn import cycle as learn_cycle  # looked up per call, so the engine module is swappable

    return learn_cycle.run_cycle(
        snapshot.inputs,
        snapshot.sections,
        snapshot.config,
        cast(CycleKind, kind),
        snapshot.now_ms,
        resolution,
        evidence=snapshot.evidence,
    )


async def _compute(ctx: ServiceContext, bot_id: str, snap: Snapshot, kind: str) -> Proposal:
    """Resolve the pending outcomes, then store them (a transaction of their own) while the learners run
    on them: the server writes while the engine computes. Both in worker threads, off the event loop."""
    resolution = await asyncio.to_thread(resolve_pending, snap.inputs, snap.config, snap.now_ms)
    store = asyncio.ensure_future(store_resolution(ctx, bot_id, snap.loaded, resolution))
    try:
        proposal = await asyncio.to_thread(_learn, snap, kind, resolution)
    except BaseException:
        await asyncio.wait([store])  # the write ends on its own (outcomes are kept whatever the engine did)
        if not store.cancelled():
            store.exception()  # the engine's error is the one to report
        raise
    await store
    return proposal


async def _record(
    ctx: ServiceContext, bot_id: str, claim: Claim, snap: Snapshot, proposal: Proposal
) -> tuple[bool, int | None]:
    """Write the result in one transaction: -> (stale, applied_version). Stale: the document moved on."""
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        await repos.lock_bot(session, bot_id)
        row = await repos.get_cycle(session, bot_id, claim.cycle_id)
        if row is None or row.status != "running" or row.attempts != claim.attempt:
            log.warning("cycle %s attempt %d lost its lease; result discarded", claim.cycle_id, claim.attempt)
            return False, None
        if await repos.current_version(session, bot_id) != snap.base_version:
            return True, None
        changes = proposal.changes_as_dicts()
        applied = None
        # Changes that alter nothing a bot would do (components entering at the default weight) are recorded
        # on the cycle below, without a version that would wake every long-poll for nothing.
        if (
            changes
            and not row.dry_run
            and snap.config.auto_apply
            and alters_behaviour(snap.sections, proposal.sections)
        ):
            document = await commit_version(
                ctx,
                session,
                bot_id,
                proposal.sections,
                source="cycle",
                cycle_id=row.id,
                now_ms=now,
                expect_version=snap.base_version,
            )
            applied = document.version
        row.status, row.finished_at, row.lease_until, row.error = "succeeded", now, None, None
        row.inputs = {k: int(v) for k, v in proposal.inputs.items()}
        row.changes = changes
        row.proposal = {"sections": proposal.sections.model_dump(mode="json")}
        row.insight = {"as_of_ms": snap.now_ms, "facts": proposal.facts, "reports": proposal.reports}
        row.base_version, row.applied_version = snap.base_version, applied
        action: AuditAction = "cycle_applied" if applied is not None else "cycle_succeeded"
        await repos.add_audit(
            session,
            bot_id=bot_id,
            at=now,
            actor=row.requested_by or SYSTEM,
            action=action,
            detail={
                "cycle_id": row.id,
                "kind": row.kind,
                "dry_run": row.dry_run,
                "changes": len(changes),
                "base_version": snap.base_version,
                "new_version": applied,
            },
        )
    return False, applied


async def _end_attempt(ctx: ServiceContext, bot_id: str, claim: Claim, error: str | None) -> None:
    """Fail the attempt with ``error``, or (None) put the cycle back in the queue for a retry."""
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        await repos.lock_bot(session, bot_id)
        row = await repos.get_cycle(session, bot_id, claim.cycle_id)
        if row is None or row.status != "running" or row.attempts != claim.attempt:
            return
        if error is None:
            row.status, row.lease_until = "queued", None
            return
        fail_row(row, now, error)
        await repos.add_audit(
            session,
            bot_id=bot_id,
            at=now,
            actor=SYSTEM,
            action="cycle_failed",
            detail={"cycle_id": row.id, "error": error},
        )


async def _release(ctx: ServiceContext, bot_id: str, claim: Claim) -> None:
    try:
        await _end_attempt(ctx, bot_id, claim, None)
    except Exception as exc:
        if not transient(exc):
            raise
        log.warning("could not release cycle %s; it is recovered when its lease expires", claim.cycle_id)


async def run_claimed(ctx: ServiceContext, bot_id: str, claim: Claim) -> None:
    """Run one claimed cycle to its end, logging its start and end and counting it (metrics)."""
    fields = {"bot": bot_id, "cycle_id": claim.cycle_id, "kind": claim.kind, "attempt": claim.attempt}
    log.info(
        "cycle %s start: bot=%s kind=%s attempt=%d", claim.cycle_id, bot_id, claim.kind, claim.attempt, extra=fields
    )
    started = time.perf_counter()
    outcome: dict[str, Any] = {"status": "failed", "changes": 0, "version": None}
    try:
        await _run_claimed(ctx, bot_id, claim, outcome)
    except asyncio.CancelledError:
        outcome["status"] = "requeued"
        raise
    except Exception as exc:
        if transient(exc):
            outcome["status"] = "requeued"
            log.warning(
                "cycle %s interrupted (%s: %s); back in the queue",
                claim.cycle_id,
                type(exc).__name__,
                exc,
                extra=fields,
            )
        raise
    finally:
        duration = time.perf_counter() - started
        CYCLES.labels(claim.kind, outcome["status"]).inc()
        CYCLE_DURATION.labels(claim.kind).observe(duration)
        log.info(
            "cycle %s end: bot=%s kind=%s status=%s duration=%.3fs changes=%d version=%s",
            claim.cycle_id,
            bot_id,
            claim.kind,
            outcome["status"],
            duration,
            outcome["changes"],
            outcome["version"],
            extra={**fields, **outcome, "duration_s": round(duration, 3)},
        )


async def _run_claimed(ctx: ServiceContext, bot_id: str, claim: Claim, outcome: dict[str, Any]) -> None:
    lost = asyncio.Event()
    renew = asyncio.create_task(_renew_lease(ctx, claim, lost))
    applied = None
    try:
        for _ in range(MAX_RERUNS):
            snap = await _snapshot(ctx, bot_id)
            proposal = await _compute(ctx, bot_id, snap, claim.kind)
            if lost.is_set():
                outcome["status"] = "lost"
                return
            stale, applied = await _record(ctx, bot_id, claim, snap, proposal)
            if not stale:
                outcome.update(status="succeeded", changes=len(proposal.changes), version=applied)
                break
        else:
            await _end_attempt(ctx, bot_id, claim, "the param document kept changing while the cycle ran")
    except asyncio.CancelledError:
        await asyncio.shield(_release(ctx, bot_id, claim))
        raise
    except Exception as exc:
        if transient(exc):  # back to the queue, not failed: the database or the network will return
            await _release(ctx, bot_id, claim)
            raise
        log.exception("cycle %s failed", claim.cycle_id, extra={"bot": bot_id, "cycle_id": claim.cycle_id})
        await _end_attempt(ctx, bot_id, claim, f"{type(exc).__name__}: {exc}")
    finally:
        renew.cancel()
        with suppress(asyncio.CancelledError):
            await renew
    if applied is not None:
        await version_committed(ctx, bot_id)
