"""The in-process key and params caches: entries in use are refreshed in the background before they expire,
and what another replica changed is still seen within the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.errors import EdgeloopError
from core.services import auth, bots, params
from core.services.context import REFRESH_AHEAD, ServiceContext
from core.settings import Settings
from tests.workers.scenario import ADMIN_P

TTL = 1.0  # long enough that a busy machine does not oversleep past it


@pytest.fixture
async def short(database_url: str) -> AsyncIterator[ServiceContext]:
    """A process whose caches trust an entry for TTL seconds."""
    settings = Settings(database_url=database_url, params_cache_ttl_s=TTL, auth_cache_ttl_s=TTL)  # type: ignore[arg-type]
    context = ServiceContext.create(settings)
    try:
        yield context
    finally:
        await context.close()


async def _settle(ctx: ServiceContext) -> None:
    await asyncio.gather(*ctx._background.values())


async def test_a_polled_bot_is_refreshed_before_its_entry_expires(short: ServiceContext, ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {})
    assert (await params.get_current_params(short, ADMIN_P, "alpha")).version == 1
    await params.rollback(ctx, ADMIN_P, "alpha", 1)  # version 2, made by another process
    await asyncio.sleep(TTL * REFRESH_AHEAD + 0.02)
    assert params.cached_current_params(short, ADMIN_P, "alpha") is not None  # still fresh: served, and refreshed
    assert list(short._background) == ["params:alpha"]
    await _settle(short)
    current = params.cached_current_params(short, ADMIN_P, "alpha")
    assert current is not None and current.version == 2


async def test_an_unused_entry_just_expires(short: ServiceContext, ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {})
    await params.get_current_params(short, ADMIN_P, "alpha")
    await asyncio.sleep(TTL + 0.02)
    assert params.cached_current_params(short, ADMIN_P, "alpha") is None and not short._background


async def test_a_key_in_use_is_verified_again_and_revocation_still_holds(
    short: ServiceContext, ctx: ServiceContext
) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {})
    created = await bots.create_bot_key(ctx, ADMIN_P, "alpha")
    header = f"Bearer {created.api_key}"
    assert (await auth.authenticate(short, header)).bot_id == "alpha"
    await bots.revoke_bot_key(ctx, ADMIN_P, "alpha", created.key_id)  # in another process
    await asyncio.sleep(TTL * REFRESH_AHEAD + 0.02)
    assert (await auth.authenticate(short, header)).bot_id == "alpha"  # within the TTL, as documented
    await _settle(short)  # the background check saw the revocation
    assert auth.cached_principal(short, header) is None
    with pytest.raises(EdgeloopError) as caught:
        await auth.authenticate(short, header)
    assert caught.value.code == "unauthenticated"


async def test_closing_cancels_refreshes_in_flight(short: ServiceContext) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    short.refresh_soon("slow", slow)
    short.refresh_soon("slow", slow)  # already running: not started twice
    await started.wait()
    assert list(short._background) == ["slow"]
    await short.close()
    assert not short._background


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "bearer KEY", "Bearer  KEY ", "BEARER KEY", "Bearer KEY x"]
)
async def test_cached_principal_reads_the_header_as_authenticate_does(ctx: ServiceContext, header: str | None) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {})
    created = await bots.create_bot_key(ctx, ADMIN_P, "alpha")
    real = header.replace("KEY", created.api_key) if header else header
    try:
        expected = await auth.authenticate(ctx, real)  # verifies, and caches a valid key
    except EdgeloopError:
        expected = None
    assert auth.cached_principal(ctx, real) == expected
