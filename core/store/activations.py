"""Activation rows (which param version each key of a bot reported running, and when)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.models import Activation, ParamVersion


async def record(session: AsyncSession, bot_id: str, key_id: str, version: int, now_ms: int) -> Activation:
    """Extend the key's latest stretch when it is the same version, else start a new one."""
    stmt = (
        select(Activation)
        .where(Activation.bot_id == bot_id, Activation.key_id == key_id)
        .order_by(Activation.id.desc())
        .limit(1)
    )
    latest = (await session.execute(stmt)).scalar_one_or_none()
    if latest is not None and latest.version == version:
        latest.last_seen = max(latest.last_seen, now_ms)
        await session.flush()
        return latest
    row = Activation(bot_id=bot_id, key_id=key_id, version=version, first_seen=now_ms, last_seen=now_ms)
    session.add(row)
    await session.flush()
    return row


async def page(session: AsyncSession, bot_id: str, *, before: int | None, limit: int) -> list[Activation]:
    """Newest stretch first (by when it started)."""
    stmt = select(Activation).where(Activation.bot_id == bot_id).order_by(Activation.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(Activation.id < before)
    return list((await session.execute(stmt)).scalars())


async def most_recent(session: AsyncSession, bot_id: str) -> Activation | None:
    """The stretch reported last by any key of the bot: what the bot runs now, as far as it told us."""
    stmt = (
        select(Activation)
        .where(Activation.bot_id == bot_id)
        .order_by(Activation.last_seen.desc(), Activation.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def version_created_at(session: AsyncSession, bot_id: str, version: int) -> int | None:
    stmt = select(ParamVersion.created_at).where(ParamVersion.bot_id == bot_id, ParamVersion.version == version)
    return (await session.execute(stmt)).scalar_one_or_none()
