"""When a bot's learning jobs are due (DESIGN.md section 6, `schedule`). Pure: times are passed in.

- Continuous cycles run every ``continuous_every`` counted from the last real (not dry-run)
  continuous cycle, or from the bot's creation: a new bot gets no cycle until one is due.
- Comprehensive cycles run daily at ``comprehensive_at`` (UTC): the first such time after the
  last real comprehensive cycle (or the bot's creation).
- Outcome resolution runs on the wall-clock grid of ``resolve_every`` (every 10 minutes: at
  :00, :10, ...). It is cheap and idempotent, so it needs no memory of past runs: a scheduler
  tick that crosses a grid line starts one.
A time in the past means "due now" (missed runs are caught up once, not once per missed slot).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.schemas.config import Schedule
from core.schemas.duration import duration_seconds

DAY_MS = 86_400_000
KINDS = ("continuous", "comprehensive")


def _daily_after(base_ms: int, hhmm: str) -> int:
    """The first HH:MM UTC strictly after ``base_ms``."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    offset = (hours * 60 + minutes) * 60_000
    candidate = base_ms - base_ms % DAY_MS + offset
    return candidate if candidate > base_ms else candidate + DAY_MS


def next_resolve(schedule: Schedule, now_ms: int) -> int:
    """The next grid line of ``resolve_every`` strictly after ``now_ms``."""
    every = duration_seconds(schedule.resolve_every) * 1000
    return now_ms - now_ms % every + every


def resolve_due(schedule: Schedule, now_ms: int, tick_ms: int) -> bool:
    """Whether the tick at ``now_ms`` (ticks every ``tick_ms``) is the first one since a grid line."""
    if not schedule.enabled:
        return False
    every = duration_seconds(schedule.resolve_every) * 1000
    return every <= tick_ms or now_ms // every != (now_ms - tick_ms) // every


def next_cycles(schedule: Schedule, last_runs: Mapping[str, int], created_at_ms: int) -> dict[str, int]:
    """When each kind of cycle is next due (epoch ms; may be in the past = due now).

    ``last_runs``: per kind, when the latest real cycle was queued.
    """
    continuous_base = last_runs.get("continuous", created_at_ms)
    comprehensive_base = last_runs.get("comprehensive", created_at_ms)
    return {
        "continuous": continuous_base + duration_seconds(schedule.continuous_every) * 1000,
        "comprehensive": _daily_after(comprehensive_base, schedule.comprehensive_at),
    }


def due_cycles(schedule: Schedule, last_runs: Mapping[str, int], created_at_ms: int, now_ms: int) -> list[str]:
    """The kinds of cycle due at ``now_ms`` (none when the schedule is disabled)."""
    if not schedule.enabled:
        return []
    return [kind for kind, at in next_cycles(schedule, last_runs, created_at_ms).items() if at <= now_ms]


def next_runs(
    schedule: Schedule, last_runs: Mapping[str, int], created_at_ms: int, now_ms: int
) -> dict[str, int | None]:
    """Per job (``resolve``, ``continuous``, ``comprehensive``) its next scheduled run; None when disabled."""
    if not schedule.enabled:
        return {"resolve": None, "continuous": None, "comprehensive": None}
    return {"resolve": next_resolve(schedule, now_ms), **next_cycles(schedule, last_runs, created_at_ms)}
