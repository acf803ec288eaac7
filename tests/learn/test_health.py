"""Learning health: problem codes, levels and details."""

from __future__ import annotations

from core.learn.health import CycleInfo, Evidence, assess_health, component_status

NOW = 1_767_225_600_000
HOUR = 3_600_000


def codes(doc: dict) -> list[str]:
    return [p["code"] for p in doc["problems"]]


def test_a_healthy_bot_is_ok() -> None:
    doc = assess_health(
        now_ms=NOW,
        counts={"signals": 10, "trades": 2, "outcomes_resolved": 50},
        component_outcomes={"ofi": 60},
        required=50,
        weights={"ofi": 1.2},
        last_cycles={"continuous": CycleInfo("c1", "succeeded", NOW - HOUR)},
        last_success_ms={"continuous": NOW - HOUR},
        intervals_s={"continuous": 12 * 3600},
        worker_expected=True,
        worker_heartbeat_age_s=5.0,
        next_runs={"continuous": "2026-01-01T12:00:00.000Z"},
    )
    assert doc["level"] == "ok" and doc["problems"] == []
    assert doc["components"] == [{"name": "ofi", "outcomes": 60, "required": 50, "status": "learning", "weight": 1.2}]
    assert doc["last_cycles"] == {
        "continuous": {"cycle_id": "c1", "status": "succeeded", "finished_at": "2025-12-31T23:00:00.000Z"}
    }
    assert doc["counts"]["outcomes_resolved"] == 50


def test_no_events_warns() -> None:
    doc = assess_health(now_ms=NOW, counts={}, component_outcomes={}, required=50, weights={})
    assert codes(doc) == ["no_events"] and doc["level"] == "warn"


def test_failed_cycle_overdue_cycle_and_missing_worker() -> None:
    doc = assess_health(
        now_ms=NOW,
        counts={"signals": 5},
        component_outcomes={},
        required=50,
        weights={},
        last_cycles={"continuous": CycleInfo("c9", "failed", NOW - HOUR, "boom"), "comprehensive": None},
        last_success_ms={"continuous": NOW - 30 * HOUR, "comprehensive": None},
        intervals_s={"continuous": 12 * 3600, "comprehensive": 86400},
        schedule_start_ms=NOW - 3 * 86400_000,
        worker_expected=True,
        worker_heartbeat_age_s=None,
    )
    assert codes(doc) == ["cycle_failed", "cycle_overdue", "rules_stale", "cycle_overdue", "worker_missing"]
    assert doc["level"] == "error"
    assert doc["problems"][0]["detail"] == {"kind": "continuous", "cycle_id": "c9", "error": "boom"}


def test_cycle_within_twice_its_interval_is_not_overdue_and_embedded_runs_need_no_worker() -> None:
    doc = assess_health(
        now_ms=NOW,
        counts={"signals": 5},
        component_outcomes={},
        required=50,
        weights={},
        last_success_ms={"continuous": NOW - 23 * HOUR},
        intervals_s={"continuous": 12 * 3600},
        worker_expected=False,
    )
    assert doc["level"] == "ok"


def test_rules_are_stale_when_the_nightly_run_has_not_succeeded_within_twice_its_interval() -> None:
    def doc(age_h: int) -> dict:
        return assess_health(
            now_ms=NOW,
            counts={"signals": 5},
            component_outcomes={},
            required=50,
            weights={},
            last_success_ms={"comprehensive": NOW - age_h * HOUR},
            intervals_s={"comprehensive": 86400},
        )

    assert codes(doc(47)) == []
    stale = doc(49)
    assert codes(stale) == ["cycle_overdue", "rules_stale"] and stale["level"] == "warn"
    assert stale["problems"][1]["detail"] == {"interval_s": 86400, "last_success": "2025-12-29T23:00:00.000Z"}


def test_component_status_lists_weighted_components_without_outcomes() -> None:
    rows = component_status({"ofi": 10}, 50, {"old": 0.8}, 1.0)
    assert rows == [
        {"name": "ofi", "outcomes": 10, "required": 50, "status": "insufficient_data", "weight": 1.0},
        {"name": "old", "outcomes": 0, "required": 50, "status": "insufficient_data", "weight": 0.8},
    ]


def test_before_any_cycle_the_evidence_is_unknown_not_zero() -> None:
    doc = assess_health(
        now_ms=NOW,
        counts={"signals": 5},
        component_outcomes=None,
        required=50,
        weights={"ofi": 1.0},
        next_runs={"continuous": "2026-01-01T12:00:00.000Z"},
    )
    assert codes(doc) == ["no_cycle_yet"] and doc["level"] == "warn"
    assert doc["components"] == [] and doc["evidence"] is None
    assert "2026-01-01T12:00:00.000Z" in doc["problems"][0]["message"]
    # No events at all: that is the problem to fix first, not the missing cycle.
    empty = assess_health(now_ms=NOW, counts={}, component_outcomes=None, required=50, weights={})
    assert codes(empty) == ["no_events"]


def test_evidence_names_the_cycle_and_its_event_time() -> None:
    doc = assess_health(
        now_ms=NOW,
        counts={"signals": 5},
        component_outcomes={"ofi": 7},
        required=50,
        weights={},
        evidence=Evidence("c9", NOW - HOUR),
    )
    assert doc["evidence"] == {"cycle_id": "c9", "as_of": "2025-12-31T23:00:00.000Z"}
    assert codes(doc) == ["insufficient_outcomes"]
