"""Real edgeloop processes for tests: `edgeloop api` / `worker` as subprocesses on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

EDGELOOP = str(Path(sys.executable).with_name("edgeloop"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def env_for(**values: str) -> dict[str, str]:
    """The test process's environment without its EDGELOOP_ settings, plus ``values`` (EDGELOOP_ prefixed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGELOOP_")}
    env.update({f"EDGELOOP_{k.upper()}": v for k, v in values.items()})
    return env


def run_cli(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGELOOP, *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=60)


@contextmanager
def process(*args: str, env: Mapping[str, str], ready_url: str | None = None) -> Iterator[subprocess.Popen[str]]:
    """Run ``edgeloop ARGS`` until the block ends (SIGTERM, then SIGKILL); with ``ready_url``, wait for a 200."""
    proc = subprocess.Popen(
        [EDGELOOP, *args], env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        if ready_url is not None:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"edgeloop {' '.join(args)} exited: {proc.stdout.read() if proc.stdout else ''}")
                try:
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"edgeloop {' '.join(args)} did not become ready")
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
