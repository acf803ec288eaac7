"""Notifications across processes: a new version, a revoked key (PostgreSQL LISTEN/NOTIFY).

Why PostgreSQL and not Redis pub/sub: every process already holds the database, Redis is optional,
and ``NOTIFY`` is transactional: it is sent in the transaction that commits the version or the
revocation and delivered only once that commit is visible, so a process that hears "version N" and
reads the database sees N. (A Redis message published after the commit is lost when the publisher
dies between the two, and one published before it can be read before the data.)

What a serving process (API, gRPC, ``serve``) does with them, through :class:`Listener`:

- a version drops the bot's params cache entry and wakes long-polls and ``WatchParams`` streams;
- a revoked key leaves the auth cache and ends live calls made with it (401 / UNAUTHENTICATED).

While the channel is up (``ctx.push_live``) cache entries are trusted until notified, and a safety
sweep every ``notify_recheck_s`` re-checks all cached versions and keys in two queries. On a lost
connection the listener reconnects with backoff; meanwhile the caches fall back to their TTLs and
long-polls to the 0.5 s database poll. After a (re)connect both caches are emptied, since
notifications sent while it was down are lost. SQLite (one process) has no channel: versions made in
the process wake it directly (``version_committed``) and the TTLs stay in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from core.services.context import ServiceContext
from core.services.metrics import NOTIFICATIONS
from core.store.models import ApiKey, Bot

log = logging.getLogger("edgeloop.notify")

CHANNEL = "edgeloop_events"
PING_S = 5.0  # how often the listening connection is checked, so a silently dead one is noticed
MAX_BACKOFF_S = 30.0
_CHUNK = 5000


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def publish(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Queue a notification in the caller's transaction (PostgreSQL); it is delivered on commit."""
    if _is_postgres(session):
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": orjson.dumps(payload).decode()},
        )


async def publish_version(session: AsyncSession, bot_id: str, version: int) -> None:
    await publish(session, {"kind": "version", "bot": bot_id, "version": version})


async def publish_revoked(session: AsyncSession, key_id: str) -> None:
    await publish(session, {"kind": "key_revoked", "key": key_id})


# --- what a notification does to this process ------------------------------------------------------------


def version_made(ctx: ServiceContext, bot_id: str, version: int | None = None) -> None:
    """Version ``version`` (None: some new version) of ``bot_id`` exists: drop an older cache entry, wake waiters."""
    cached = ctx.params_cache.get(bot_id)
    if cached is not None and (version is None or cached[1].version < version):
        ctx.params_cache.pop(bot_id, None)
    ctx.invalidations += 1
    ctx.notifier.wake()


def key_revoked(ctx: ServiceContext, key_id: str) -> None:
    """Key ``key_id`` is revoked: forget it in the auth cache and end the live calls made with it."""
    ctx.revoked_keys.add(key_id)
    ctx.key_revocations += 1
    for digest, (_, principal) in list(ctx.auth_cache.items()):
        if principal.key_id == key_id:
            ctx.auth_cache.pop(digest, None)
    ctx.notifier.wake()


def _handle(ctx: ServiceContext, raw: str) -> None:
    try:
        message = orjson.loads(raw)
        kind = message["kind"]
        if kind == "version":
            version_made(ctx, str(message["bot"]), int(message["version"]))
        elif kind == "key_revoked":
            key_revoked(ctx, str(message["key"]))
        else:
            kind = "unknown"
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        kind = "malformed"
        log.warning("ignored a malformed notification: %.200s", raw)
    NOTIFICATIONS.labels(kind).inc()


async def recheck(ctx: ServiceContext) -> None:
    """The safety sweep: every cached version and key checked against the database, a few queries in all."""
    bots = list(ctx.params_cache)
    keys = {principal.key_id for _, principal in ctx.auth_cache.values()}
    async with ctx.sessions() as session:
        for i in range(0, len(bots), _CHUNK):
            chunk = bots[i : i + _CHUNK]
            rows = await session.execute(select(Bot.id, Bot.current_version).where(Bot.id.in_(chunk)))
            current: dict[str, int] = {bot_id: version for bot_id, version in rows}
            for bot_id in chunk:
                cached = ctx.params_cache.get(bot_id)
                if cached is not None and cached[1].version != current.get(bot_id):
                    log.warning("safety re-check: bot %s moved to version %s unnoticed", bot_id, current.get(bot_id))
                    version_made(ctx, bot_id)
        ordered = sorted(keys)
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i : i + _CHUNK]
            live = set(
                (await session.execute(select(ApiKey.id).where(ApiKey.id.in_(chunk), ApiKey.revoked_at.is_(None))))
                .scalars()
                .all()
            )
            for key_id in set(chunk) - live:
                log.warning("safety re-check: key %s was revoked unnoticed", key_id)
                key_revoked(ctx, key_id)


# --- the subscriber ----------------------------------------------------------------------------------------


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL as a plain ``postgresql://`` DSN for asyncpg."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """Keeps one connection listening on :data:`CHANNEL` for the life of a serving process."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.connected = asyncio.Event()
        self.backend_pid: int | None = None  # the listening connection's server process (for operators and tests)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._down()

    def _down(self) -> None:
        if self.ctx.push_live:
            self.ctx.push_live = False
            self.connected.clear()
            self.ctx.notifier.wake()  # waiters go back to polling the database

    async def _run(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        settings = self.ctx.settings
        dsn = asyncpg_dsn(settings.database_url)
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(dsn, timeout=settings.database_connect_timeout_s)
            except Exception as exc:
                log.warning(
                    "notification channel down (%s: %s); caches use their TTLs; reconnecting in %.1fs",
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
                continue
            try:
                await self._listen(conn)
                delay = 0.5
            except Exception as exc:  # whatever broke the connection, the channel must come back
                log.warning("notification channel lost (%s: %s); reconnecting", type(exc).__name__, exc)
            finally:
                self._down()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(delay)

    async def _listen(self, conn: Any) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: _handle(self.ctx, payload))
        self.backend_pid = conn.get_server_pid()
        # Notifications sent while we were not listening are lost: start from empty caches.
        self.ctx.params_cache.clear()
        self.ctx.auth_cache.clear()
        self.ctx.invalidations += 1
        self.ctx.key_revocations += 1
        self.ctx.push_live = True
        self.connected.set()
        self.ctx.notifier.wake()
        log.info("notification channel up: caches trusted until notified (re-checked every %ss)", self._recheck_s)
        next_sweep = time.monotonic() + self._recheck_s
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), min(PING_S, self._recheck_s))
            if lost.is_set():
                break
            await asyncio.wait_for(conn.fetchval("SELECT 1"), PING_S)
            if time.monotonic() >= next_sweep:
                try:
                    await recheck(self.ctx)
                except Exception as exc:  # the app's pool is down: the channel may still be up; try next time
                    log.warning("safety re-check failed (%s: %s)", type(exc).__name__, exc)
                next_sweep = time.monotonic() + self._recheck_s
        raise ConnectionError("the listening connection closed")

    @property
    def _recheck_s(self) -> float:
        return self.ctx.settings.notify_recheck_s


async def start_listener(ctx: ServiceContext, *, wait_s: float = 5.0) -> None:
    """Subscribe ``ctx`` to notifications (PostgreSQL only); waits up to ``wait_s`` for the first connection."""
    if not ctx.settings.database_url.startswith("postgresql") or ctx.listener is not None:
        return
    listener = Listener(ctx)
    ctx.listener = listener
    listener.start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.connected.wait(), wait_s)
