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


def _table_rows(first_cell: str) -> list[list[str]]:
    """The README's table rows whose first cell starts with ``first_cell``, as stripped cells."""
    rows = []
    for line in README.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_cell):
            rows.append(cells)
    return rows


def test_documented_defaults_are_the_settings_defaults() -> None:
    rows = _table_rows("`EDGELOOP_")
    assert len(rows) == len(Settings.model_fields)
    wrong = []
    for name, default, *_ in rows:
        field = Settings.model_fields[name.strip("`").removeprefix("EDGELOOP_").lower()]
        documented = default.strip("`")
        actual = field.default
        if actual is None:
            ok = documented == "unset"
        elif isinstance(actual, bool):
            ok = documented == str(actual).lower()
        elif isinstance(actual, (int, float)):
            ok = type(actual)(documented) == actual
        else:
            ok = documented == actual
        if not ok:
            wrong.append((name, documented, actual))
    assert wrong == []


def test_documented_command_options_exist() -> None:
    runner = CliRunner()
    rows = _table_rows("`edgeloop ")
    assert rows
    for cells in rows:
        usage = cells[0].strip("`").split()[1:]
        command = [word for word in usage if word.isalpha() and word.islower()][:2]
        command = command if command[0] in ("bots", "keys", "archive") else command[:1]
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        for option in (word.strip("[]") for word in usage if word.strip("[]").startswith("--")):
            assert option in result.output, (command, option)


def test_help_texts_keep_their_brackets() -> None:
    # Rich markup read `[a-z0-9]` and `[from, to]` as style tags and dropped them from --help.
    runner = CliRunner()
    assert "[a-z0-9][a-z0-9_-]{0,62}" in runner.invoke(app, ["bots", "create", "--help"]).output
    assert "[from, to]" in runner.invoke(app, ["archive", "restore", "--help"]).output


def test_documented_make_targets_exist() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    targets = {line.split(":", 1)[0] for line in makefile.splitlines() if line and line[0].isalpha() and ":" in line}
    section = README.split("`make` targets:", 1)[1].split("\n\n", 1)[0]
    words = (word.strip("(),.;") for word in section.split())
    documented = {word.strip("`") for word in words if len(word) > 2 and word[0] == word[-1] == "`"}
    documented = {word for word in documented if word.isalpha() and word.islower()}
    assert documented and documented <= targets, documented - targets
