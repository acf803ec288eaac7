"""What every service call needs, built once per process (API, gRPC server, worker, CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import Settings
from core.store.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from core.services.auth import Principal
    from core.services.notify import Listener
    from core.services.params import CurrentParams


T = TypeVar("T")

REFRESH_AHEAD = 0.75
"""Fraction of its TTL after which a cache entry still in use is refreshed in the background (keys, params)."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class JobQueue(Protocol):
    """Where cycles and resolution jobs go: arq on Redis, or the embedded in-process runner."""

    backend: str

    async def enqueue_cycle(self, bot_id: str, cycle_id: str) -> None:
        """Send the job that runs ``cycle_id`` (idempotent); ``queue_unavailable`` when the queue is down."""

    async def enqueue_resolve(self, bot_id: str) -> None: ...

    async def check_available(self) -> None:
        """Raise ``queue_unavailable`` (core.errors) when a job could not be sent now."""

    async def has_cycle_job(self, cycle_id: str) -> bool:
        """Whether a job for ``cycle_id`` is waiting or running (``queue_unavailable`` when the queue is down)."""
        ...

    async def enqueue_retention(self, bot_id: str) -> None: ...


class VersionNotifier:
    """Wakes this process's long-polls and ``WatchParams`` streams: on a version made here, and on every
    notification from other processes (a version, a revoked key; see ``core/services/notify.py``).

    Without a live notification channel, other processes' versions are seen by the DB poll the
    long-poll also runs.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def wake(self) -> None:
        """Wake every waiter now (callable from synchronous callbacks)."""
        if self._event is not None:
            self._event.set()
            self._event = None

    async def notify(self) -> None:
        self.wake()

    async def wait(self, seconds: float) -> None:
        """Return when woken, or after ``seconds``."""
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


@dataclass
class ServiceContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], int] = wall_clock_ms
    started_at_ms: int = field(default_factory=wall_clock_ms)
    jobs: JobQueue | None = None
    notifier: VersionNotifier = field(default_factory=VersionNotifier)
    # In-process caches; see core/services/params.py and auth.py for their rules.
    params_cache: dict[str, tuple[float, CurrentParams]] = field(default_factory=dict)
    auth_cache: dict[str, tuple[float, Principal]] = field(default_factory=dict)
    key_revocations: int = (
        0  # keys revoked (here or, notified, elsewhere); a key lookup that overlapped one is not cached
    )
    revoked_keys: set[str] = field(default_factory=set)  # key ids known revoked: live calls holding one end
    invalidations: int = 0  # params entries dropped by notifications; a refresh that overlapped one is not cached
    push_live: bool = False  # the notification channel is up: cache entries are trusted until notified
    listener: Listener | None = None  # the notification subscriber of a serving process (notify.start_listener)
    # (bot, key_id) -> (version, monotonic time) of the last activation this process recorded (activations.py).
    activations_seen: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    activation_locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    _inflight: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    _background: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def single_flight(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """Run ``load`` once for concurrent callers with the same key; the others await its result.

        Keeps a cache refresh from turning into one DB query per waiting request when an entry expires.
        """
        pending = self._inflight.get(key)
        if pending is not None:
            result: T = await asyncio.shield(pending)
            return result
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: callers that awaited it re-raise; nobody else should warn
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    def refresh_soon(self, key: str, load: Callable[[], Awaitable[object]]) -> None:
        """Start ``single_flight(key, load)`` in the background unless it is already running.

        Lets a cache refresh its entry before it expires, so no request has to wait for the DB. Its errors
        are dropped here: once the entry expires, the next caller runs ``load`` itself and sees them.
        """
        if key in self._inflight or key in self._background:
            return

        async def run() -> None:
            with contextlib.suppress(Exception):
                await self.single_flight(key, load)

        task = asyncio.get_running_loop().create_task(run())
        self._background[key] = task
        task.add_done_callback(lambda _: self._background.pop(key, None))

    @classmethod
    def create(cls, settings: Settings) -> ServiceContext:
        engine = make_engine(settings.database_url, settings.database_connect_timeout_s)
        return cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine))

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        for task in list(self._background.values()):
            task.cancel()
        await asyncio.gather(*self._background.values(), return_exceptions=True)
        await self.engine.dispose()
