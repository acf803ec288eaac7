"""EdgeloopClient: hand events over in microseconds; a background thread spools, batches and delivers them.

Guarantees (see README "Python client"):

- ``signal()``, ``trade()`` and ``price()`` return at once. The event is in memory; the background
  thread writes it to the spool within ``spool_interval_s`` (20 ms). From then on it survives a crash or
  restart of the bot, an outage of the service and network loss: it leaves the spool only when the
  service has acknowledged it (stored or a duplicate) or rejected it (``on_rejected``).
- Every signal and trade carries an ``event_id`` (generated when not given), so a resend after a lost
  answer is a duplicate on the server, never a second event.
- Batches go out when ``batch_size`` (500) events wait or the oldest has waited ``max_age_s`` (1 s).
- Failures: connection errors, timeouts, 408/425/429 and 5xx are retried with exponential backoff and
  jitter, honouring ``Retry-After``. A 422 names the bad events by index: those go to ``on_rejected``
  (and the log), the rest are sent again. 413 halves the batch. Other 4xx (401, 403, 404...) are retried
  ``max_client_error_attempts`` times (a key being rotated) and then rejected: never retried forever.
- The spool is bounded (``max_spool`` events, memory and file together). When full, ``full_policy``
  decides: ``"block"`` waits for room (up to ``block_timeout_s``, then raises), ``"reject"`` raises
  :class:`SpoolFull` at once. Nothing is ever dropped silently. ``depth()`` says how many events wait;
  crossing ``warn_depth`` logs a warning.
- ``flush(timeout)`` returns True once every event handed over before the call has been acknowledged or
  rejected; False if the timeout passed first (they stay spooled and keep being sent).
  ``close(timeout)`` flushes, stops the thread and closes the spool: what was not delivered stays in the
  spool file and is sent by the next client opened on it. The client is a context manager and is closed
  at interpreter exit (``atexit``, ``exit_timeout_s``).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import secrets
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx

from edgeloop_client._delivery import Delivery, RejectedCallback, VersionSource
from edgeloop_client._retry import Backoff

log = logging.getLogger("edgeloop_client")

DEFAULT_SPOOL = ".edgeloop/spool-{bot}.sqlite3"


class SpoolFull(RuntimeError):
    """The spool holds ``max_spool`` events and the policy is ``"reject"`` (or ``"block"`` timed out)."""


class EdgeloopClient(Delivery):
    """Send a bot's events to edgeloop. Thread-safe; one per bot and process is enough."""

    def __init__(
        self,
        base_url: str,
        bot: str,
        api_key: str,
        *,
        spool: str | Path | None = DEFAULT_SPOOL,
        batch_size: int = 500,
        max_age_s: float = 1.0,
        max_spool: int = 1_000_000,
        full_policy: Literal["block", "reject"] = "block",
        block_timeout_s: float | None = None,
        warn_depth: int = 100_000,
        on_rejected: RejectedCallback | None = None,
        versions: VersionSource | None = None,
        backoff: Backoff | None = None,
        max_client_error_attempts: int = 3,
        timeout_s: float = 10.0,
        spool_interval_s: float = 0.02,
        exit_timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``spool``: path of the SQLite spool file (``{bot}`` is replaced), or None for memory only
        (events are then lost if the process dies). One client per spool file at a time. ``versions``: a
        ParamWatcher, whose applied version is written into each signal's and trade's ``params_version``
        and reported with every request."""
        if batch_size < 1 or max_spool < batch_size:
            raise ValueError("need 1 <= batch_size <= max_spool")
        self.bot = bot
        self.batch_size = batch_size
        self.max_age_s = max_age_s
        self.max_spool = max_spool
        self.full_policy = full_policy
        self.block_timeout_s = block_timeout_s
        self.warn_depth = warn_depth
        self.on_rejected = on_rejected
        self.versions = versions
        self.backoff = backoff or Backoff()
        self.max_client_error_attempts = max_client_error_attempts
        self.spool_interval_s = spool_interval_s
        self._spool_path = None if spool is None else Path(str(spool).format(bot=bot))
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
            transport=transport,
        )
        self._url = f"/v1/bots/{bot}/events"
        self._ids = itertools.count()
        self._prefix = f"{secrets.token_hex(6)}-"  # ids unique across processes and restarts
        # Each event gets an ordinal when handed over; its spool row's seq is ``base + ordinal``, so flush()
        # can tell when everything handed over before it has left the spool.
        self._ordinals = itertools.count()
        self._last_ordinal = -1
        self._base = 0  # set by the thread: 1 + the highest seq already in the spool
        self._head_seq: int | None = None  # lowest seq in the spool (thread-maintained)
        self._pending: deque[tuple[int, dict[str, Any]]] = deque()
        self._spooled = 0  # rows in the spool; written by the background thread only
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._flushing = 0
        self._closed = False
        self._warned = False
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.stats = {"sent": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "retries": 0}
        self._thread = threading.Thread(target=self._run, name=f"edgeloop-client-{bot}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure
        ref = weakref.ref(self)
        self._atexit = lambda: (c := ref()) is not None and c.close(exit_timeout_s)
        atexit.register(self._atexit)

    # --- handing events over (the caller's thread: keep it cheap) ------------------------------------

    def signal(
        self,
        *,
        symbol: str,
        direction: str,
        price: float,
        conviction: float,
        components: Mapping[str, float],
        decision: str = "executed",
        ts: int | str | None = None,
        blocked_by: str | None = None,
        strategy: str | None = None,
        expected_edge_bps: float | None = None,
        regime: str | None = None,
        event_id: str | None = None,
        params_version: int | None = None,
    ) -> str:
        """Queue a signal (DESIGN.md section 5); returns its event_id. ``ts`` defaults to now (epoch ms)."""
        event: dict[str, Any] = {
            "type": "signal",
            "event_id": event_id or self._prefix + str(next(self._ids)),
            "ts": ts if ts is not None else time.time_ns() // 1_000_000,
            "symbol": symbol,
            "direction": direction,
            "price": price,
            "conviction": conviction,
            "components": components,
            "decision": decision,
        }
        if blocked_by is not None:
            event["blocked_by"] = blocked_by
        if strategy is not None:
            event["strategy"] = strategy
        if expected_edge_bps is not None:
            event["expected_edge_bps"] = expected_edge_bps
        if regime is not None:
            event["regime"] = regime
        self._versioned(event, params_version)
        self._put(event)
        return str(event["event_id"])

    def trade(
        self,
        *,
        symbol: str,
        direction: str,
        opened_at: int | str,
        entry_price: float,
        exit_price: float,
        quantity: float,
        pnl: float,
        fees: float = 0.0,
        ts: int | str | None = None,
        strategy: str | None = None,
        conviction: float | None = None,
        signal_event_id: str | None = None,
        venue: str | None = None,
        regime: str | None = None,
        event_id: str | None = None,
        params_version: int | None = None,
    ) -> str:
        """Queue a closed trade; ``pnl`` is net of fees. ``ts`` (close time) defaults to now."""
        event: dict[str, Any] = {
            "type": "trade",
            "event_id": event_id or self._prefix + str(next(self._ids)),
            "ts": ts if ts is not None else time.time_ns() // 1_000_000,
            "opened_at": opened_at,
            "symbol": symbol,
            "direction": direction,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "quantity": quantity,
            "pnl": pnl,
            "fees": fees,
        }
        for key, value in (
            ("strategy", strategy),
            ("conviction", conviction),
            ("signal_event_id", signal_event_id),
            ("venue", venue),
            ("regime", regime),
        ):
            if value is not None:
                event[key] = value
        self._versioned(event, params_version)
        self._put(event)
        return str(event["event_id"])

    def price(self, *, symbol: str, price: float, ts: int | str | None = None, event_id: str | None = None) -> None:
        """Queue a price mark; marks are unique per (symbol, ts), so a resend is a duplicate."""
        event: dict[str, Any] = {
            "type": "price",
            "ts": ts if ts is not None else time.time_ns() // 1_000_000,
            "symbol": symbol,
            "price": price,
        }
        if event_id is not None:
            event["event_id"] = event_id
        self._put(event)

    def _versioned(self, event: dict[str, Any], given: int | None) -> None:
        version = given if given is not None else (self.versions.active_version if self.versions else None)
        if version is not None:
            event["params_version"] = version

    def _put(self, event: dict[str, Any]) -> None:
        if self._closed:
            raise RuntimeError("the client is closed")
        if len(self._pending) + self._spooled >= self.max_spool:
            self._wait_for_room()
        pending = self._pending
        ordinal = next(self._ordinals)
        pending.append((ordinal, event))
        self._last_ordinal = ordinal
        if len(pending) == 1 or len(pending) >= self.batch_size:
            self._wake.set()

    def _wait_for_room(self) -> None:
        depth = self.depth()
        if self.full_policy == "reject":
            raise SpoolFull(f"{depth} events wait to be sent (max_spool={self.max_spool}); not accepted")
        deadline = None if self.block_timeout_s is None else time.monotonic() + self.block_timeout_s
        with self._progress:
            while len(self._pending) + self._spooled >= self.max_spool:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise SpoolFull(f"no room in the spool after {self.block_timeout_s} s (max_spool={self.max_spool})")
                self._progress.wait(0.1 if remaining is None else min(0.1, remaining))

    # --- observing and finishing ------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event handed over before this call is acknowledged or rejected.

        True when done; False when ``timeout`` seconds passed first (nothing is lost: the events stay
        spooled and keep being sent). Sends at once, without waiting for ``max_age_s``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        target = self._last_ordinal
        with self._progress:
            self._flushing += 1
        try:
            with self._progress:
                while self._lowest_undone() <= target:
                    if not self._thread.is_alive():
                        return False
                    self._wake.set()
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._progress.wait(0.05 if remaining is None else min(0.05, remaining))
                return True
        finally:
            with self._progress:
                self._flushing -= 1

    def _lowest_undone(self) -> float:
        """Ordinal of the oldest event not yet acknowledged or rejected (inf: none)."""
        low = float("inf")
        head = self._head_seq
        if head is not None:
            low = head - self._base
        with contextlib.suppress(IndexError):
            low = min(low, self._pending[0][0])
        return low

    def close(self, timeout: float | None = 10.0) -> bool:
        """Flush for up to ``timeout`` s, then stop. True when nothing was left undelivered.

        What is left stays in the spool file (durable spool) and is sent by the next client opened on it.
        Idempotent; the client refuses new events afterwards.
        """
        if self._closed:
            return self.depth() == 0
        delivered = self.flush(timeout)
        self._closed = True
        self._wake.set()
        self._thread.join(max(1.0, self.spool_interval_s * 10))
        self._http.close()
        atexit.unregister(self._atexit)
        left = self.depth()
        if left:
            where = f"kept in {self._spool_path}" if self._spool_path else "LOST (memory spool)"
            log.warning("edgeloop client closed with %d events undelivered: %s", left, where)
        return delivered and left == 0

    def __enter__(self) -> EdgeloopClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
