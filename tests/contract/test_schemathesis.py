"""The spec is the behaviour: schemathesis, every check, against a real uvicorn on SQLite.

Bounded (a few examples per operation and phase, ~1 min in all), with a real admin key and a real bot
key, and the path parameters pinned to a bot, a cycle and a key that exist, so requests reach the
handlers rather than stopping at 404. ``status_code_conformance`` and ``content_type_conformance``
fail the run on any response the document does not declare, under the media type it declares.

``positive_data_acceptance`` also accepts 422: some rules cannot be said in JSON Schema (a signal's
``blocked_by`` iff blocked, strictly increasing ``conviction_buckets``, an opaque ``cursor``, a
``version`` that exists, times no later than the server clock), so schema-valid data may still be
refused, with the 422 problem the document declares.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.rest.app import create_app
from core.services import bots
from core.services.context import ServiceContext
from core.settings import Settings
from tests.builders import mixed_batch
from tests.live_server import serve

ROOT = Path(__file__).resolve().parents[2]
BOT = "alpha"
CHECKS = "all"
CONFIG = """
[parameters]
"path.bot" = "{bot}"
"path.cycle_id" = "{cycle_id}"
"path.key_id" = "{key_id}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
"""


@pytest.fixture
async def live(settings: Settings, ctx: ServiceContext, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The server, with a bot that has events, a finished cycle and a spare key; the keys and ids to use."""
    admin_key = (await bots.create_admin_key(ctx)).api_key
    # A generated If-None-Match may name the current version: cap the long-poll so such a case takes 1 s, not 60.
    settings = settings.model_copy(update={"max_wait_s": 1})
    async with serve(create_app(settings)) as url:
        admin = {"Authorization": f"Bearer {admin_key}"}
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            created = await http.post("/v1/bots", json={"id": BOT}, headers=admin)
            assert created.status_code == 201, created.text
            bot = {"Authorization": f"Bearer {created.json()['api_key']}"}
            spare = await http.post(f"/v1/bots/{BOT}/keys", headers=admin)
            posted = await http.post(f"/v1/bots/{BOT}/events", json={"events": mixed_batch(60)}, headers=bot)
            assert posted.status_code == 200, posted.text
            cycle = await http.post(f"/v1/bots/{BOT}/cycles", json={"kind": "comprehensive"}, headers=admin)
            cycle_id = cycle.json()["cycle_id"]
            for _ in range(200):
                if (await http.get(f"/v1/bots/{BOT}/cycles/{cycle_id}", headers=bot)).json()["status"] in (
                    "succeeded",
                    "failed",
                ):
                    break
                await asyncio.sleep(0.05)
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG.format(bot=BOT, cycle_id=cycle_id, key_id=spare.json()["key_id"]))
        yield {"url": url, "admin": admin_key, "bot": created.json()["api_key"], "config": str(config)}


async def _schemathesis(live: dict[str, str], key: str, examples: int, tmp_path: Path) -> tuple[int, str]:
    command = [
        str(ROOT / ".venv" / "bin" / "schemathesis"),
        "--config-file", live["config"],
        "run", f"{live['url']}/openapi.json",
        "--checks", CHECKS,
        "--max-examples", str(examples),
        "--header", f"Authorization: Bearer {key}",
        "--seed", "20261204",
        "--workers", "1",
        "--phases", "examples,coverage,fuzzing",
        "--request-timeout", "20",
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(ROOT / "tests" / "contract" / "hooks.py")}
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=300)
    return proc.returncode or 0, output.decode(errors="replace")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_response_is_declared_and_conforms(live: dict[str, str], tmp_path: Path) -> None:
    for key, examples in ((live["admin"], 25), (live["bot"], 10)):
        code, output = await _schemathesis(live, key, examples, tmp_path)
        assert code == 0, output[-12000:]
        # Every operation of the document was exercised, none skipped.
        selected = re.search(r"Selected: (\d+)/(\d+)", output)
        tested = re.search(r"Tested: (\d+)", output)
        assert selected and tested, output[-3000:]
        assert selected[1] == selected[2] == tested[1], output[-3000:]
