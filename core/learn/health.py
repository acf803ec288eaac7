"""Learning health (DESIGN.md section 9): is the loop fed, resolving, learning and running?

Pure: every input is a plain value the service layer has already read; ``now_ms`` is passed in.
Levels: ``error`` for cycle_failed and worker_missing; ``warn`` for no_events, no_cycle_yet,
no_price_marks, insufficient_outcomes, cycle_overdue and rules_stale; ``ok`` without problems.
The per-component evidence, the pending count and the symbols without marks come from the last
succeeded cycle (``Evidence``): health is read, never computed over the window, in a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.learn.frames import rfc3339_ms
from core.learn.proposal import JsonValue, jsonable

LEVELS = {"ok": 0, "warn": 1, "error": 2}
PROBLEM_LEVEL = {
    "no_events": "warn",
    "no_cycle_yet": "warn",
    "no_price_marks": "warn",
    "insufficient_outcomes": "warn",
    "cycle_overdue": "warn",
    "rules_stale": "warn",
    "cycle_failed": "error",
    "worker_missing": "error",
}
HEARTBEAT_MAX_AGE_S = 120.0


@dataclass(frozen=True)
class CycleInfo:
    """The last cycle of one kind."""

    cycle_id: str
    status: str
    finished_at_ms: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Evidence:
    """The succeeded cycle the component counts, pending pairs and symbols without marks come from."""

    cycle_id: str
    as_of_ms: int  # that cycle's now: the bot's watermark when it ran


def component_status(
    outcomes: dict[str, int], required: int, weights: dict[str, float], default_weight: float
) -> list[dict[str, JsonValue]]:
    """Per component (sorted): name, outcomes (resolved, at its best-covered horizon), required,
    status "learning" (outcomes >= required) or "insufficient_data", and its current weight."""
    names = sorted(set(outcomes) | set(weights))
    return [
        {
            "name": name,
            "outcomes": int(outcomes.get(name, 0)),
            "required": int(required),
            "status": "learning" if outcomes.get(name, 0) >= required else "insufficient_data",
            "weight": jsonable(weights.get(name, default_weight)),
        }
        for name in names
    ]


def _problem(code: str, message: str, detail: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {"code": code, "message": message, "detail": detail}


def assess_health(
    *,
    now_ms: int,
    counts: dict[str, int],
    component_outcomes: dict[str, int] | None,
    required: int,
    weights: dict[str, float],
    default_weight: float = 1.0,
    symbols_without_marks: dict[str, int] | None = None,
    last_cycles: dict[str, CycleInfo | None] | None = None,
    last_success_ms: dict[str, int | None] | None = None,
    intervals_s: dict[str, int] | None = None,
    schedule_start_ms: int | None = None,
    worker_expected: bool = False,
    worker_heartbeat_age_s: float | None = None,
    heartbeat_max_age_s: float = HEARTBEAT_MAX_AGE_S,
    next_runs: dict[str, str | None] | None = None,
    evidence: Evidence | None = None,
) -> dict[str, JsonValue]:
    """Build the health document.

    In: wall-clock ``now_ms``; ``counts`` {signals, trades, prices, outcomes_resolved, outcomes_pending,
    outcomes_gap}; resolved outcomes per component (see weights.component_outcome_counts) and the required
    ``min_outcomes``; current weights; symbols with signals but no marks -> signal count; the last cycle
    per kind; the last successful cycle's finish time per kind; each kind's interval in seconds; when the
    schedule started (e.g. bot creation, for a bot that never had a cycle); whether a worker is expected
    and its heartbeat age; the next scheduled runs (passed through); the cycle the evidence comes from.
    ``component_outcomes`` None: no cycle has measured them yet (problem ``no_cycle_yet`` once events exist).
    Out: {level, problems: [{code, message, detail}], counts, components, last_cycles, next_runs, evidence}.
    """
    problems: list[dict[str, JsonValue]] = []
    if counts.get("signals", 0) == 0 and counts.get("trades", 0) == 0:
        problems.append(_problem("no_events", "No signals or trades received yet: there is nothing to learn from.", {}))
    missing = dict(sorted((symbols_without_marks or {}).items()))
    if missing:
        total = sum(missing.values())
        names = ", ".join(missing)
        problems.append(
            _problem(
                "no_price_marks",
                f"{total} signals on {len(missing)} symbol(s) without any price marks ({names}): "
                "their outcomes can never resolve. Send price events for these symbols.",
                {"symbols": [{"symbol": s, "signals": n} for s, n in missing.items()], "signals": total},
            )
        )
    has_events = counts.get("signals", 0) > 0 or counts.get("trades", 0) > 0
    if component_outcomes is None and has_events:
        due = (next_runs or {}).get("continuous")
        when = f"the next continuous cycle is due at {due}" if due else "no cycle is scheduled"
        problems.append(
            _problem(
                "no_cycle_yet",
                f"No learning cycle has finished yet, so per-component evidence is not known: {when} "
                "(or queue one: POST /v1/bots/{bot}/cycles).",
                {"next_continuous": due},
            )
        )
    short = [(n, c) for n, c in sorted((component_outcomes or {}).items()) if c < required]
    if short:
        listing = ", ".join(f"{n} {c}/{required}" for n, c in short)
        problems.append(
            _problem(
                "insufficient_outcomes",
                f"Weights stay at their defaults until a component has {required} resolved outcomes at one "
                f"horizon; still short: {listing}.",
                {"components": [{"name": n, "outcomes": c, "required": required} for n, c in short]},
            )
        )
    for kind, info in sorted((last_cycles or {}).items()):  # one per cycle kind
        if info is not None and info.status == "failed":
            problems.append(
                _problem(
                    "cycle_failed",
                    f"The last {kind} cycle ({info.cycle_id}) failed: {info.error or 'no error recorded'}.",
                    {"kind": kind, "cycle_id": info.cycle_id, "error": info.error},
                )
            )
    for kind, interval in sorted((intervals_s or {}).items()):
        last = (last_success_ms or {}).get(kind)
        reference = last if last is not None else schedule_start_ms
        if reference is None:
            continue
        if now_ms - reference > 2 * interval * 1000:
            since = "ever" if last is None else f"since {rfc3339_ms(last)}"
            problems.append(
                _problem(
                    "cycle_overdue",
                    f"No successful {kind} cycle {since}; one is expected every {interval} s.",
                    {"kind": kind, "interval_s": interval, "last_success": None if last is None else rfc3339_ms(last)},
                )
            )
            if kind == "comprehensive":  # the nightly run is what discovers and renews the rules
                problems.append(
                    _problem(
                        "rules_stale",
                        f"The daily rules have not been refreshed {since} (the comprehensive cycle runs every "
                        f"{interval} s): the rules in force may rest on old evidence until they expire.",
                        {"interval_s": interval, "last_success": None if last is None else rfc3339_ms(last)},
                    )
                )
    if worker_expected and (worker_heartbeat_age_s is None or worker_heartbeat_age_s > heartbeat_max_age_s):
        if worker_heartbeat_age_s is None:
            age = "no heartbeat at all"
        else:
            age = f"last heartbeat {worker_heartbeat_age_s:.0f} s ago"
        problems.append(
            _problem(
                "worker_missing",
                f"No learning worker is running ({age}): scheduled resolution and cycles will not happen.",
                {"heartbeat_age_s": jsonable(worker_heartbeat_age_s), "max_age_s": heartbeat_max_age_s},
            )
        )
    level = "ok"
    for p in problems:
        candidate = PROBLEM_LEVEL[str(p["code"])]
        if LEVELS[candidate] > LEVELS[level]:
            level = candidate
    keys = ("signals", "trades", "prices", "outcomes_resolved", "outcomes_pending", "outcomes_gap")
    return {
        "level": level,
        "problems": jsonable(problems),
        "counts": {k: int(counts.get(k, 0)) for k in keys},
        "components": []
        if component_outcomes is None
        else jsonable(component_status(component_outcomes, required, weights, default_weight)),
        "last_cycles": {
            kind: None
            if info is None
            else {
                "cycle_id": info.cycle_id,
                "status": info.status,
                "finished_at": None if info.finished_at_ms is None else rfc3339_ms(info.finished_at_ms),
            }
            for kind, info in sorted((last_cycles or {}).items())
        },
        "next_runs": dict(sorted((next_runs or {}).items())),
        "evidence": None
        if evidence is None
        else {"cycle_id": evidence.cycle_id, "as_of": rfc3339_ms(evidence.as_of_ms)},
    }
