"""A real edgeloop API process on a free loopback port, which a test may kill (SIGKILL) and start again."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_TOKEN

EDGELOOP = str(Path(sys.executable).parent / "edgeloop")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``edgeloop api`` as its own process, on ``database_url`` and ``port``."""

    def __init__(self, database_url: str, port: int | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGELOOP_")}
        env.update(
            EDGELOOP_DATABASE_URL=self.database_url,
            EDGELOOP_ADMIN_TOKEN=ADMIN_TOKEN,
            EDGELOOP_LOG_LEVEL="warning",
            EDGELOOP_ACTIVATION_TOUCH_S="0.5",
        )
        self.process = subprocess.Popen(
            [EDGELOOP, "api", "--host", "127.0.0.1", "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"edgeloop api exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("edgeloop api did not start")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, requests in flight are cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def create_bot(self, bot_id: str, **body: object) -> str:
        response = httpx.post(f"{self.url}/v1/bots", json={"id": bot_id, **body}, headers=ADMIN, timeout=10)
        assert response.status_code == 201, response.text
        return str(response.json()["api_key"])

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=ADMIN, timeout=10)


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    """A server on this test's database (SQLite and PostgreSQL)."""
    srv = Server(database_url).start()
    try:
        yield srv
    finally:
        srv.kill()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Server]:
    """One server for the client tests that do not stop it (SQLite; each test uses its own bot)."""
    path = tmp_path_factory.mktemp("client") / "edgeloop.db"
    shutil.copy(sqlite_template, path)
    srv = Server(f"sqlite+aiosqlite:///{path}").start()
    try:
        yield srv
    finally:
        srv.kill()
