"""examples/replay_bot.py runs against a real server: prices, signals and trades arrive, its version shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.client.conftest import Server

REPLAY_BOT = Path(__file__).parents[2] / "examples" / "replay_bot.py"


def test_replay_bot_feeds_the_service_and_reports_its_version(shared_server: Server, tmp_path: Path) -> None:
    from backtesting.test import EURUSD

    bars = tmp_path / "eurusd.csv"
    EURUSD[["Close"]].head(300).rename_axis("time").to_csv(bars)  # the CSV path; real bars
    key = shared_server.create_bot("replay")
    options = ["--csv", str(bars), "--state-dir", str(tmp_path), "--flush-timeout", "20"]
    done = subprocess.run(
        [sys.executable, str(REPLAY_BOT), "--url", shared_server.url, "--bot", "replay", "--key", key, *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = dict(item.split("=") for item in done.stdout.split())
    status = shared_server.get("/v1/status").json()
    counts = next(b["events"] for b in status["bots"] if b["id"] == "replay")
    assert counts["prices"] == 300 and counts["signals"] == int(summary["signals"]) > 0
    assert counts["trades"] == int(summary["trades"]) > 0
    history = shared_server.get("/v1/bots/replay/activations").json()["items"]
    assert [h["version"] for h in history] == [1] and summary["version"] == "1"
