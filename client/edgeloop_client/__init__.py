"""edgeloop-client: what a trading bot needs to feed edgeloop and run on its params.

- :class:`EdgeloopClient` (and :class:`AsyncEdgeloopClient`): hand over signals, trades and price marks
  in microseconds; a durable spool, batching and retries deliver each exactly once.
- :class:`ParamWatcher`: the current :class:`Params` (long-polled, cached on disk, stale past
  ``expires_at``), reporting the version the bot runs.
"""

from edgeloop_client._retry import Backoff
from edgeloop_client.aio import AsyncEdgeloopClient
from edgeloop_client.client import EdgeloopClient, SpoolFull
from edgeloop_client.params import HoldPolicy, Params
from edgeloop_client.watcher import ParamWatcher

__all__ = [
    "AsyncEdgeloopClient",
    "Backoff",
    "EdgeloopClient",
    "HoldPolicy",
    "ParamWatcher",
    "Params",
    "SpoolFull",
]
__version__ = "0.1.0"
