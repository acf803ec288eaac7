"""Repositories: SQL lives here. They flush, never commit; the service owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Table, case, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.schemas.enums import AuditAction
from core.schemas.resources import AuditRead, BotRead, VersionInfo
from core.schemas.timefmt import ms_to_rfc3339
from core.store import outcome_store
from core.store.models import (
    ApiKey,
    AuditEntry,
    Bot,
    ComponentName,
    Cycle,
    ParamVersion,
    PriceMark,
    Signal,
    SignalOutcome,
    Trade,
    WorkerHeartbeat,
)
from core.store.outcome_store import OutcomeBatch


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


async def revoke_key(session: AsyncSession, bot_id: str | None, key_id: str, now_ms: int) -> bool:
    """Revoke a live key: ``bot_id`` None means an admin key. False when no such live key exists."""
    owner = ApiKey.bot_id == bot_id if bot_id is not None else ApiKey.scope == "admin"
    result = await session.execute(
        update(ApiKey).where(ApiKey.id == key_id, owner, ApiKey.revoked_at.is_(None)).values(revoked_at=now_ms)
    )
    return bool(getattr(result, "rowcount", 0))


async def list_keys(session: AsyncSession, *, scope: str | None, after: str | None, limit: int) -> list[ApiKey]:
    """Keys by id (admin keys with ``scope="admin"``); revoked ones included."""
    query = select(ApiKey).order_by(ApiKey.id).limit(limit)
    if scope is not None:
        query = query.where(ApiKey.scope == scope)
    if after is not None:
        query = query.where(ApiKey.id > after)
    return list((await session.execute(query)).scalars())


def _insert(session: AsyncSession, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def _insert_pg(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], unique: Sequence[str]) -> int:
    # The whole batch as one JSON parameter that PostgreSQL unpacks into the table's own row type
    # (INSERT ... SELECT FROM json_populate_recordset). orjson encodes it in C; binding one array per
    # column cost asyncpg more CPU per value than the rest of ingest. The text forms round-trip
    # exactly: floats as their shortest repr, a `json` column keeps the nested object's text.
    # Rows go in key order (sorted by PostgreSQL, in C): two batches holding the same keys in opposite
    # orders would each wait for a key the other inserted (a deadlock); in one order the second waits.
    # SQLite has one writer at a time, so the order does not matter there.
    names = ", ".join(table.c[name].name for name in rows[0])
    stmt = text(
        f"INSERT INTO {table.name} ({names}) "
        f"SELECT {names} FROM json_populate_recordset(NULL::{table.name}, CAST(:rows AS json)) "
        f"ORDER BY {', '.join(unique)} ON CONFLICT ({', '.join(unique)}) DO NOTHING"
    )
    result = await session.execute(stmt, {"rows": orjson.dumps(rows).decode()})
    return int(getattr(result, "rowcount", 0))


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> int:
    """Bulk insert with ON CONFLICT DO NOTHING; returns how many rows were new.

    PostgreSQL: one ``INSERT ... SELECT FROM json_populate_recordset(rows)``. SQLite: multi-row VALUES pages.
    Every row must carry the same keys.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return await _insert_pg(session, table, rows, unique)
    stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c[unique[-1]])
    conn = await session.connection()
    result = await conn.execute(stmt, list(rows))
    return len(result.all())


