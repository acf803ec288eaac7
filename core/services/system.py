"""Liveness, readiness and the service-wide status summary."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy import text

from core.services.context import ServiceContext

READY_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Readiness:
    ok: bool
    checks: dict[str, str]  # dependency -> "ok" or what failed

    @property
    def failing(self) -> list[str]:
        return [name for name, state in self.checks.items() if state != "ok"]


async def _check_db(ctx: ServiceContext) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), ctx.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means "not ready"; the message names it
        return f"unreachable: {type(exc).__name__}"


async def _check_redis(url: str) -> str:
    client = Redis.from_url(url, socket_connect_timeout=READY_TIMEOUT_S, socket_timeout=READY_TIMEOUT_S)
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await client.ping()
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    finally:
        await client.aclose()


async def check_readiness(ctx: ServiceContext) -> Readiness:
    """The database answers (and Redis, when configured)."""
    checks = {"database": await _check_db(ctx)}
    if ctx.settings.redis_url:
        checks["redis"] = await _check_redis(ctx.settings.redis_url)
    return Readiness(ok=all(v == "ok" for v in checks.values()), checks=checks)
