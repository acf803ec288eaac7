"""The append-only audit log of one bot."""

from __future__ import annotations

from core.errors import not_found
from core.schemas.resources import AuditRead, Page
from core.services.auth import Principal, require_bot
from core.services.context import ServiceContext
from core.services.paging import DEFAULT_LIMIT, decode_int_cursor, encode_cursor
from core.services.validation import INT8_MAX
from core.store import repos


async def list_audit(
    ctx: ServiceContext, principal: Principal, bot_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[AuditRead]:
    require_bot(principal, bot_id)
    async with ctx.sessions() as session:
        if await repos.current_version(session, bot_id) is None:
            raise not_found("bot", bot_id)
        items = await repos.list_audit(
            session, bot_id, before=decode_int_cursor(cursor, max_value=INT8_MAX), limit=limit + 1
        )
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)
