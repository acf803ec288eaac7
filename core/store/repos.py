"""Repositories: SQL lives here. They flush, never commit; the service owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.schemas.resources import AuditRead, BotRead, VersionInfo
from core.schemas.timefmt import ms_to_rfc3339
from core.store.models import ApiKey, AuditEntry, Bot, Cycle, ParamVersion, PriceMark, Signal, Trade, WorkerHeartbeat


def bot_read(row: Bot) -> BotRead:
    return BotRead(
        id=row.id,
        name=row.name,
        config=row.config,
        created_at=ms_to_rfc3339(row.created_at),
        current_version=row.current_version,
        watermark=ms_to_rfc3339(row.watermark_ms) if row.watermark_ms is not None else None,
    )


async def get_bot(session: AsyncSession, bot_id: str, *, for_update: bool = False) -> Bot | None:
    stmt = select(Bot).where(Bot.id == bot_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_bots(session: AsyncSession, *, after: str | None, limit: int, only: str | None = None) -> list[Bot]:
    stmt = select(Bot).order_by(Bot.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Bot.id > after)
    if only is not None:
        stmt = stmt.where(Bot.id == only)
    return list((await session.execute(stmt)).scalars())


async def all_bot_ids(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(Bot.id).order_by(Bot.id))).scalars())


async def current_version(session: AsyncSession, bot_id: str) -> int | None:
    return (await session.execute(select(Bot.current_version).where(Bot.id == bot_id))).scalar_one_or_none()


async def add_key(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def revoke_key(session: AsyncSession, bot_id: str, key_id: str, now_ms: int) -> bool:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.bot_id == bot_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now_ms)
    )
    return bool(getattr(result, "rowcount", 0))


def _insert(session: AsyncSession, table: Table) -> Any:
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> int:
    """Bulk insert (multi-row VALUES pages, ON CONFLICT DO NOTHING); returns how many rows were new."""
    if not rows:
        return 0
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)
    conn = await session.connection()
    result = await conn.execute(stmt, list(rows))
    return len(result.all())


SIGNALS: Table = Signal.__table__  # type: ignore[assignment]
TRADES: Table = Trade.__table__  # type: ignore[assignment]
PRICES: Table = PriceMark.__table__  # type: ignore[assignment]


async def advance_watermark(session: AsyncSession, bot_id: str, ts_ms: int) -> None:
    await session.execute(
        update(Bot)
        .where(Bot.id == bot_id, (Bot.watermark_ms.is_(None)) | (Bot.watermark_ms < ts_ms))
        .values(watermark_ms=ts_ms)
    )


async def event_counts(session: AsyncSession, bot_id: str) -> dict[str, int]:
    out = {}
    for name, model in (("signals", Signal), ("trades", Trade), ("prices", PriceMark)):
        stmt = select(func.count()).select_from(model).where(model.bot_id == bot_id)
        out[name] = int((await session.execute(stmt)).scalar_one())
    return out


async def add_version(
    session: AsyncSession, *, bot_id: str, version: int, created_at: int, source: str, cycle_id: str | None,
    document: dict[str, Any],
) -> None:
    session.add(
        ParamVersion(
            bot_id=bot_id, version=version, created_at=created_at, source=source, cycle_id=cycle_id, document=document
        )
    )
    await session.flush()


async def get_version_document(session: AsyncSession, bot_id: str, version: int) -> dict[str, Any] | None:
    stmt = select(ParamVersion.document).where(ParamVersion.bot_id == bot_id, ParamVersion.version == version)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_versions(session: AsyncSession, bot_id: str, *, before: int | None, limit: int) -> list[VersionInfo]:
    stmt = (
        select(ParamVersion.version, ParamVersion.created_at, ParamVersion.source, ParamVersion.cycle_id)
        .where(ParamVersion.bot_id == bot_id)
        .order_by(ParamVersion.version.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(ParamVersion.version < before)
    return [
        VersionInfo(version=v, created_at=ms_to_rfc3339(c), source=s, cycle_id=cid)
        for v, c, s, cid in (await session.execute(stmt)).all()
    ]


async def add_audit(
    session: AsyncSession, *, bot_id: str | None, at: int, actor: str, action: str, detail: dict[str, Any]
) -> None:
    session.add(AuditEntry(bot_id=bot_id, at=at, actor=actor, action=action, detail=detail))
    await session.flush()


async def list_audit(session: AsyncSession, bot_id: str, *, before: int | None, limit: int) -> list[AuditRead]:
    stmt = select(AuditEntry).where(AuditEntry.bot_id == bot_id).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    return [
        AuditRead(id=r.id, bot_id=r.bot_id, at=ms_to_rfc3339(r.at), actor=r.actor, action=r.action, detail=r.detail)
        for r in (await session.execute(stmt)).scalars()
    ]


async def last_cycles(session: AsyncSession, bot_id: str) -> dict[str, Cycle]:
    """The most recently queued cycle of each kind."""
    out: dict[str, Cycle] = {}
    for kind in ("continuous", "comprehensive"):
        stmt = select(Cycle).where(Cycle.bot_id == bot_id, Cycle.kind == kind).order_by(Cycle.seq.desc()).limit(1)
        row = (await session.execute(stmt)).scalar_one_or_none()
        if row is not None:
            out[kind] = row
    return out


async def last_heartbeat(session: AsyncSession) -> int | None:
    return (await session.execute(select(func.max(WorkerHeartbeat.last_seen)))).scalar_one_or_none()
