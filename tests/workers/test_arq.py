"""Real arq workers on the real Redis: end to end, cron fan-out, and a worker killed mid-cycle."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from core.services import bots, cycles, ingest, params
from core.services.context import ServiceContext, wall_clock_ms
from core.settings import Settings
from core.store import repos
from tests.conftest import ADMIN
from tests.workers.conftest import eventually, run_burst, running_worker
from tests.workers.scenario import ADMIN_P, FAST, learnable_bot, learnable_events

ROOT = Path(__file__).resolve().parents[2]


async def test_end_to_end_events_cycle_worker_new_version_long_poll(
    arq_client: httpx.AsyncClient, arq_settings: Settings
) -> None:
    response = await arq_client.post("/v1/bots", json={"id": "alpha", "config": FAST}, headers=ADMIN)
    bot = {"Authorization": f"Bearer {response.json()['api_key']}"}
    posted = await arq_client.post("/v1/bots/alpha/events", json={"events": learnable_events()}, headers=bot)
    assert posted.status_code == 200, posted.text
    first = await arq_client.get("/v1/bots/alpha/params", headers=bot)
    assert first.headers["etag"] == '"1"'
    poll = asyncio.ensure_future(
        arq_client.get("/v1/bots/alpha/params?wait=20", headers={**bot, "If-None-Match": '"1"'})
    )
    queued = await arq_client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    await run_burst(arq_settings)
    woke = await asyncio.wait_for(poll, 10)
    assert woke.status_code == 200 and woke.headers["etag"] == '"2"'
    assert woke.json()["weights"]["ofi"] > 1.0 and woke.json()["cycle_id"] == queued.json()["cycle_id"]
    record = (await arq_client.get(f"/v1/bots/alpha/cycles/{queued.json()['cycle_id']}", headers=bot)).json()
    assert record["status"] == "succeeded" and record["applied_version"] == 2
    status = (await arq_client.get("/v1/status", headers=ADMIN)).json()
    assert status["queue"] == "arq" and status["worker_heartbeat_age_s"] is not None


async def test_cron_fan_out_schedules_every_bot(arq_ctx: ServiceContext, arq_settings: Settings) -> None:
    for name in ("a1", "a2", "a3"):
        await bots.create_bot(arq_ctx, ADMIN_P, name, None, FAST)
        await ingest.ingest_events(arq_ctx, ADMIN_P, name, learnable_events(prefix=name))
    await bots.create_bot(arq_ctx, ADMIN_P, "off", None, {"schedule": {"enabled": False}})
    # 13 h later every bot's continuous cycle is due (12 h after creation); the startup cron tick fans out.
    await run_burst(arq_settings, clock=lambda: wall_clock_ms() + 13 * 3_600_000)
    async with arq_ctx.sessions() as session:
        for name in ("a1", "a2", "a3"):
            last = await repos.last_cycles(session, name)
            assert last["continuous"].status == "succeeded" and last["continuous"].requested_by == "system"
            # (the comprehensive cycle may be due too, depending on the time of day: 07:00 UTC)
            assert all(c.status == "succeeded" for c in last.values()), [
                (c.kind, c.status, c.error) for c in last.values()
            ]
            assert (await repos.get_bot(session, name)).current_version >= 2  # type: ignore[union-attr]
            assert await repos.outcome_rows(session, name, 0, 2**62)  # outcomes were resolved and stored
        assert await repos.last_cycles(session, "off") == {}


SLOW_WORKER = """
import sys, time
import core.learn.cycle as engine
from core.settings import Settings
from workers.settings import run_worker

def slow(*args, **kwargs):
    time.sleep(120)  # killed long before this returns

engine.run_cycle = slow
run_worker(Settings(database_url=sys.argv[1], redis_url=sys.argv[2]).model_copy(update={"cycle_lease_s": 2}))
"""


async def test_worker_killed_mid_cycle_keeps_the_version_and_the_cycle_is_recovered(
    arq_ctx: ServiceContext, arq_settings: Settings, tmp_path: Path
) -> None:
    await learnable_bot(arq_ctx)
    queued = await cycles.trigger_cycle(arq_ctx, ADMIN_P, "alpha", "continuous", False)
    script = tmp_path / "slow_worker.py"
    script.write_text(textwrap.dedent(SLOW_WORKER))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), arq_settings.database_url, str(arq_settings.redis_url)], env=env, cwd=ROOT
    )
    try:

        async def running() -> bool:
            return (await cycles.get_cycle(arq_ctx, ADMIN_P, "alpha", queued.cycle_id)).status == "running"

        await eventually(running, 30)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert (await params.get_current_params(arq_ctx, ADMIN_P, "alpha")).version == 1
    await asyncio.sleep(2.1)  # the dead worker's 2 s lease runs out
    lease_2s = arq_settings.model_copy(update={"cycle_lease_s": 2})
    async with running_worker(lease_2s):  # its startup tick recovers the cycle and re-sends the job

        async def done() -> bool:
            return (await cycles.get_cycle(arq_ctx, ADMIN_P, "alpha", queued.cycle_id)).status == "succeeded"

        await eventually(done, 30)
    record = await cycles.get_cycle(arq_ctx, ADMIN_P, "alpha", queued.cycle_id)
    assert record.applied_version == 2
    audit = [(e.action, e.detail.get("cycle_id")) for e in (await repos_audit(arq_ctx))]
    assert ("cycle_requeued", queued.cycle_id) in audit


async def repos_audit(ctx: ServiceContext) -> list[repos.AuditRead]:
    async with ctx.sessions() as session:
        return await repos.list_audit(session, "alpha", before=None, limit=100)
