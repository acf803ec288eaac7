"""Param documents: the current one (cached), past versions, diffs, rollback, and making new versions.

Caching rule: each process keeps the serialized current document per bot, keyed by version.
With PostgreSQL and its notification channel up (``core/services/notify.py``), an entry is trusted
until a notification says the bot has a newer version (and re-checked by the channel's safety
sweep). Otherwise (SQLite, or the channel down) a request trusts the cached version for
``params_cache_ttl_s`` seconds (default 1 s) and then asks the DB for ``bots.current_version`` only;
the document itself is re-read only when the version changed. A version made in this process
updates the cache at once. An entry still read past ``REFRESH_AHEAD`` of its TTL is refreshed in the
background, so the requests of a polled bot do not wait for that query.

Read-your-writes: a process that shows ``applied_version N`` or ``current_version N`` anywhere
(:func:`observe_version`) drops an older cached entry first, so its ``/params`` serves >= N.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldError, conflict, invalid, not_found
from core.learn.diff import diff_sections
from core.schemas.config import LearningConfig
from core.schemas.params import ParamDocument, ParamSections, expires_at_ms, with_section_defaults
from core.schemas.resources import DiffEntry, Page, VersionInfo
from core.schemas.timefmt import ms_to_rfc3339
from core.services import notify
from core.services.auth import Principal, ensure_live, may_read, require_admin, require_bot
from core.services.context import REFRESH_AHEAD, ServiceContext
from core.services.metrics import PARAMS_CACHE
from core.services.paging import DEFAULT_LIMIT, decode_int_cursor, encode_cursor
from core.services.validation import INT4_MAX, require_version_number
from core.store import repos

POLL_INTERVAL_S = 0.5

_HIT = PARAMS_CACHE.labels("hit")
_MISS = PARAMS_CACHE.labels("miss")

SECTIONS: dict[str, tuple[str, ...]] = {
    "weights": ("weights", "default_weight", "signal_horizons", "weights_by_regime"),
    "gates": ("gates",),
    "sizing": ("sizing",),
    "blocked-combos": ("blocked_combos",),
    "allocation": ("allocation",),
    "hold-time": ("hold_time",),
    "routing": ("direction_routing",),
    "rules": ("rules",),
}


@dataclass(frozen=True)
class CurrentParams:
    version: int
    body: bytes  # the document, serialized once per version
    document: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        return {"version": self.version, **{key: self.document[key] for key in SECTIONS[name]}}


def _cached(ctx: ServiceContext, bot_id: str, max_age_s: float) -> CurrentParams | None:
    # Past REFRESH_AHEAD of its age limit, an entry in use is refreshed in the background, so the
    # requests of a polled bot never wait for the version check.
    cached = ctx.params_cache.get(bot_id)
    if cached is None:
        return None
    if ctx.push_live:  # trusted until a notification drops it
        return cached[1]
    age = time.monotonic() - cached[0]
    if age >= max_age_s:
        return None
    if age >= max_age_s * REFRESH_AHEAD:
        ctx.refresh_soon(f"params:{bot_id}", lambda: _refresh(ctx, bot_id))
    return cached[1]


async def _load_current(ctx: ServiceContext, bot_id: str, *, max_age_s: float) -> CurrentParams:
    current = _cached(ctx, bot_id, max_age_s)
    if current is not None:
        _HIT.inc()
        return current
    _MISS.inc()
    return await ctx.single_flight(f"params:{bot_id}", lambda: _refresh(ctx, bot_id))


async def _refresh(ctx: ServiceContext, bot_id: str) -> CurrentParams:
    cached = ctx.params_cache.get(bot_id)
    invalidations = ctx.invalidations
    async with ctx.sessions() as session:
        version = await repos.current_version(session, bot_id)
        if version is None:
            ctx.params_cache.pop(bot_id, None)
            raise not_found("bot", bot_id)
        if cached is not None and cached[1].version == version:
            current = cached[1]
        else:
            document = await repos.get_version_document(session, bot_id, version)
            assert document is not None, "bots.current_version points at a missing version"
            document = with_section_defaults(document)
            current = CurrentParams(version, orjson.dumps(document), document)
    # Stamped after the read, not before. A notification that arrived meanwhile may name a version this read
    # did not see: such a result is served once but not cached (a trusted stale entry would outlive the TTL).
    if ctx.invalidations == invalidations:
        ctx.params_cache[bot_id] = (time.monotonic(), current)
    return current


def observe_version(ctx: ServiceContext, bot_id: str, version: int | None) -> None:
    """This process is about to show ``version`` of ``bot_id`` (a cycle's ``applied_version``, a bot's
    ``current_version``): drop an older cache entry so its ``/params`` never serves less (read-your-writes)."""
    if version is not None:
        cached = ctx.params_cache.get(bot_id)
        if cached is not None and cached[1].version < version:
            ctx.params_cache.pop(bot_id, None)


async def get_current_params(ctx: ServiceContext, principal: Principal, bot_id: str) -> CurrentParams:
    require_bot(principal, bot_id)
    return await _load_current(ctx, bot_id, max_age_s=ctx.settings.params_cache_ttl_s)


def cached_current_params(ctx: ServiceContext, principal: Principal, bot_id: str) -> CurrentParams | None:
    """What :func:`get_current_params` would return, when it is known without the database (a fresh cache
    entry and a principal allowed to read it); None when only the full call can answer."""
    if not may_read(principal, bot_id):
        return None
    current = _cached(ctx, bot_id, ctx.settings.params_cache_ttl_s)
    if current is not None:
        _HIT.inc()
    return current


def unless_known(current: CurrentParams, known_version: int | None) -> CurrentParams | None:
    """None when the caller already holds the current version (HTTP 304, gRPC ``not_modified``)."""
    return None if current.version == known_version else current


async def wait_for_newer(
    ctx: ServiceContext, principal: Principal, bot_id: str, known_version: int, wait_s: float
) -> CurrentParams:
    """Long-poll: return as soon as a version newer than ``known_version`` exists, or the current one after
    ``wait_s``. Versions made in this process, and notified ones, wake it at once; without a live notification
    channel other processes' versions are seen by a DB poll every 0.5 s.

    The caller's key is checked at every wake-up (a notified revocation wakes it; without the channel, every
    poll): a key revoked meanwhile ends the wait with 401 (gRPC UNAUTHENTICATED) within a second.
    """
    require_bot(principal, bot_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        seen = (ctx.invalidations, ctx.key_revocations)
        current = await _load_current(ctx, bot_id, max_age_s=0)
        remaining = deadline - loop.time()
        if current.version > known_version or remaining <= 0:
            return current
        # A notification handled while we loaded is not missed: its wake-up came before this wait began.
        if (ctx.invalidations, ctx.key_revocations) == seen:
            await ctx.notifier.wait(remaining if ctx.push_live else min(remaining, POLL_INTERVAL_S))
        await ensure_live(ctx, principal)


async def get_params_if_newer(
    ctx: ServiceContext, principal: Principal, bot_id: str, known_version: int | None, wait_s: float = 0
) -> CurrentParams | None:
    """The current params, or None when ``known_version`` is still current (HTTP 304 / gRPC not_modified).

    With ``known_version`` and ``wait_s > 0``, long-polls up to ``min(wait_s, max_wait_s)`` for a newer version.
    """
    if known_version is not None and wait_s > 0:
        wait = min(wait_s, ctx.settings.max_wait_s)
        current = await wait_for_newer(ctx, principal, bot_id, known_version, wait)
    else:
        current = await get_current_params(ctx, principal, bot_id)
    return unless_known(current, known_version)


async def _document(ctx: ServiceContext, bot_id: str, version: int) -> dict[str, Any]:
    require_version_number(version)
    async with ctx.sessions() as session:
        if await repos.current_version(session, bot_id) is None:
            raise not_found("bot", bot_id)
        document = await repos.get_version_document(session, bot_id, version)
    if document is None:
        raise not_found("version", str(version))
    return with_section_defaults(document)


async def get_version(ctx: ServiceContext, principal: Principal, bot_id: str, version: int) -> dict[str, Any]:
    require_bot(principal, bot_id)
    return await _document(ctx, bot_id, version)


async def list_versions(
    ctx: ServiceContext, principal: Principal, bot_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[VersionInfo]:
    require_bot(principal, bot_id)
    async with ctx.sessions() as session:
        if await repos.current_version(session, bot_id) is None:
            raise not_found("bot", bot_id)
        items = await repos.list_versions(session, bot_id, before=decode_int_cursor(cursor), limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=encode_cursor(items[-1].version) if more else None)


async def diff_versions(
    ctx: ServiceContext, principal: Principal, bot_id: str, from_version: int, to_version: int
) -> list[DiffEntry]:
    """Every leaf that differs between two versions, as ``{path, old, new}``."""
    require_bot(principal, bot_id)
    old = ParamSections.model_validate(_sections(await _document(ctx, bot_id, from_version)))
    new = ParamSections.model_validate(_sections(await _document(ctx, bot_id, to_version)))
    return [DiffEntry(**entry) for entry in diff_sections(old, new)]


def _sections(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in with_section_defaults(document).items() if key in ParamSections.model_fields}


async def commit_version(
    ctx: ServiceContext,
    session: AsyncSession,
    bot_id: str,
    sections: ParamSections,
    *,
    source: str,
    cycle_id: str | None,
    now_ms: int,
    expect_version: int | None = None,
) -> ParamDocument:
    """Write the next version inside the caller's transaction (the bot row is locked, so versions never race).

    With ``expect_version``, refuses (409) when the current version moved on since the proposal was made.
    """
    bot = await repos.get_bot(session, bot_id, for_update=True)
    if bot is None:
        raise not_found("bot", bot_id)
    if expect_version is not None and bot.current_version != expect_version:
        raise conflict(
            "stale_proposal",
            "Stale proposal",
            f"proposal was made against version {expect_version}, current is {bot.current_version}",
        )
    version = bot.current_version + 1
    document = ParamDocument(
        bot_id=bot_id,
        version=version,
        created_at=ms_to_rfc3339(now_ms),
        expires_at=ms_to_rfc3339(expires_at_ms(now_ms, LearningConfig.model_validate(bot.config))),
        source=source,
        cycle_id=cycle_id,
        **sections.model_dump(),
    )
    await repos.add_version(
        session,
        bot_id=bot_id,
        version=version,
        created_at=now_ms,
        source=source,
        cycle_id=cycle_id,
        document=document.model_dump(mode="json"),
    )
    bot.current_version = version
    await session.flush()
    await notify.publish_version(session, bot_id, version)  # delivered to every process on commit
    return document


async def version_committed(ctx: ServiceContext, bot_id: str) -> None:
    """Call after the commit that made a version: drop the stale cache entry and wake local long-polls
    (other processes hear of it through the notification ``commit_version`` sent)."""
    notify.version_made(ctx, bot_id)


async def rollback(ctx: ServiceContext, principal: Principal, bot_id: str, version: int) -> ParamDocument:
    """A new version whose sections copy ``version``'s, ``source: "rollback"``."""
    require_admin(principal, bot_id)
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if await repos.current_version(session, bot_id) is None:
            raise not_found("bot", bot_id)
        old = await repos.get_version_document(session, bot_id, version) if 1 <= version <= INT4_MAX else None
        if old is None:
            raise invalid(
                "unknown_version",
                "Unknown version",
                f"bot {bot_id!r} has no version {version}",
                [FieldError(loc="version", msg=f"no version {version}")],
            )
        document = await commit_version(
            ctx,
            session,
            bot_id,
            ParamSections.model_validate(_sections(old)),
            source="rollback",
            cycle_id=None,
            now_ms=now,
        )
        await repos.add_audit(
            session,
            bot_id=bot_id,
            at=now,
            actor=principal.key_id,
            action="rollback",
            detail={"to_version": version, "new_version": document.version},
        )
    await version_committed(ctx, bot_id)
    return document
