"""A cycle that meets an unreachable database goes back to the queue; it is never failed for it."""

from __future__ import annotations

from typing import Any

import pytest

from core.learn import cycle as learn_cycle
from core.services import cycle_run, cycles
from core.services.context import ServiceContext
from core.store.db import make_engine
from tests.outage import PG_ONLY, outage
from tests.workers.scenario import ADMIN_P, learnable_bot


async def refused_login(database_url: str) -> BaseException:
    """The exception a real refused login raises (the database is not accepting connections)."""
    engine = make_engine(database_url)
    try:
        async with outage(database_url):
            with pytest.raises(Exception) as caught:
                async with engine.connect():
                    pass
        return caught.value
    finally:
        await engine.dispose()


@PG_ONLY
async def test_a_refused_login_mid_cycle_requeues_the_cycle(
    ctx: ServiceContext, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failure = await refused_login(database_url)
    assert cycle_run.transient(failure)
    assert not isinstance(failure, OSError)  # not the socket error a plain tuple of types would catch
    await learnable_bot(ctx)
    queued = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "continuous", False)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(learn_cycle, "run_cycle", unreachable)
    claim = await cycle_run.claim_next(ctx, "alpha")
    assert claim is not None
    with pytest.raises(type(failure)):
        await cycle_run.run_claimed(ctx, "alpha", claim)
    record = await cycles.get_cycle(ctx, ADMIN_P, "alpha", queued.cycle_id)
    assert record.status == "queued" and record.error is None  # released, not failed

    monkeypatch.undo()
    done = await cycles.execute_cycle(ctx, "alpha", queued.cycle_id)
    assert done is not None and done.status == "succeeded" and done.applied_version == 2


async def test_a_bug_is_not_transient(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    await learnable_bot(ctx)
    queued = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "continuous", False)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("weights")

    monkeypatch.setattr(learn_cycle, "run_cycle", broken)
    record = await cycles.execute_cycle(ctx, "alpha", queued.cycle_id)
    assert record is not None and record.status == "failed" and "KeyError" in (record.error or "")
