"""docker-compose.yml, read with a YAML parser as compose reads it: every long-running service restarts
unless stopped, each healthcheck probes its own service's port, the required env is demanded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EDGELOOP_ROLES = {"api": "api", "grpc": "grpc", "worker": "worker"}


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_the_stack_has_every_role_and_the_one_shot_migration() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "grpc", "worker"}
    for name, role in EDGELOOP_ROLES.items():
        assert services[name]["command"] == [role] and services[name]["image"] == "edgeloop:latest"
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_long_running_services_restart_unless_stopped_and_the_migration_only_on_failure() -> None:
    services = compose()["services"]
    for name in ("postgres", "redis", "api", "grpc", "worker"):
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "on-failure"  # "always" would re-run it forever


def test_each_healthcheck_probes_its_own_service() -> None:
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # The image's checker, told the role: api -> GET /healthz on EDGELOOP_PORT, grpc -> grpc.health.v1
    # on EDGELOOP_GRPC_PORT (docker/healthcheck.py); ports published match the ports checked.
    api, grpc = services["api"], services["grpc"]
    assert api["healthcheck"]["test"] == ["CMD", "edgeloop-healthcheck", "api"]
    assert grpc["healthcheck"]["test"] == ["CMD", "edgeloop-healthcheck", "grpc"]
    assert api["ports"] == [f"{api['environment']['EDGELOOP_PORT']}:8000"]
    assert grpc["ports"] == [f"{grpc['environment']['EDGELOOP_GRPC_PORT']}:50051"]
    for name in ("api", "grpc"):
        check = services[name]["healthcheck"]
        assert {"interval", "timeout", "retries", "start_period"} <= set(check) and not check.get("disable")
    # A worker serves no port: it must not inherit the api's check (its liveness is its heartbeat).
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_required_env_is_demanded_and_every_role_shares_it() -> None:
    services = compose()["services"]
    for name in EDGELOOP_ROLES:
        env = services[name]["environment"]
        assert env["EDGELOOP_ADMIN_TOKEN"].startswith("${EDGELOOP_ADMIN_TOKEN:?"), name  # compose refuses without it
        assert (
            env["EDGELOOP_DATABASE_URL"].startswith("postgresql+asyncpg://")
            and "@postgres:5432/" in env["EDGELOOP_DATABASE_URL"]
        )
        assert env["EDGELOOP_REDIS_URL"] == "redis://redis:6379/0"  # jobs go to arq, the worker runs them
    assert (
        services["migrate"]["environment"]["EDGELOOP_DATABASE_URL"]
        == services["api"]["environment"]["EDGELOOP_DATABASE_URL"]
    )


def test_the_image_serves_a_migrated_sqlite_volume_by_default() -> None:
    # What `docker run -p 8000:8000 IMAGE` relies on (tests/test_docker.py builds and runs it).
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'VOLUME ["/data"]' in dockerfile
    assert "EDGELOOP_DATABASE_URL=sqlite+aiosqlite:////data/edgeloop.db" in dockerfile
    assert "EDGELOOP_HOST=0.0.0.0" in dockerfile
    assert 'ENTRYPOINT ["edgeloop-entrypoint"]' in dockerfile and "CMD []" in dockerfile
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "edgeloop migrate" in entrypoint and "exec edgeloop serve" in entrypoint
    assert 'HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["edgeloop-healthcheck"]' in (
        dockerfile
    )
