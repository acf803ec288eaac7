"""The pure schedule: when each job of a bot is due."""

from __future__ import annotations

from core.schemas.config import Schedule
from core.services import schedule

H = 3_600_000
DAY = 24 * H
MIDNIGHT = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def test_a_new_bot_gets_no_cycle_until_one_is_due() -> None:
    created = MIDNIGHT + 8 * H  # 08:00, after today's 07:00
    assert schedule.due_cycles(Schedule(), {}, created, created + 11 * H) == []
    assert schedule.due_cycles(Schedule(), {}, created, created + 12 * H) == ["continuous"]
    runs = schedule.next_runs(Schedule(), {}, created, created)
    assert runs == {
        "resolve": created + 10 * 60_000,
        "continuous": created + 12 * H,
        "comprehensive": MIDNIGHT + DAY + 7 * H,
    }


def test_cycles_count_from_the_last_real_run_and_catch_up_once() -> None:
    last = {"continuous": MIDNIGHT + 2 * H, "comprehensive": MIDNIGHT + 7 * H}
    later = MIDNIGHT + 3 * DAY  # down for days: each kind is due once, not once per missed slot
    assert schedule.due_cycles(Schedule(), last, MIDNIGHT, later) == ["continuous", "comprehensive"]
    assert schedule.next_cycles(Schedule(), last, MIDNIGHT) == {
        "continuous": MIDNIGHT + 14 * H,
        "comprehensive": MIDNIGHT + DAY + 7 * H,
    }


def test_resolution_runs_on_its_grid_and_a_disabled_schedule_runs_nothing() -> None:
    tick = 60_000
    grid = MIDNIGHT + 10 * 60_000
    assert schedule.resolve_due(Schedule(), grid + 123, tick)
    assert not schedule.resolve_due(Schedule(), grid + tick + 123, tick)
    off = Schedule(enabled=False)
    assert not schedule.resolve_due(off, grid, tick)
    assert schedule.due_cycles(off, {}, MIDNIGHT, MIDNIGHT + 10 * DAY) == []
    assert schedule.next_runs(off, {}, MIDNIGHT, MIDNIGHT) == dict.fromkeys(("resolve", "continuous", "comprehensive"))
