"""The asyncio flavour: the same delivery engine (spool, batching, retries, 422 split, guarantees) as
:class:`~edgeloop_client.client.EdgeloopClient`, with coroutines where the sync client would block.

Handing an event over stays a microsecond-scale, non-blocking call; only a full spool under the
``"block"`` policy makes ``signal``/``trade``/``price`` await room (without blocking the event loop).
``flush`` and ``aclose`` await the background thread's progress in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

from edgeloop_client.client import EdgeloopClient, SpoolFull


class AsyncEdgeloopClient:
    """``async with AsyncEdgeloopClient(url, bot, key) as client: await client.signal(...)``."""

    def __init__(self, base_url: str, bot: str, api_key: str, **options: Any) -> None:
        """Takes the options of :class:`EdgeloopClient`."""
        self._policy = options.pop("full_policy", "block")
        self._block_timeout_s: float | None = options.pop("block_timeout_s", None)
        # The engine itself always rejects when full; waiting for room happens here, as an await.
        self._client = EdgeloopClient(base_url, bot, api_key, full_policy="reject", **options)

    @property
    def sync(self) -> EdgeloopClient:
        """The underlying engine (its ``depth()``, ``stats``, options)."""
        return self._client

    def depth(self) -> int:
        return self._client.depth()

    async def _room(self) -> None:
        client = self._client
        if client.depth() < client.max_spool:
            return
        if self._policy == "reject":
            raise SpoolFull(f"{client.depth()} events wait to be sent (max_spool={client.max_spool}); not accepted")
        deadline = None if self._block_timeout_s is None else time.monotonic() + self._block_timeout_s
        while client.depth() >= client.max_spool:
            if deadline is not None and time.monotonic() >= deadline:
                raise SpoolFull(f"no room in the spool after {self._block_timeout_s} s (max_spool={client.max_spool})")
            await asyncio.sleep(0.01)

    async def signal(self, **fields: Any) -> str:
        """As :meth:`EdgeloopClient.signal`."""
        await self._room()
        return self._client.signal(**fields)

    async def trade(self, **fields: Any) -> str:
        """As :meth:`EdgeloopClient.trade`."""
        await self._room()
        return self._client.trade(**fields)

    async def price(self, **fields: Any) -> None:
        """As :meth:`EdgeloopClient.price`."""
        await self._room()
        self._client.price(**fields)

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (the sync API, awaited)
        """As :meth:`EdgeloopClient.flush`, awaited."""
        return await asyncio.to_thread(self._client.flush, timeout)

    async def aclose(self, timeout: float | None = 10.0) -> bool:  # noqa: ASYNC109
        """As :meth:`EdgeloopClient.close`, awaited."""
        return await asyncio.to_thread(self._client.close, timeout)

    async def __aenter__(self) -> AsyncEdgeloopClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
