"""Which param version each bot runs (DESIGN.md section 11): reports, history, and the stale check.

A bot reports the version it applied with ``POST /v1/bots/{bot}/activations`` (recorded at once) or with
the header ``Edgeloop-Active-Version: N`` on any request. The header rides on hot paths (a bot polls
``GET /params`` every second), so it must not cost a database write per request: each process remembers,
per bot and key, the version it last recorded and when, and writes in the background only when the
version changes or ``activation_touch_s`` (60 s) has passed. ``last_seen`` is therefore precise to that
interval; ``first_seen`` of a new version is the time of its first report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from core.errors import FieldError, invalid, not_found
from core.schemas.resources import ActivationRead, Page
from core.schemas.timefmt import ms_to_rfc3339
from core.services.auth import Principal, may_read, require_bot
from core.services.context import ServiceContext
from core.services.paging import DEFAULT_LIMIT, decode_int_cursor, encode_cursor
from core.store import activations as store
from core.store import repos
from core.store.models import Activation

HEADER = "edgeloop-active-version"
_MAX_VERSION = 2**31 - 1
log = logging.getLogger(__name__)


def _read(row: Activation) -> ActivationRead:
    return ActivationRead(
        key_id=row.key_id,
        version=row.version,
        first_seen=ms_to_rfc3339(row.first_seen),
        last_seen=ms_to_rfc3339(row.last_seen),
    )


async def _record(ctx: ServiceContext, principal: Principal, bot_id: str, version: int) -> ActivationRead:
    # Two reports of one key at once (a POST beside a header) must extend one stretch, not start two: they
    # queue on a per-key lock in this process and on the bot row's lock across processes (PostgreSQL).
    lock = ctx.activation_locks.setdefault((bot_id, principal.key_id), asyncio.Lock())
    async with lock:
        return await _record_locked(ctx, principal, bot_id, version)


async def _record_locked(ctx: ServiceContext, principal: Principal, bot_id: str, version: int) -> ActivationRead:
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        bot = await repos.get_bot(session, bot_id, for_update=True)
        if bot is None:
            raise not_found("bot", bot_id)
        current = bot.current_version
        if version > current:
            raise invalid(
                "unknown_version",
                "Unknown version",
                f"bot {bot_id!r} has no version {version} (current is {current})",
                [FieldError(loc="version", msg=f"no version {version}; the current one is {current}")],
            )
        row = await store.record(session, bot_id, principal.key_id, version, now)
        result = _read(row)
    ctx.activations_seen[(bot_id, principal.key_id)] = (version, time.monotonic())
    return result


async def report_activation(ctx: ServiceContext, principal: Principal, bot_id: str, version: int) -> ActivationRead:
    """Record that the caller's key runs ``version`` of the bot's params now; 422 for a version not made yet."""
    require_bot(principal, bot_id)
    return await _record(ctx, principal, bot_id, version)


def note_header(ctx: ServiceContext, principal: Principal, bot_id: str | None, value: str) -> None:
    """The cheap path of the ``Edgeloop-Active-Version`` header, after the request it came with succeeded.

    Records in the background (the request never waits for it) when the version differs from the one this
    process last recorded for the key, or that record is older than ``activation_touch_s``; otherwise
    does nothing. A malformed value, or a version the bot does not have, is logged and ignored: the
    request it rode on has already been answered.
    """
    bot = bot_id or principal.bot_id
    if bot is None or not may_read(principal, bot):
        return
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= _MAX_VERSION:
        log.info("ignored %s header %r from key %s: not a version number", HEADER, value, principal.key_id)
        return
    version = int(text)
    seen = ctx.activations_seen.get((bot, principal.key_id))
    if seen is not None and seen[0] == version and time.monotonic() - seen[1] < ctx.settings.activation_touch_s:
        return

    async def write() -> None:
        try:
            await _record(ctx, principal, bot, version)
        except Exception as exc:
            log.info("%s header of key %s for bot %s not recorded: %s", HEADER, principal.key_id, bot, exc)

    ctx.refresh_soon(f"activation:{bot}:{principal.key_id}:{version}", write)


async def list_activations(
    ctx: ServiceContext, principal: Principal, bot_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[ActivationRead]:
    """The bot's activation history, newest first: ``{key_id, version, first_seen, last_seen}``."""
    require_bot(principal, bot_id)
    async with ctx.sessions() as session:
        if await repos.current_version(session, bot_id) is None:
            raise not_found("bot", bot_id)
        rows = await store.page(session, bot_id, before=decode_int_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[_read(r) for r in rows], next_cursor=encode_cursor(rows[-1].id) if more else None)


async def active_summary(ctx: ServiceContext, bot_id: str, current_version: int) -> dict[str, Any]:
    """What /health and /v1/status show beside the current version, and the ``stale_activation`` problem.

    Out: ``{"active_version", "active_key_id", "active_last_seen", "problem"}``; ``problem`` is None or
    ``{code, message, detail}`` when the latest report names a version older than current and was made more
    than ``stale_activation_s`` after the next version was created (the bot kept running old params).
    """
    async with ctx.sessions() as session:
        latest = await store.most_recent(session, bot_id)
        newer_at = (
            await store.version_created_at(session, bot_id, latest.version + 1)
            if latest is not None and latest.version < current_version
            else None
        )
    if latest is None:
        return {"active_version": None, "active_key_id": None, "active_last_seen": None, "problem": None}
    problem = None
    limit_s = ctx.settings.stale_activation_s
    if newer_at is not None and (latest.last_seen - newer_at) / 1000 > limit_s:
        behind_s = round((latest.last_seen - newer_at) / 1000, 3)
        problem = {
            "code": "stale_activation",
            "message": f"The bot still runs params version {latest.version} (key {latest.key_id}, last reported "
            f"{ms_to_rfc3339(latest.last_seen)}), {behind_s:.0f} s after version {latest.version + 1} was made; "
            f"the current version is {current_version}. Check that it reloads its params.",
            "detail": {
                "active_version": latest.version,
                "current_version": current_version,
                "key_id": latest.key_id,
                "last_seen": ms_to_rfc3339(latest.last_seen),
                "newer_version_created_at": ms_to_rfc3339(newer_at),
                "behind_s": behind_s,
                "limit_s": limit_s,
            },
        }
    return {
        "active_version": latest.version,
        "active_key_id": latest.key_id,
        "active_last_seen": ms_to_rfc3339(latest.last_seen),
        "problem": problem,
    }
