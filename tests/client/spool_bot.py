"""A bot process for tests/client: ``produce`` hands N events over and keeps delivering them slowly (so the
test can SIGKILL it with events still in the spool); ``resume`` reopens the spool and flushes it; ``exit``
hands N events over and returns without closing the client.

Run as a script: it imports only the client package, as a bot would.
"""

from __future__ import annotations

import json
import sys
import time

import httpx
from edgeloop_client import Backoff, EdgeloopClient

T0 = 1_767_225_600_000


class SlowTransport(httpx.HTTPTransport):
    """A real HTTP transport on a slow link: each request takes 30 ms longer."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(0.03)
        return super().handle_request(request)


def main() -> None:
    mode, url, bot, key, spool, n = sys.argv[1:7]
    client = EdgeloopClient(
        url,
        bot,
        key,
        spool=spool,
        batch_size=20,
        backoff=Backoff(base_s=0.05, max_s=0.3),
        transport=SlowTransport() if mode == "produce" else None,
        max_age_s=0.01 if mode != "exit" else 5.0,
    )
    if mode in ("produce", "exit"):
        for i in range(int(n)):
            if i % 5 == 4:
                client.price(symbol="EURUSD", price=1.1 + i * 1e-5, ts=T0 + i * 1000)
            else:
                client.signal(
                    symbol="EURUSD",
                    direction="long" if i % 2 else "short",
                    price=1.1,
                    conviction=0.5,
                    components={"momentum": 1.0},
                    ts=T0 + i * 1000,
                )
        if mode == "exit":
            return  # no close(): interpreter exit (atexit) must deliver them
        while client._pending:  # handed over -> in the spool file (within spool_interval_s)
            time.sleep(0.005)
        print("spooled", flush=True)
        time.sleep(600)  # the test kills us meanwhile
    else:
        done = client.flush(30)
        print(json.dumps({"flushed": done, **client.stats, "depth": client.depth()}), flush=True)
        client.close(5)


if __name__ == "__main__":
    main()
