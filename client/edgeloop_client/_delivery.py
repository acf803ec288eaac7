"""The background thread of :class:`~edgeloop_client.client.EdgeloopClient`: spool, batch, send, retry.

A mixin over the client's state; the client's module docstring states the guarantees this code keeps.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from edgeloop_client._retry import RETRYABLE_STATUS, Backoff, bad_indices, problem, retry_after_s
from edgeloop_client._spool import MemorySpool, Spool, SqliteSpool

log = logging.getLogger("edgeloop_client")

RejectedCallback = Callable[[list[dict[str, Any]], dict[str, Any]], None]
"""``on_rejected(events, problem)``: the events the service refused for good, and its problem+json body."""

# One encoder for every event: json.dumps with options builds a new encoder per call (half its cost).
_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False, allow_nan=True).encode


class VersionSource(Protocol):
    """Anything with the param version the bot runs (a ParamWatcher): filled into signals and trades."""

    @property
    def active_version(self) -> int | None: ...


class Delivery:
    """State the sender thread shares with the client (set by ``EdgeloopClient.__init__``) and the thread."""

    batch_size: int
    max_age_s: float
    warn_depth: int
    on_rejected: RejectedCallback | None
    versions: VersionSource | None
    backoff: Backoff
    max_client_error_attempts: int
    spool_interval_s: float
    stats: dict[str, int]
    _spool_path: Path | None
    _http: httpx.Client
    _url: str
    _base: int
    _head_seq: int | None
    _pending: deque[tuple[int, dict[str, Any]]]
    _spooled: int
    _progress: threading.Condition
    _wake: threading.Event
    _flushing: int
    _closed: bool
    _warned: bool
    _ready: threading.Event
    _failure: BaseException | None

    def depth(self) -> int:
        """Events handed over and not yet acknowledged or rejected (in memory plus in the spool)."""
        return len(self._pending) + self._spooled

    def _run(self) -> None:
        try:
            spool: Spool = MemorySpool() if self._spool_path is None else SqliteSpool(self._spool_path)
            self._spooled = spool.count()
            self._base = spool.next_seq()
            self._head_seq = self._first_seq(spool)
        except BaseException as exc:  # e.g. an unwritable spool path: the constructor raises it
            self._failure = exc
            self._ready.set()
            return
        if self._spooled:
            log.info("edgeloop client: %d events from a previous run are in the spool; resending", self._spooled)
        self._ready.set()
        oldest: float | None = time.monotonic() - self.max_age_s if self._spooled else None
        attempt = 0
        resume_at = 0.0
        try:
            while True:
                stopping = self._closed
                now = time.monotonic()
                due = now + 3600.0
                if self._pending:
                    due = now + self.spool_interval_s
                if self._spooled:
                    if now < resume_at:
                        send_at = resume_at
                    elif self._spooled >= self.batch_size or self._flushing:
                        send_at = now
                    else:
                        send_at = (oldest or now) + self.max_age_s
                    due = min(due, send_at)
                if not stopping and due > now:
                    self._wake.wait(due - now)
                    self._wake.clear()
                if self._pending:
                    if self._spooled == 0:
                        oldest = time.monotonic()
                    try:
                        self._drain(spool)
                    except Exception:  # e.g. a full disk: the events stay in memory, retried next round
                        log.exception("edgeloop client: cannot write the spool; events stay in memory")
                        if not stopping:
                            self._wake.wait(self.backoff.delay(attempt))
                if stopping:
                    return
                now = time.monotonic()
                if self._spooled == 0 or now < resume_at:
                    continue
                if self._spooled >= self.batch_size or self._flushing or now - (oldest or now) >= self.max_age_s:
                    try:
                        ok, delay = self._send_one(spool, attempt)
                    except Exception:  # a bug or a broken spool must not stop delivery for good
                        log.exception("edgeloop client: sending failed unexpectedly; retrying")
                        ok, delay = False, self.backoff.delay(attempt)
                    if ok:
                        attempt, resume_at = 0, 0.0
                    else:
                        self.stats["retries"] += 1
                        attempt += 1
                        resume_at = time.monotonic() + delay
        finally:
            spool.close()

    def _drain(self, spool: Spool) -> None:
        pending, base, encode = self._pending, self._base, _ENCODE
        with self._progress:  # before popping: flush() must see these events in the deque or the spool, always
            previous = self._head_seq
            first = base + pending[0][0]
            self._head_seq = first if previous is None else min(previous, first)
        taken = []
        while pending:
            taken.append(pending.popleft())
        rows, unencodable = [], []
        for ordinal, event in taken:
            try:
                rows.append((base + ordinal, encode(event).encode()))
            except (TypeError, ValueError) as error:  # e.g. an object that is not a number in components
                unencodable.append((event, str(error)))
        try:
            spool.append(rows)
        except BaseException:
            with self._progress:
                self._head_seq = previous
            pending.extendleft(reversed(taken))  # not spooled: back in front, nothing lost
            raise
        with self._progress:
            self._spooled += len(rows)
            heads = [seq for seq in (previous, min((seq for seq, _ in rows), default=None)) if seq is not None]
            self._head_seq = min(heads) if heads else None
            self._progress.notify_all()
        for event, why in unencodable:
            self._rejected([event], {"code": "not_json", "detail": f"event is not JSON-serializable: {why}"})
        depth = self.depth()
        if depth >= self.warn_depth and not self._warned:
            self._warned = True
            log.warning("edgeloop client: %d events wait to be sent (warn_depth=%d)", depth, self.warn_depth)
        elif depth < self.warn_depth // 2:
            self._warned = False

    def _send_one(self, spool: Spool, attempt: int, limit: int | None = None) -> tuple[bool, float]:
        """Send the oldest batch. (True, 0) when it left the spool; (False, delay) to retry after delay."""
        rows = spool.head(limit or self.batch_size)
        body = b'{"events":[' + b",".join(b for _, b in rows) + b"]}"
        headers = {}
        version = self.versions.active_version if self.versions else None
        if version is not None:
            headers["Edgeloop-Active-Version"] = str(version)
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            delay = self.backoff.delay(attempt)
            log.info("edgeloop client: send failed (%s); retrying in %.2f s", exc.__class__.__name__, delay)
            return False, delay
        status = response.status_code
        if status == 200:
            result = response.json()
            self.stats["sent"] += len(rows)
            self.stats["accepted"] += int(result.get("accepted", 0))
            self.stats["duplicates"] += int(result.get("duplicates", 0))
            self._remove(spool, [seq for seq, _ in rows])
            return True, 0.0
        if status in RETRYABLE_STATUS:
            delay = self.backoff.delay(attempt, retry_after_s(response))
            log.info("edgeloop client: service answered %d; retrying in %.2f s", status, delay)
            return False, delay
        info = problem(response)
        if status == 413 and len(rows) > 1:
            return self._send_one(spool, attempt, max(1, len(rows) // 2))
        if status == 422:
            bad = bad_indices(info)
            if bad is None:
                bad = set(range(len(rows)))
            self._reject(spool, [rows[i] for i in sorted(bad) if i < len(rows)], info)
            return True, 0.0
        if attempt + 1 < self.max_client_error_attempts:
            delay = self.backoff.delay(attempt, retry_after_s(response))
            code = info.get("code")
            log.warning("edgeloop client: service answered %d (%s); retrying in %.2f s", status, code, delay)
            return False, delay
        self._reject(spool, rows, info)
        return True, 0.0

    def _reject(self, spool: Spool, rows: list[tuple[int, bytes]], info: dict[str, Any]) -> None:
        # on_rejected first: once flush() returns, the callback has run (after a crash in between, the events
        # are sent again and rejected again: the callback sees them at least once).
        self._rejected([json.loads(body) for _, body in rows], info)
        self._remove(spool, [seq for seq, _ in rows])

    def _rejected(self, events: list[dict[str, Any]], info: dict[str, Any]) -> None:
        self.stats["rejected"] += len(events)
        log.error(
            "edgeloop client: %d events rejected (%s: %s); they go to on_rejected",
            len(events),
            info.get("code"),
            info.get("detail"),
        )
        if self.on_rejected is not None:
            try:
                self.on_rejected(events, info)
            except Exception:
                log.exception("edgeloop client: on_rejected raised")

    def _remove(self, spool: Spool, seqs: list[int]) -> None:
        spool.delete(seqs)
        head = self._first_seq(spool)
        with self._progress:
            self._spooled -= len(seqs)
            self._head_seq = head
            self._progress.notify_all()

    @staticmethod
    def _first_seq(spool: Spool) -> int | None:
        first = spool.head(1)
        return first[0][0] if first else None
