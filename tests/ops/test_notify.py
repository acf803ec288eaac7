"""Notifications across processes (core/services/notify.py): two service contexts stand for two processes.

On PostgreSQL the second one listens: a version or a revocation made by the first reaches it at once. On
SQLite (one process in production) it has no channel: its caches keep their TTLs and its long-polls poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import update

from core.errors import EdgeloopError
from core.services import bots, notify, params
from core.services.auth import authenticate
from core.services.context import ServiceContext
from core.services.metrics import NOTIFICATIONS
from core.settings import Settings
from core.store.models import Bot

ADMIN = bots.CLI_PRINCIPAL


@pytest.fixture
async def other(settings: Settings) -> AsyncIterator[ServiceContext]:
    """Another process's context, subscribed to notifications (PostgreSQL), as a serving process is."""
    context = ServiceContext.create(settings.model_copy(update={"notify_recheck_s": 0.2}))
    await notify.start_listener(context)
    try:
        yield context
    finally:
        await context.close()


def _is_pg(ctx: ServiceContext) -> bool:
    return ctx.settings.database_url.startswith("postgresql")


async def test_a_version_made_elsewhere_wakes_a_long_poll_here(ctx: ServiceContext, other: ServiceContext) -> None:
    created = await bots.create_bot(ctx, ADMIN, "alpha", None, None)
    principal = await authenticate(other, f"Bearer {created.api_key}")
    assert (await params.get_current_params(other, principal, "alpha")).version == 1
    before = NOTIFICATIONS.labels("version")._value.get()
    poll = asyncio.create_task(params.wait_for_newer(other, principal, "alpha", 1, 10))
    await asyncio.sleep(0.2)
    made = time.monotonic()
    await params.rollback(ctx, ADMIN, "alpha", 1)
    current = await asyncio.wait_for(poll, 5)
    delay = time.monotonic() - made
    assert current.version == 2
    if _is_pg(ctx):
        assert other.push_live
        assert delay < 0.1  # woken by the notification, not the 0.5 s poll
        assert NOTIFICATIONS.labels("version")._value.get() > before
        # and the plain read is fresh too, although the channel trusts the entry without a TTL
        assert (await params.get_current_params(other, principal, "alpha")).version == 2
    else:
        assert not other.push_live and delay < 1.0


async def test_a_key_revoked_elsewhere_ends_a_long_poll_here_within_a_second(
    ctx: ServiceContext, other: ServiceContext
) -> None:
    created = await bots.create_bot(ctx, ADMIN, "alpha", None, None)
    principal = await authenticate(other, f"Bearer {created.api_key}")
    poll = asyncio.create_task(params.wait_for_newer(other, principal, "alpha", 1, 10))
    await asyncio.sleep(0.2)
    revoked = time.monotonic()
    await bots.revoke_bot_key(ctx, ADMIN, "alpha", created.key_id)
    with pytest.raises(EdgeloopError) as caught:
        await asyncio.wait_for(poll, 5)
    assert caught.value.code == "unauthenticated"
    assert time.monotonic() - revoked < (0.1 if _is_pg(ctx) else 1.0)
    with pytest.raises(EdgeloopError):  # and the cached key is gone (PostgreSQL) or expires (TTL)
        await asyncio.sleep(0 if _is_pg(ctx) else other.settings.auth_cache_ttl_s)
        await authenticate(other, f"Bearer {created.api_key}")


# The sweep and the channel exist only on PostgreSQL: these run there alone instead of skipping on SQLite.
PG_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@PG_ONLY
async def test_the_safety_sweep_catches_a_change_nobody_announced(ctx: ServiceContext, other: ServiceContext) -> None:
    created = await bots.create_bot(ctx, ADMIN, "alpha", None, None)
    principal = await authenticate(other, f"Bearer {created.api_key}")
    await params.get_current_params(other, principal, "alpha")
    await params.rollback(ctx, ADMIN, "alpha", 1)  # version 2 (announced)
    await asyncio.sleep(0.1)
    assert (await params.get_current_params(other, principal, "alpha")).version == 2
    async with ctx.sessions.begin() as session:  # a silent change, as a manual SQL fix would be
        await session.execute(update(Bot).where(Bot.id == "alpha").values(current_version=1))
    assert (await params.get_current_params(other, principal, "alpha")).version == 2  # trusted: nobody said
    await asyncio.sleep(3 * other.settings.notify_recheck_s + 0.2)
    assert (await params.get_current_params(other, principal, "alpha")).version == 1


@PG_ONLY
async def test_the_listener_reconnects_and_falls_back_to_ttls_meanwhile(
    ctx: ServiceContext, other: ServiceContext
) -> None:
    assert other.listener is not None and other.push_live
    created = await bots.create_bot(ctx, ADMIN, "alpha", None, None)
    principal = await authenticate(other, f"Bearer {created.api_key}")
    await params.get_current_params(other, principal, "alpha")
    database = ctx.engine.url.database
    admin = await asyncpg.connect(host=ctx.engine.url.host, user=ctx.engine.url.username, database=database)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", other.listener.backend_pid)
    finally:
        await admin.close()
    for _ in range(100):
        if not other.push_live:
            break
        await asyncio.sleep(0.05)
    assert not other.push_live  # lost: TTLs again
    await params.rollback(ctx, ADMIN, "alpha", 1)  # made while nobody listens
    await asyncio.wait_for(other.listener.connected.wait(), 10)
    assert other.push_live
    assert other.params_cache == {}  # emptied on reconnect: what was missed is not served
    assert (await params.get_current_params(other, principal, "alpha")).version == 2
