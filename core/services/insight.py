"""Learning health and reports: what a bot's loop knows and why (DESIGN.md sections 4 and 9).

Both read the bot's lookback window (event time, from its watermark) and run the pure learners'
statistics off the event loop, in a thread. Outcomes not yet stored by a resolution job are
resolved on the fly (not persisted), so the answer reflects every event already received.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.errors import not_found
from core.learn.enrich import component_outcome_counts, enrich
from core.learn.frames import CycleInputs
from core.learn.health import CycleInfo, assess_health
from core.learn.outcomes import resolve_outcomes, symbols_without_marks
from core.learn.reports import build_reports
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.params import ParamSections
from core.schemas.timefmt import ms_to_rfc3339
from core.services import schedule
from core.services.auth import Principal, require_bot
from core.services.context import ServiceContext
from core.services.learning_data import Window, load_cycle_inputs
from core.services.params import get_current_params
from core.store import repos

REPORTS = ("signals", "gates", "combos", "missed")
DAY_S = 86_400


@dataclass(frozen=True)
class _Snapshot:
    """Everything read from the database for one bot, in one short read transaction."""

    config: LearningConfig
    sections: ParamSections
    watermark_ms: int | None
    created_at_ms: int
    inputs: CycleInputs
    counts: dict[str, int]
    stored_outcomes: dict[str, int]
    last_cycles: dict[str, CycleInfo | None]
    last_success_ms: dict[str, int | None]
    last_bases: dict[str, int]
    heartbeat_ms: int | None


async def _snapshot(ctx: ServiceContext, principal: Principal, bot_id: str) -> _Snapshot:
    current = await get_current_params(ctx, principal, bot_id)
    sections = ParamSections.model_validate({k: current.document[k] for k in ParamSections.model_fields})
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, bot_id)
        if bot is None:
            raise not_found("bot", bot_id)
        config = LearningConfig.model_validate(bot.config)
        if bot.watermark_ms is None:
            inputs = CycleInputs()
        else:
            window = Window.back_from(bot.watermark_ms, config.lookback_seconds())
            inputs = await load_cycle_inputs(session, bot_id, window)
        cycles = await repos.last_cycles(session, bot_id)
        succeeded = await repos.last_succeeded_at(session, bot_id)
        return _Snapshot(
            config=config,
            sections=sections,
            watermark_ms=bot.watermark_ms,
            created_at_ms=bot.created_at,
            inputs=inputs,
            counts=await repos.event_counts(session, bot_id),
            stored_outcomes=await repos.outcome_status_counts(session, bot_id),
            last_cycles={
                kind: CycleInfo(c.id, c.status, c.finished_at, c.error) if (c := cycles.get(kind)) else None
                for kind in ("continuous", "comprehensive")
            },
            last_success_ms={kind: succeeded.get(kind) for kind in ("continuous", "comprehensive")},
            last_bases=await repos.last_cycle_bases(session, bot_id),
            heartbeat_ms=await repos.last_heartbeat(session),
        )


def _assess(snap: _Snapshot, now_ms: int, worker_stale_s: int) -> dict[str, Any]:
    config, inputs = snap.config, snap.inputs
    horizons = config.horizon_seconds()
    watermark = snap.watermark_ms or 0
    fresh = resolve_outcomes(inputs.signals, inputs.prices, horizons, watermark, inputs.outcomes)
    outcomes = (
        pd.concat([inputs.outcomes, fresh.outcomes], ignore_index=True) if len(fresh.outcomes) else inputs.outcomes
    )
    labels = dict(zip(horizons, config.horizons, strict=True))
    enriched = enrich(
        inputs, outcomes, labels, watermark, config.lookback_seconds(), snap.sections.hold_time.default.target_s
    )
    new = fresh.outcomes["status"].value_counts().to_dict() if len(fresh.outcomes) else {}
    counts = {
        **snap.counts,
        "outcomes_resolved": snap.stored_outcomes.get("resolved", 0) + int(new.get("resolved", 0)),
        "outcomes_gap": snap.stored_outcomes.get("gap", 0) + int(new.get("gap", 0)),
        "outcomes_pending": fresh.pending,
    }
    sched = config.schedule
    runs = schedule.next_runs(sched, snap.last_bases, snap.created_at_ms, now_ms)
    heartbeat_age = (now_ms - snap.heartbeat_ms) / 1000 if snap.heartbeat_ms is not None else None
    return assess_health(
        now_ms=now_ms,
        counts=counts,
        component_outcomes=component_outcome_counts(enriched),
        required=config.min_outcomes,
        weights=snap.sections.weights,
        default_weight=snap.sections.default_weight,
        symbols_without_marks=symbols_without_marks(inputs.signals, inputs.prices),
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
    )


async def get_health(ctx: ServiceContext, principal: Principal, bot_id: str) -> dict[str, Any]:
    """The health document: level, problems (each with a code and a sentence), counts, components, cycles."""
    require_bot(principal, bot_id)
    snap = await _snapshot(ctx, principal, bot_id)
    return await asyncio.to_thread(_assess, snap, ctx.clock(), ctx.settings.worker_stale_s)


async def get_report(ctx: ServiceContext, principal: Principal, bot_id: str, name: str) -> list[dict[str, Any]]:
    """One report (``signals``, ``gates``, ``combos``, ``missed``) over the bot's lookback window."""
    require_bot(principal, bot_id)
    snap = await _snapshot(ctx, principal, bot_id)
    reports = await asyncio.to_thread(build_reports, snap.inputs, snap.sections, snap.config, snap.watermark_ms or 0)
    rows = list(reports[name])
    if name == "missed":
        rows = [{**row, "ts": ms_to_rfc3339(int(str(row["ts"])))} for row in rows]
    return rows