async def component_ids(session: AsyncSession, bot_id: str, names: set[str]) -> dict[str, int]:
    """The bot's id of every name in ``names``, numbering the new ones (``component_names``).

    Concurrent batches may bring the same new name: ``ON CONFLICT DO NOTHING`` waits for the other
    transaction and skips, and the second read (a fresh snapshot) then sees its row.
    """
    table: Table = ComponentName.__table__  # type: ignore[assignment]

    async def read(chosen: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for lo in range(0, len(chosen), _NAMES_PER_STATEMENT):
            part = chosen[lo : lo + _NAMES_PER_STATEMENT]
            stmt = select(table.c.name, table.c.id).where(table.c.bot_id == bot_id, table.c.name.in_(part))
            out.update((await session.execute(stmt)).all())
        return out

    known = await read(sorted(names))
    missing = sorted(names - known.keys())
    for lo in range(0, len(missing), _NAMES_PER_STATEMENT):
        rows = [{"bot_id": bot_id, "name": name} for name in missing[lo : lo + _NAMES_PER_STATEMENT]]
        await session.execute(
            _insert(session, table).values(rows).on_conflict_do_nothing(index_elements=["bot_id", "name"])
        )
    if missing:
        known.update(await read(missing))
    return known


_NAMES_PER_STATEMENT = 500  # bound parameters per statement stay far below SQLite's limit


async def insert_signals(session: AsyncSession, bot_id: str, rows: list[dict[str, Any]]) -> int:
    """Bulk insert signal rows (ignoring duplicates, as ``insert_ignoring_duplicates``), each row's
    ``components`` object stored as ``component_ids`` + ``component_values``. Rows are changed in place."""
    if not rows:
        return 0
    ids = await component_ids(session, bot_id, set().union(*(row["components"] for row in rows)))
    for row in rows:
        components = row.pop("components")
        row["component_ids"] = list(map(ids.__getitem__, components))
        row["component_values"] = list(components.values())
    return await insert_ignoring_duplicates(session, SIGNALS, rows, ("bot_id", "event_id"))


SIGNALS: Table = Signal.__table__  # type: ignore[assignment]
TRADES: Table = Trade.__table__  # type: ignore[assignment]
PRICES: Table = PriceMark.__table__  # type: ignore[assignment]


async def record_ingest(session: AsyncSession, bot_id: str, accepted: dict[str, int], ts_ms: int) -> None:
    """After a batch: advance the bot's watermark to ``ts_ms`` (never back) and count what was stored
    (``accepted``: new rows per event type, ``signal``/``trade``/``price``)."""
    await session.execute(
        update(Bot)
        .where(Bot.id == bot_id)
        .values(
            watermark_ms=case((Bot.watermark_ms.is_(None) | (Bot.watermark_ms < ts_ms), ts_ms), else_=Bot.watermark_ms),
            signal_count=Bot.signal_count + accepted.get("signal", 0),
            trade_count=Bot.trade_count + accepted.get("trade", 0),
            price_count=Bot.price_count + accepted.get("price", 0),
        )
    )


async def event_counts(session: AsyncSession, bot_id: str) -> dict[str, int]:
    """Stored signals, trades and price marks of the bot (kept at ingest: no scan)."""
    stmt = select(Bot.signal_count, Bot.trade_count, Bot.price_count).where(Bot.id == bot_id)
    row = (await session.execute(stmt)).one_or_none()
    return dict(zip(("signals", "trades", "prices"), row or (0, 0, 0), strict=True))


async def add_version(
    session: AsyncSession,
    *,
    bot_id: str,
    version: int,
    created_at: int,
    source: str,
    cycle_id: str | None,
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
    session: AsyncSession, *, bot_id: str | None, at: int, actor: str, action: AuditAction, detail: dict[str, Any]
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


async def latest_insight(session: AsyncSession, bot_id: str, kind: str | None = None) -> Cycle | None:
    """The most recently finished succeeded cycle (of ``kind``, when given) that recorded an insight."""
    stmt = select(Cycle).where(Cycle.bot_id == bot_id, Cycle.status == "succeeded", Cycle.insight.is_not(None))
    if kind is not None:
        stmt = stmt.where(Cycle.kind == kind)
    stmt = stmt.order_by(Cycle.finished_at.desc(), Cycle.seq.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_heartbeat(session: AsyncSession) -> int | None:
    return (await session.execute(select(func.max(WorkerHeartbeat.last_seen)))).scalar_one_or_none()


async def heartbeats(session: AsyncSession, limit: int = 50) -> list[WorkerHeartbeat]:
    query = select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


# --- cycles, outcomes, heartbeats (learning loop) ---------------------------------------------

OUTCOMES: Table = SignalOutcome.__table__  # type: ignore[assignment]
ACTIVE_CYCLE = ("queued", "running")


async def lock_bot(session: AsyncSession, bot_id: str) -> bool:
    """Take the bot row's write lock as the transaction's first write (False: no such bot).

    A no-op UPDATE rather than SELECT ... FOR UPDATE, so SQLite takes its write lock here (waiting on the
    busy timeout) instead of failing later when a read transaction tries to upgrade.
    """
    result = await session.execute(update(Bot).where(Bot.id == bot_id).values(current_version=Bot.current_version))
    return bool(getattr(result, "rowcount", 0))


async def next_cycle_seq(session: AsyncSession, bot_id: str) -> int:
    stmt = select(func.coalesce(func.max(Cycle.seq), 0)).where(Cycle.bot_id == bot_id)
    return int((await session.execute(stmt)).scalar_one()) + 1


async def get_cycle(session: AsyncSession, bot_id: str, cycle_id: str) -> Cycle | None:
    stmt = select(Cycle).where(Cycle.id == cycle_id, Cycle.bot_id == bot_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_cycles(session: AsyncSession, bot_id: str, *, before: int | None, limit: int) -> list[Cycle]:
    """Newest first (by queue order)."""
    stmt = select(Cycle).where(Cycle.bot_id == bot_id).order_by(Cycle.seq.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(Cycle.seq < before)
    return list((await session.execute(stmt)).scalars())


async def active_cycles(session: AsyncSession, bot_id: str) -> list[Cycle]:
    """Queued and running cycles of one bot, in queue order."""
    stmt = select(Cycle).where(Cycle.bot_id == bot_id, Cycle.status.in_(ACTIVE_CYCLE)).order_by(Cycle.seq)
    return list((await session.execute(stmt)).scalars())


async def renew_cycle_lease(session: AsyncSession, cycle_id: str, attempt: int, lease_until: int) -> bool:
    """Extend a running cycle's lease; False when the cycle is no longer this attempt's."""
    result = await session.execute(
        update(Cycle)
        .where(Cycle.id == cycle_id, Cycle.status == "running", Cycle.attempts == attempt)
        .values(lease_until=lease_until)
    )
    return bool(getattr(result, "rowcount", 0))


async def expired_cycles(session: AsyncSession, now_ms: int) -> list[Cycle]:
    """Running cycles whose worker stopped renewing the lease."""
    stmt = select(Cycle).where(Cycle.status == "running", Cycle.lease_until < now_ms).order_by(Cycle.seq)
    return list((await session.execute(stmt)).scalars())


async def stalled_queues(session: AsyncSession, queued_before: int) -> list[tuple[str, str]]:
    """(bot_id, oldest queued cycle id) of bots with a cycle queued before ``queued_before`` and none running."""
    running = select(Cycle.bot_id).where(Cycle.status == "running")
    stmt = (
        select(Cycle.bot_id, Cycle.id, Cycle.seq)
        .where(Cycle.status == "queued", Cycle.queued_at < queued_before, Cycle.bot_id.not_in(running))
        .order_by(Cycle.bot_id, Cycle.seq)
    )
    out: dict[str, str] = {}
    for bot_id, cycle_id, _ in (await session.execute(stmt)).all():
        out.setdefault(bot_id, cycle_id)
    return list(out.items())


async def last_cycle_bases(session: AsyncSession, bot_id: str) -> dict[str, int]:
    """Per kind, when the latest real (not dry-run) cycle was queued: what the schedule counts from."""
    stmt = (
        select(Cycle.kind, func.max(Cycle.queued_at))
        .where(Cycle.bot_id == bot_id, Cycle.dry_run.is_(False))
        .group_by(Cycle.kind)
    )
    return {kind: int(at) for kind, at in (await session.execute(stmt)).all() if at is not None}


async def last_succeeded_at(session: AsyncSession, bot_id: str) -> dict[str, int]:
    """Per kind, when the latest successful real cycle finished (input of `cycle_overdue`)."""
    stmt = (
        select(Cycle.kind, func.max(Cycle.finished_at))
        .where(Cycle.bot_id == bot_id, Cycle.dry_run.is_(False), Cycle.status == "succeeded")
        .group_by(Cycle.kind)
    )
    return {kind: int(at) for kind, at in (await session.execute(stmt)).all() if at is not None}


async def insert_outcomes(session: AsyncSession, batch: OutcomeBatch) -> int:
    """Bulk insert outcomes, skipping (bot, signal, horizon) pairs already stored, and count the new ones
    on the bot row; returns how many were new. Columnar (no object per outcome); see
    ``core.store.outcome_store``."""
    new = await outcome_store.insert_outcomes(session, batch)
    if new.get("resolved") or new.get("gap"):
        await session.execute(
            update(Bot)
            .where(Bot.id == batch.bot_id)
            .values(
                resolved_count=Bot.resolved_count + new.get("resolved", 0), gap_count=Bot.gap_count + new.get("gap", 0)
            )
        )
    return sum(new.values())


async def upsert_heartbeat(session: AsyncSession, worker_id: str, queue: str, now_ms: int) -> None:
    table: Table = WorkerHeartbeat.__table__  # type: ignore[assignment]
    stmt = _insert(session, table).values(worker_id=worker_id, queue=queue, last_seen=now_ms)
    stmt = stmt.on_conflict_do_update(index_elements=["worker_id"], set_={"last_seen": now_ms, "queue": queue})
    await session.execute(stmt)


# Bulk reads for the learning engine are columnar: core/store/bulk.py.

OUTCOME_READ = ("signal_event_id", "horizon_s", "status", "ret", "mark_ts", "reason")


async def outcome_rows(session: AsyncSession, bot_id: str, since_ms: int, until_ms: int) -> list[tuple[Any, ...]]:
    """Stored outcomes of the signals with since <= ts <= until, columns as ``OUTCOME_READ`` (the signal
    named by its event id), in (signal ts, signal event_id, horizon_s) order: for reading, not for cycles."""
    stmt = (
        select(SIGNALS.c.event_id, *(OUTCOMES.c[name] for name in OUTCOME_READ[1:]))
        .join(SIGNALS, SIGNALS.c.id == OUTCOMES.c.signal_id)
        .where(OUTCOMES.c.bot_id == bot_id, OUTCOMES.c.signal_ts.between(since_ms, until_ms))
        .order_by(SIGNALS.c.ts, SIGNALS.c.event_id, OUTCOMES.c.horizon_s)
    )
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def outcome_status_counts(session: AsyncSession, bot_id: str) -> dict[str, int]:
    """Stored outcomes of the bot by status (``resolved``, ``gap``), kept by the outcome writer: no scan."""
    row = (await session.execute(select(Bot.resolved_count, Bot.gap_count).where(Bot.id == bot_id))).one_or_none()
    return dict(zip(("resolved", "gap"), row or (0, 0), strict=True))


async def queued_cycle_count(session: AsyncSession) -> int:
    """Cycles waiting to run, over every bot."""
    query = select(func.count()).select_from(Cycle).where(Cycle.status == "queued")
    return int((await session.execute(query)).scalar_one())
