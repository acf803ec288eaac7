"""The CLI as an operator meets it: one-line start-up errors with hints, `status --url`, `keys list|revoke`,
and no database file created as a side effect. Real subprocesses."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from api import cli
from tests.ops.servers import env_for, free_port, process, run_cli


def _one_line(result_stderr: str) -> str:
    lines = [line for line in result_stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result_stderr
    return lines[0]


def test_a_missing_postgresql_database_is_one_line_with_a_hint(pg_template: object) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/ops_no_such_db"
    result = run_cli("api", env=env_for(database_url=url, port="0"))
    assert result.returncode == 1
    assert _one_line(result.stderr) == (
        'edgeloop: database "ops_no_such_db" does not exist: create it (createdb ops_no_such_db) '
        "or set EDGELOOP_DATABASE_URL"
    )


def test_a_traceback_only_at_debug(pg_template: object) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/ops_no_such_db"
    result = run_cli("api", env=env_for(database_url=url, port="0", log_level="debug"))
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert result.stderr.strip().endswith("or set EDGELOOP_DATABASE_URL")


def test_no_command_creates_a_database_file(tmp_path: Path) -> None:
    env = env_for()  # the default URL: ./edgeloop.db
    for args in (("status",), ("api", "--port", "0")):
        result = run_cli(*args, env=env, cwd=tmp_path)
        assert result.returncode == 1
        assert "database file edgeloop.db does not exist: run `edgeloop migrate`" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unmigrated_database_and_a_busy_port_are_one_line(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    db.touch()
    env = env_for(database_url=f"sqlite+aiosqlite:///{db}")
    result = run_cli("api", "--port", "0", env=env)
    assert result.returncode == 1
    assert "run `edgeloop migrate`" in _one_line(result.stderr)
    assert run_cli("migrate", env=env).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        for args, variable in (
            (("api", "--port", port), "EDGELOOP_PORT"),
            (("grpc", "--port", port), "EDGELOOP_GRPC_PORT"),
        ):
            result = run_cli(*args, env=env)
            assert result.returncode == 1
            line = _one_line(result.stderr)
            assert f"cannot listen on 127.0.0.1:{port}" in line and variable in line


def _invoke(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> Result:
    """The CLI in this process (a subprocess costs seconds of imports on a busy machine)."""
    monkeypatch.setattr(cli, "configure_logging", lambda *a: None)  # leave the test run's logging alone
    return CliRunner().invoke(cli.app, list(args), env=env_for(**env))


def test_status_reads_a_running_server_and_keys_are_listed_and_revoked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"
    assert _invoke(monkeypatch, "migrate", database_url=db).exit_code == 0
    admin = _invoke(monkeypatch, "keys", "create", "--admin", database_url=db)
    secret = admin.stdout.strip()
    key_id = admin.stderr.split("key id ")[1].split(")")[0]
    assert _invoke(monkeypatch, "bots", "create", "alpha", database_url=db).exit_code == 0
    port = free_port()
    with process("api", env=env_for(database_url=db, port=str(port)), ready_url=f"http://127.0.0.1:{port}/healthz"):
        url = f"http://127.0.0.1:{port}"
        remote = run_cli("status", "--url", url, env=env_for(admin_token=secret))
        assert remote.returncode == 0, remote.stderr
        assert "queue=embedded" in remote.stdout and "uptime=" in remote.stdout
        assert "- alpha: health" in remote.stdout and "no_events" in remote.stdout  # level and problems
        assert "workers: 1" in remote.stdout  # the server's embedded runner reported

        listed = _invoke(monkeypatch, "keys", "list", database_url=db)
        assert key_id in listed.stdout and "bot alpha" in listed.stdout
        assert _invoke(monkeypatch, "keys", "revoke", key_id, database_url=db).exit_code == 0
        time.sleep(1.0)  # SQLite has no notification channel: the server's key TTL (1 s)
        response = httpx.get(f"{url}/v1/status", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401
        refused = _invoke(monkeypatch, "status", "--url", url, admin_token=secret)
        assert refused.exit_code == 1 and "answered 401" in refused.stderr
    assert "revoked" in _invoke(monkeypatch, "keys", "list", "--admin", database_url=db).stdout
    direct = _invoke(monkeypatch, "status", database_url=db)
    assert direct.exit_code == 0 and "reading the database directly" in direct.stderr
    assert "(as configured for this shell)" in direct.stdout
