"""The cycle lifecycle at service level: dry run, apprentice mode, apply, stale, failure, ordering, recovery."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from core.errors import EdgeloopError
from core.learn import cycle as learn_cycle
from core.services import audit, cycle_run, cycles, params
from core.services.context import ServiceContext
from core.store import repos
from tests.workers.scenario import ADMIN_P, learnable_bot


async def _version(ctx: ServiceContext, bot: str = "alpha") -> int:
    return (await params.get_current_params(ctx, ADMIN_P, bot)).version


async def _run(ctx: ServiceContext, kind: str = "continuous", dry_run: bool = False) -> cycles.CycleRead:
    queued = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", kind, dry_run)
    record = await cycles.execute_cycle(ctx, "alpha", queued.cycle_id)
    assert record is not None
    return record


async def test_auto_apply_makes_a_version_with_record_and_audit(ctx: ServiceContext) -> None:
    await learnable_bot(ctx)
    record = await _run(ctx)
    assert record.status == "succeeded" and record.applied_version == 2 and record.base_version == 1
    assert record.inputs["signals"] == 60 and {c.path for c in record.changes} >= {"weights.ofi"}
    current = await params.get_current_params(ctx, ADMIN_P, "alpha")
    assert current.version == 2 and current.document["weights"]["ofi"] == pytest.approx(1.2)
    assert current.document["source"] == "cycle" and current.document["cycle_id"] == record.cycle_id
    actions = [(e.action, e.actor) for e in (await audit.list_audit(ctx, ADMIN_P, "alpha")).items]
    assert actions[:2] == [("cycle_applied", "admin_token"), ("cycle_queued", "admin_token")]


async def test_dry_run_changes_no_version_until_applied(ctx: ServiceContext) -> None:
    await learnable_bot(ctx)
    record = await _run(ctx, dry_run=True)
    assert record.status == "succeeded" and record.changes and record.applied_version is None
    assert await _version(ctx) == 1
    document = await cycles.apply_cycle(ctx, ADMIN_P, "alpha", record.cycle_id)
    assert document.version == 2 and document.weights["ofi"] == pytest.approx(1.2)
    with pytest.raises(EdgeloopError) as again:
        await cycles.apply_cycle(ctx, ADMIN_P, "alpha", record.cycle_id)
    assert again.value.code == "cycle_already_applied"


async def test_apprentice_mode_proposes_and_a_stale_proposal_is_refused(ctx: ServiceContext) -> None:
    await learnable_bot(ctx, auto_apply=False)
    first, second = await _run(ctx), await _run(ctx)
    assert first.applied_version is None and second.applied_version is None and await _version(ctx) == 1
    assert second.base_version == 1
    await cycles.apply_cycle(ctx, ADMIN_P, "alpha", second.cycle_id)
    with pytest.raises(EdgeloopError) as stale:
        await cycles.apply_cycle(ctx, ADMIN_P, "alpha", first.cycle_id)
    assert stale.value.code == "stale_proposal" and await _version(ctx) == 2


async def test_a_failing_engine_fails_the_cycle_and_keeps_the_version(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    await learnable_bot(ctx)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("learner exploded")

    monkeypatch.setattr(learn_cycle, "run_cycle", boom)
    record = await _run(ctx)
    assert record.status == "failed" and record.error == "ValueError: learner exploded"
    assert record.finished_at is not None and await _version(ctx) == 1


async def test_two_cycles_at_once_run_one_after_another_in_queue_order(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    await learnable_bot(ctx)
    running, most = 0, 0
    lock = threading.Lock()
    real = learn_cycle.run_cycle

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.2)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(learn_cycle, "run_cycle", counted)
    a = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "continuous", False)
    b = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "continuous", False)
    # b's job first: it must still run a before b, and the two jobs must never overlap.
    await asyncio.gather(cycles.execute_cycle(ctx, "alpha", b.cycle_id), cycles.execute_cycle(ctx, "alpha", a.cycle_id))
    ra = await cycles.get_cycle(ctx, ADMIN_P, "alpha", a.cycle_id)
    rb = await cycles.get_cycle(ctx, ADMIN_P, "alpha", b.cycle_id)
    assert most == 1
    assert ra.status == rb.status == "succeeded"
    assert ra.finished_at is not None and rb.started_at is not None and ra.finished_at <= rb.started_at
    # a moved the weight from v1; b started from a's version and moved it again.
    assert (ra.base_version, ra.applied_version, rb.base_version, rb.applied_version) == (1, 2, 2, 3)
    assert await _version(ctx) == 3


async def test_an_expired_lease_is_recovered_and_the_cycle_rerun(ctx: ServiceContext) -> None:
    await learnable_bot(ctx)
    queued = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "continuous", False)
    claim = await cycle_run.claim_next(ctx, "alpha")  # a worker claims it, then dies
    assert claim is not None
    assert await cycles.execute_cycle(ctx, "alpha", queued.cycle_id) is not None  # lease alive: nothing runs
    assert (await cycles.get_cycle(ctx, ADMIN_P, "alpha", queued.cycle_id)).status == "running"
    real_clock = ctx.clock
    ctx.clock = lambda: real_clock() + ctx.settings.cycle_lease_s * 1000 + 1
    assert await cycles.recover_stale_cycles(ctx) == [queued.cycle_id]
    record = await cycles.execute_cycle(ctx, "alpha", queued.cycle_id)
    assert record is not None and record.status == "succeeded" and record.applied_version == 2
    async with ctx.sessions() as session:
        row = await repos.get_cycle(session, "alpha", queued.cycle_id)
    assert row is not None and row.attempts == 2


async def test_evidence_clocks_are_carried_from_one_cycle_to_the_next(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    await learnable_bot(ctx)
    real = learn_cycle.run_cycle
    received: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:  # the real engine, recording what it was handed
        received.append(kwargs.get("evidence"))
        return real(*args, **kwargs)

    monkeypatch.setattr(learn_cycle, "run_cycle", recording)
    first = await _run(ctx)
    await _run(ctx)
    assert received[0] == {}  # nothing recorded before the first cycle
    async with ctx.sessions() as session:
        row = await repos.get_cycle(session, "alpha", first.cycle_id)
    assert row is not None and row.insight is not None
    clocks = row.insight["facts"]["evidence"]
    assert "weights.ofi" in clocks and received[1] == clocks
