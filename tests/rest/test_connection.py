"""Issue 11, item 9: a 500 that still happens closes the connection cleanly (``Connection: close``).

uvicorn drops the connection after an exception escapes the app, even though the 500 was sent.
Without the header a keep-alive client sends its next, valid request on that dropped connection and
fails. Served by a real uvicorn on a free loopback port; the failing route stands in for a bug.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from api.rest.app import create_app
from core.settings import Settings


@pytest.fixture
async def base_url(settings: Settings) -> AsyncIterator[str]:
    app = create_app(settings)

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/broken", broken, methods=["GET"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_a_500_closes_the_connection_and_the_next_request_succeeds(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(5):
            failed = await http.get("/test-only/broken")
            assert failed.status_code == 500
            assert failed.headers["connection"] == "close"
            assert failed.json()["code"] == "internal_error"
            assert (await http.get("/healthz")).status_code == 200  # same client, keep-alive pool
