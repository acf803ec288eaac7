"""Learning health and reports: what a bot's loop knows and why (DESIGN.md sections 4 and 9).

Nothing heavy runs in a request: every cycle records its insight (the facts health needs and, for
comprehensive cycles, the reports) on its row, and these functions read the latest one plus a few
counts. Health is as of the last succeeded cycle (``evidence`` says which and when); reports are
as of the last succeeded comprehensive cycle (``cycle_id`` / ``as_of`` on every page). A dry run
refreshes them too, so a bot key can ask for fresh reports with a dry-run comprehensive cycle.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from core.errors import EdgeloopError, ErrorKind, not_found
from core.learn.health import LEVELS, CycleInfo, Evidence, assess_health
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.params import ParamSections
from core.schemas.timefmt import ms_to_rfc3339
from core.services import activations, retention, schedule
from core.services.auth import Principal, require_bot
from core.services.context import ServiceContext
from core.services.params import get_current_params
from core.store import repos
from core.store.models import Cycle

REPORTS = ("signals", "gates", "combos", "missed", "rules", "slices", "correlation")
PROBLEM_LEVEL_STALE = "warn"  # stale_activation: the bot trades, on old params
DAY_S = 86_400


@dataclass(frozen=True)
class _Snapshot:
    """Everything read from the database for one bot, in one short read transaction."""

    config: LearningConfig
    version: int
    sections: ParamSections
    created_at_ms: int
    counts: dict[str, int]
    stored_outcomes: dict[str, int]
    last_cycles: dict[str, CycleInfo | None]
    last_success_ms: dict[str, int | None]
    last_bases: dict[str, int]
    heartbeat_ms: int | None
    insight: Cycle | None
    data: retention.DataSnapshot


async def _snapshot(ctx: ServiceContext, principal: Principal, bot_id: str) -> _Snapshot:
    current = await get_current_params(ctx, principal, bot_id)
    sections = ParamSections.model_validate({k: current.document[k] for k in ParamSections.model_fields})
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, bot_id)
        if bot is None:
            raise not_found("bot", bot_id)
        config = LearningConfig.model_validate(bot.config)
        cycles = await repos.last_cycles(session, bot_id)
        succeeded = await repos.last_succeeded_at(session, bot_id)
        return _Snapshot(
            config=config,
            version=current.version,
            sections=sections,
            created_at_ms=bot.created_at,
            counts=await repos.event_counts(session, bot_id),
            stored_outcomes=await repos.outcome_status_counts(session, bot_id),
            last_cycles={
                kind: CycleInfo(c.id, c.status, c.finished_at, c.error) if (c := cycles.get(kind)) else None
                for kind in ("continuous", "comprehensive")
            },
            last_success_ms={kind: succeeded.get(kind) for kind in ("continuous", "comprehensive")},
            last_bases=await repos.last_cycle_bases(session, bot_id),
            heartbeat_ms=await repos.last_heartbeat(session),
            insight=await repos.latest_insight(session, bot_id),
            data=await retention.data_snapshot(session, bot),
        )


def _assess(snap: _Snapshot, now_ms: int, worker_stale_s: int) -> dict[str, Any]:
    config = snap.config
    facts = dict((snap.insight.insight or {}).get("facts") or {}) if snap.insight is not None else {}
    counts = {
        **snap.counts,
        "outcomes_resolved": snap.stored_outcomes.get("resolved", 0),
        "outcomes_gap": snap.stored_outcomes.get("gap", 0),
        "outcomes_pending": int(facts.get("outcomes_pending") or 0),
    }
    sched = config.schedule
    runs = schedule.next_runs(sched, snap.last_bases, snap.created_at_ms, now_ms)
    heartbeat_age = (now_ms - snap.heartbeat_ms) / 1000 if snap.heartbeat_ms is not None else None
    return assess_health(
        now_ms=now_ms,
        counts=counts,
        component_outcomes=facts.get("component_outcomes"),
        required=config.min_outcomes,
        weights=snap.sections.weights,
        default_weight=snap.sections.default_weight,
        symbols_without_marks=facts.get("symbols_without_marks"),
        last_cycles=snap.last_cycles,
        last_success_ms=snap.last_success_ms,
        intervals_s={"continuous": duration_seconds(sched.continuous_every), "comprehensive": DAY_S}
        if sched.enabled
        else {},
        schedule_start_ms=snap.created_at_ms,
        worker_expected=sched.enabled,
        worker_heartbeat_age_s=heartbeat_age,
        heartbeat_max_age_s=float(worker_stale_s),
        next_runs={job: ms_to_rfc3339(at) if at is not None else None for job, at in runs.items()},
        evidence=_evidence(snap.insight),
    )


def _evidence(row: Cycle | None) -> Evidence | None:
    if row is None or row.insight is None:
        return None
    return Evidence(row.id, int(row.insight["as_of_ms"]))


async def get_health(ctx: ServiceContext, principal: Principal, bot_id: str) -> dict[str, Any]:
    """The health document: level, problems (each with a code and a sentence), counts, components, cycles,
    and the evidence (which cycle the per-component numbers come from)."""
    require_bot(principal, bot_id)
    snap = await _snapshot(ctx, principal, bot_id)
    now = ctx.clock()
    health = retention.add_to_health(
        _assess(snap, now, ctx.settings.worker_stale_s), snap.data, now, ctx.settings.retention_every_s
    )
    if not await _queue_available(ctx):
        health["problems"].append(
            {
                "code": "queue_unavailable",
                "message": "The job queue (Redis) is unreachable: no cycle or resolution can be queued; "
                "a cycle trigger answers 503 until it is back.",
                "detail": {},
            }
        )
        health["level"] = "error"
    active = await activations.active_summary(ctx, bot_id, snap.version)
    problem = active.pop("problem")
    if problem is not None:
        health["problems"] = [*health["problems"], problem]
        if LEVELS[str(health["level"])] < LEVELS[PROBLEM_LEVEL_STALE]:
            health["level"] = PROBLEM_LEVEL_STALE
    return {**health, "current_version": snap.version, **active}


async def _queue_available(ctx: ServiceContext) -> bool:
    if ctx.jobs is None:
        return True
    try:
        await asyncio.wait_for(ctx.jobs.check_available(), QUEUE_CHECK_S)
    except (EdgeloopError, TimeoutError):
        return False
    return True


QUEUE_CHECK_S = 3.0


async def get_report(ctx: ServiceContext, principal: Principal, bot_id: str, name: str) -> dict[str, Any]:
    """One report (one of ``REPORTS``) of the last succeeded comprehensive cycle.

    Out: {"rows", "cycle_id", "as_of"}; the signals report shows the weights in force now. Before any
    comprehensive cycle has succeeded: a 404 problem ``report_not_ready`` that says how to get one.
    """
    require_bot(principal, bot_id)
    current = await get_current_params(ctx, principal, bot_id)
    async with ctx.sessions() as session:
        row = await repos.latest_insight(session, bot_id, "comprehensive")
    if row is None or row.insight is None or name not in (row.insight.get("reports") or {}):
        raise EdgeloopError(
            ErrorKind.NOT_FOUND,
            "report_not_ready",
            "Report not ready",
            f"No comprehensive cycle has finished for bot {bot_id!r} yet; reports come from comprehensive "
            f"cycles (daily when scheduled). Queue one: POST /v1/bots/{bot_id}/cycles "
            '{"kind": "comprehensive", "dry_run": true}.',
        )
    rows: list[dict[str, Any]] = list(row.insight["reports"][name])
    if name == "signals":
        weights, default = current.document["weights"], current.document["default_weight"]
        rows = [{**r, "weight": weights.get(r["component"], default)} for r in rows]
    elif name == "missed":
        rows = [{**r, "ts": ms_to_rfc3339(int(r["ts"]))} for r in rows]
    return {"rows": rows, "cycle_id": row.id, "as_of": ms_to_rfc3339(int(row.insight["as_of_ms"]))}
