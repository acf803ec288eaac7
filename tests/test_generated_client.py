"""A client generated from openapi.yaml (openapi-python-client) is typed and works against the real server.

Generation is checked for warnings (only the NDJSON body is allowed to be skipped), for the typed event
models, then the generated package drives a real uvicorn on a free port (tests/clientgen/use_client.py).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.rest.app import create_app
from core.settings import Settings
from tests.clientgen.generator import ensure_generator
from tests.conftest import ADMIN_TOKEN
from tests.live_server import serve

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "tests" / "clientgen"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    exe = ensure_generator()
    out = tmp_path_factory.mktemp("client")
    config = out / "config.yaml"
    config.write_text("post_hooks: []\n")
    run = subprocess.run(
        [str(exe), "generate", "--path", str(ROOT / "openapi.yaml"), "--meta", "none", "--config", str(config),
         "--output-path", str(out / "edgeloop_gen")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return out, run.stdout + run.stderr


def test_only_the_ndjson_body_is_unsupported(generated: tuple[Path, str]) -> None:
    _, output = generated
    # Each warning is a "WARNING parsing ..." header, then its reasons; the one allowed is the NDJSON body
    # (the JSON body of the same operation is generated).
    assert re.findall(r"^WARNING .*$", output, re.MULTILINE) == [
        "WARNING parsing POST /v1/bots/{bot}/events within events."
    ], output
    reasons = [line for line in output.splitlines() if line[:1].isalpha() and not line.startswith(("WARN", "Gen"))]
    assert reasons == [
        "Warning(s) encountered while generating. Client was generated, but some pieces may be missing",
        "Unsupported content type application/x-ndjson",
        "If you believe this was a mistake or this tool is missing a feature you need, please open an issue at "
        "https://github.com/openapi-generators/openapi-python-client/issues/new/choose",
    ], output


def test_events_are_typed_under_a_discriminator(generated: tuple[Path, str]) -> None:
    models = generated[0] / "edgeloop_gen" / "models"
    for name in ("signal_event", "trade_event", "price_event", "direction", "decision", "known_gate", "problem"):
        assert (models / f"{name}.py").exists(), name
    batch = (models / "event_batch.py").read_text()
    assert "events: list[PriceEvent | SignalEvent | TradeEvent]" in batch
    signal = (models / "signal_event.py").read_text()
    assert "direction: Direction" in signal and "decision: Decision" in signal
    assert "ts: datetime.datetime | int" in signal and "blocked_by: KnownGate | None | str | Unset" in signal
    # Operations are named by their operationId, not derived from the path.
    api = {p.stem for p in (generated[0] / "edgeloop_gen" / "api").rglob("*.py")}
    assert {"post_events", "get_params", "get_health", "create_bot", "patch_config"} <= api


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_generated_client_drives_the_server(generated: tuple[Path, str], server: str) -> None:
    python = ensure_generator().parent / "python"
    proc = await asyncio.create_subprocess_exec(
        str(python), str(HERE / "use_client.py"), str(generated[0]), server, ADMIN_TOKEN,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, output.decode()
    assert b"generated client: ok" in output
