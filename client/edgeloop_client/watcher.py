"""ParamWatcher: always hold good params, know when they are stale, and tell the service which version runs.

A background thread long-polls ``GET /v1/bots/{bot}/params?wait=N`` with ``If-None-Match`` (DESIGN.md
section 4), so a new version arrives within moments of being made and an unchanged one costs a 304.

- Each new document is written to ``cache_path`` (atomically) before it is applied. At start-up the last
  good document from that file is served at once; if the service is unreachable the bot runs on it,
  and the watcher switches as soon as the service answers with something newer.
- ``on_update(params)`` is called (in the watcher thread) for each version; once it returns, that version
  is the *active* one: sent as ``Edgeloop-Active-Version`` on every poll (the service's activation
  history and ``/health`` show it) and written into events by an ``EdgeloopClient(versions=watcher)``.
- Expiry: past the document's ``expires_at`` the watcher logs a warning, calls ``on_stale(params)`` once
  per version and ``stale`` is True. It keeps serving the document (what stale means for trading is the
  bot's call) but never presents it as fresh.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from edgeloop_client._retry import RETRYABLE_STATUS, Backoff, retry_after_s
from edgeloop_client.params import Params

if TYPE_CHECKING:
    from edgeloop_client.grpc_watch import GrpcSource

log = logging.getLogger("edgeloop_client")

DEFAULT_CACHE = ".edgeloop/params-{bot}.json"


class ParamWatcher:
    """Holds the bot's current :class:`Params`; start it once and read ``watcher.params`` whenever needed."""

    def __init__(
        self,
        base_url: str,
        bot: str,
        api_key: str,
        *,
        cache_path: str | Path | None = DEFAULT_CACHE,
        on_update: Callable[[Params], None] | None = None,
        on_stale: Callable[[Params], None] | None = None,
        wait_s: int = 30,
        backoff: Backoff | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        grpc_target: str | None = None,
    ) -> None:
        """``cache_path``: where the last good document is kept (``{bot}`` is replaced; None: nowhere).
        ``wait_s``: how long one long-poll waits for a new version (the server caps it at 60).
        ``grpc_target`` (``"host:50051"``, needs the ``grpc`` extra): watch with gRPC ``WatchParams``
        instead of HTTP long-polls; everything else behaves the same."""
        self.bot = bot
        self.on_update = on_update
        self.on_stale = on_stale
        self.wait_s = max(0, min(60, wait_s))
        self.backoff = backoff or Backoff(base_s=0.5, max_s=30.0)
        self._cache = None if cache_path is None else Path(str(cache_path).format(bot=bot))
        self._timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
            transport=transport,
        )
        self._url = f"/v1/bots/{bot}/params"
        self._params: Params | None = None
        self._active: int | None = None
        self._stale_reported: int | None = None
        self._from_disk = False
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"edgeloop-params-{bot}", daemon=True)
        self.reachable = False  # whether the last poll got an answer from the service
        self._grpc: GrpcSource | None = None
        if grpc_target is not None:
            from edgeloop_client.grpc_watch import GrpcSource

            self._grpc = GrpcSource(grpc_target, api_key)

    # --- what the bot reads ---------------------------------------------------------------------------

    @property
    def params(self) -> Params:
        """The current document; raises if none is known yet (see :meth:`wait_ready`)."""
        current = self._params
        if current is None:
            raise RuntimeError("no params yet: the service has not answered and there is no cached document")
        return current

    @property
    def active_version(self) -> int | None:
        """The version the bot has applied (``on_update`` returned for it); None before the first."""
        return self._active

    @property
    def stale(self) -> bool:
        """True when the current document is past its ``expires_at``."""
        current = self._params
        return current is not None and current.is_stale()

    @property
    def from_disk(self) -> bool:
        """True while the current document is the one read from ``cache_path`` at start-up."""
        return self._from_disk

    def start(self) -> ParamWatcher:
        """Serve the cached document at once (if any) and start polling. Returns self."""
        cached = self._load()
        if cached is not None:
            self._from_disk = True
            self._apply(cached)
        self._thread.start()
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until a document is known (from the service or the cache file); False after ``timeout``."""
        return self._ready.wait(timeout)

    def report_activation(self) -> None:
        """Tell the service now which version runs (``POST /activations``); polls also carry it as a header."""
        if self._active is not None:
            response = self._http.post(f"/v1/bots/{self.bot}/activations", json={"version": self._active})
            response.raise_for_status()

    def close(self) -> None:
        """Stop polling. Returns within about a second even while a long-poll is open (it is abandoned)."""
        self._stop.set()
        if self._grpc is not None:
            self._grpc.close()
        if self._thread.is_alive():
            self._thread.join(1.0)
        self._http.close()

    def __enter__(self) -> ParamWatcher:
        return self.start() if not self._thread.is_alive() else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the watcher thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                delay = self._poll_once(attempt)
            except Exception:
                if self._stop.is_set():
                    return  # close() shut the connection under an open long-poll
                log.exception("edgeloop params: poll failed")
                delay = self.backoff.delay(attempt)
            self._check_stale()
            if delay is None:
                attempt = 0
                continue
            attempt += 1
            self._stop.wait(self._until_expiry(delay))

    def _poll_once(self, attempt: int) -> float | None:
        """One request; None when it got an answer, else how long to wait before the next try."""
        if self._grpc is not None:
            return self._grpc.poll_once(self, attempt)
        headers: dict[str, str] = {}
        query: dict[str, int] = {}
        current = self._params
        if current is not None:
            headers["If-None-Match"] = f'"{current.version}"'
            wait = math.ceil(self._until_expiry(float(self.wait_s)))
            if wait > 0:
                query["wait"] = wait
        if self._active is not None:
            headers["Edgeloop-Active-Version"] = str(self._active)
        try:
            response = self._http.get(
                self._url, params=query, headers=headers, timeout=self._timeout_s + query.get("wait", 0)
            )
        except httpx.HTTPError as exc:
            self.reachable = False
            delay = self.backoff.delay(attempt)
            log.info("edgeloop params: service unreachable (%s); retrying in %.1f s", exc.__class__.__name__, delay)
            return delay
        self.reachable = response.status_code < 500
        if response.status_code == 304:
            return None
        if response.status_code == 200:
            self._receive(response.json())
            return None
        delay = self.backoff.delay(attempt, retry_after_s(response))
        level = logging.INFO if response.status_code in RETRYABLE_STATUS else logging.ERROR
        log.log(level, "edgeloop params: service answered %d; retrying in %.1f s", response.status_code, delay)
        return delay

    def _receive(self, document: dict[str, Any]) -> None:
        """A document from the service: kept on disk first, then applied."""
        self._save(document)
        self._from_disk = False
        self._apply(document)

    def _until_expiry(self, limit: float) -> float:
        """``limit``, shortened so the thread wakes when the current document expires (to report it)."""
        current = self._params
        left = current.seconds_to_expiry() if current is not None else None
        if left is None or left <= 0:
            return limit
        return min(limit, max(0.05, left))

    def _apply(self, document: dict[str, Any]) -> None:
        params = Params(document)
        previous = self._params
        self._params = params
        self._ready.set()
        if previous is not None and previous.version == params.version:
            return
        if self.on_update is not None:
            try:
                self.on_update(params)
            except Exception:
                log.exception("edgeloop params: on_update raised for version %d; not reported active", params.version)
                return
        self._active = params.version
        log.info("edgeloop params: version %d active (%s)", params.version, "cached" if self._from_disk else "served")

    def _check_stale(self) -> None:
        current = self._params
        if current is None or not current.is_stale() or self._stale_reported == current.version:
            return
        self._stale_reported = current.version
        log.warning(
            "edgeloop params: version %d expired at %s; the learning behind it is old (is the service learning?)",
            current.version,
            current.expires_at,
        )
        if self.on_stale is not None:
            try:
                self.on_stale(current)
            except Exception:
                log.exception("edgeloop params: on_stale raised")

    def _load(self) -> dict[str, Any] | None:
        if self._cache is None or not self._cache.exists():
            return None
        try:
            saved = json.loads(self._cache.read_text())
        except (OSError, ValueError) as exc:
            log.warning("edgeloop params: cannot read %s (%s); ignoring it", self._cache, exc)
            return None
        if not isinstance(saved, dict) or saved.get("bot") != self.bot or not isinstance(saved.get("document"), dict):
            return None
        document: dict[str, Any] = saved["document"]
        return document

    def _save(self, document: dict[str, Any]) -> None:
        if self._cache is None:
            return
        try:
            self._cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache.with_suffix(self._cache.suffix + ".tmp")
            tmp.write_text(json.dumps({"bot": self.bot, "document": document}))
            os.replace(tmp, self._cache)  # atomic: a crash leaves the old file or the new one
        except OSError as exc:
            log.warning("edgeloop params: cannot write %s (%s)", self._cache, exc)
