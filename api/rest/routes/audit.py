"""The append-only audit log of a bot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.resources import AuditRead, Page
from core.services import audit
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["audit"], responses=ERROR_RESPONSES)


@router.get(
    "/bots/{bot}/audit",
    summary="Audit log, newest first: cycles, applies, rollbacks, config and key changes, with who and when",
)
async def list_audit(
    ctx: Ctx,
    caller: Caller,
    bot: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> Page[AuditRead]:
    return await audit.list_audit(ctx, caller, bot, limit=limit, cursor=cursor)
