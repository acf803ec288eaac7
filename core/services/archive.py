"""Archives of expired events (``EDGELOOP_ARCHIVE_DIR``): list them, and restore a range into a bot.

The retention job writes them (``core/services/retention.py``, files and manifest in
``core/store/archive.py``). A restore reads the signals, trades and price marks of the files whose
period overlaps ``[from, to]``, keeps those with event time in that range, and sends them through
``ingest_events`` like any batch: the same validation, and re-sent events are duplicates, so a
restore run twice stores nothing the second time. Outcomes are archived for the record but not
restored: they are derived, and the next resolution decides the restored signals again. Restored
events older than the bot's retention window are removed (and archived again) by the next
retention run: raise the bot's ``retention`` first to keep them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import EdgeloopError, ErrorKind, not_found
from core.services.auth import Principal, require_admin
from core.services.context import ServiceContext
from core.services.ingest import ingest_events
from core.store import archive, repos
from core.store.archive import ArchiveEntry

RESTORED = {"signals": "signal", "trades": "trade", "price_marks": "price"}


@dataclass(frozen=True)
class RestoreResult:
    """What a restore sent: files read, events in the range, accepted as new, duplicates."""

    files: int
    events: int
    accepted: int
    duplicates: int


def _root(ctx: ServiceContext) -> Path:
    if not ctx.settings.archive_dir:
        raise EdgeloopError(
            ErrorKind.BAD_REQUEST,
            "archive_not_configured",
            "No archive directory",
            "EDGELOOP_ARCHIVE_DIR is not set: there are no archives.",
        )
    return Path(ctx.settings.archive_dir)


def list_archives(ctx: ServiceContext, bot_id: str | None = None) -> list[ArchiveEntry]:
    """Every archived file (of one bot, or all), in (bot, table, period) order."""
    return archive.list_entries(_root(ctx), bot_id)


def to_event(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """An archived row -> the event that stored it (``None`` fields left out, as the bot sent them)."""
    event: dict[str, Any] = {"type": RESTORED[table]}
    names, values = row.pop("component_names", None), row.pop("component_values", None)
    if names is not None:
        event["components"] = dict(zip(names, values or [], strict=True))
    event.update((k, v) for k, v in row.items() if k != "id" and v is not None)
    return event


async def restore(ctx: ServiceContext, principal: Principal, bot_id: str, from_ms: int, to_ms: int) -> RestoreResult:
    """Re-ingest the bot's archived signals, trades and marks with ``from <= time <= to``; idempotent."""
    require_admin(principal)
    root = _root(ctx)
    if to_ms < from_ms:
        raise EdgeloopError(ErrorKind.BAD_REQUEST, "invalid_range", "Invalid range", "--to is before --from.")
    async with ctx.sessions() as session:
        if await repos.get_bot(session, bot_id) is None:
            raise not_found("bot", bot_id)
    entries = [
        e
        for e in archive.list_entries(root, bot_id)
        if e.table in RESTORED and e.from_ms <= to_ms and e.to_ms > from_ms
    ]
    events: list[dict[str, Any]] = []
    for entry in entries:
        rows = await asyncio.to_thread(archive.read_entry, root, entry)
        events.extend(to_event(entry.table, row) for row in rows if from_ms <= row["ts"] <= to_ms)
    accepted = duplicates = 0
    size = ctx.settings.max_batch_events
    for at in range(0, len(events), size):
        result = await ingest_events(ctx, principal, bot_id, events[at : at + size])
        accepted += result.accepted
        duplicates += result.duplicates
    return RestoreResult(len(entries), len(events), accepted, duplicates)
