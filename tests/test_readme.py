"""The README's configuration table lists every setting, and the CLI commands it documents exist."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from core.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        f"EDGELOOP_{name.upper()}" for name in Settings.model_fields if f"`EDGELOOP_{name.upper()}`" not in README
    ]
    assert missing == []


def test_documented_commands_exist() -> None:
    runner = CliRunner()
    for command in (
        ["serve"],
        ["api"],
        ["grpc"],
        ["worker"],
        ["migrate"],
        ["bots", "create"],
        ["keys", "create"],
        ["status"],
        ["archive", "list"],
        ["archive", "restore"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
