"""The image, built and run: `docker run -p PORT:8000 IMAGE` migrates SQLite on its volume and serves.

Skipped where no Docker engine answers, unless EDGELOOP_REQUIRE_DOCKER=1 (CI sets it, after
starting one with docker-local.sh): then a missing engine fails the test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# One tag per checkout: worktrees building at the same time must not run each other's image.
IMAGE = f"edgeloop:test-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"
BUILD_TIMEOUT_S = 1800  # a cold build downloads every wheel; a warm one reuses the dependency layer


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker("info", timeout=30, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def image() -> str:
    if not engine_answers():
        if os.environ.get("EDGELOOP_REQUIRE_DOCKER") == "1":
            pytest.fail("EDGELOOP_REQUIRE_DOCKER=1 but no Docker engine answers (run docker-local.sh)")
        pytest.skip("no Docker engine")
    started = time.monotonic()
    built = docker("build", "--network", "host", "-t", IMAGE, str(ROOT), timeout=BUILD_TIMEOUT_S, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(f"docker build: {time.monotonic() - started:.1f} s")
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[str]:
    """The image's default command, its API published on a free loopback port."""
    name = f"edgeloop-test-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "-p", "127.0.0.1:0:8000", image)
    try:
        yield name
    finally:
        docker("rm", "-f", "-v", name, check=False)


def wait_ok(url: str, timeout_s: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within {timeout_s} s")
        time.sleep(0.5)


def test_default_command_migrates_the_volume_and_serves(container: str) -> None:
    port = docker("port", container, "8000/tcp").stdout.split(":")[-1].strip()
    base = f"http://127.0.0.1:{port}"
    assert wait_ok(f"{base}/healthz").status_code == 200
    ready = wait_ok(f"{base}/readyz", 30)  # ready: the database on the volume is migrated
    assert ready.status_code == 200, ready.text
    mounts = docker("inspect", "-f", "{{range .Mounts}}{{.Destination}} {{end}}", container).stdout.split()
    assert "/data" in mounts
    assert docker("exec", container, "test", "-s", "/data/edgeloop.db", check=False).returncode == 0
    # The role-aware healthcheck: serve answers on its HTTP and gRPC ports; a worker has nothing to probe.
    for role in ("", "api", "grpc", "worker"):
        checked = docker("exec", container, "edgeloop-healthcheck", *([role] if role else []), check=False)
        assert checked.returncode == 0, (role, checked.stderr)
    # ... and fails where nothing listens (the check really probes the port).
    wrong = docker("exec", "-e", "EDGELOOP_PORT=1", container, "edgeloop-healthcheck", "api", check=False)
    assert wrong.returncode == 1


def test_the_cli_runs_in_the_image(image: str) -> None:
    helped = docker("run", "--rm", image, "--help")
    assert "serve" in helped.stdout and "worker" in helped.stdout and "migrate" in helped.stdout
