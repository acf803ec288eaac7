"""Learning cycles: trigger, list, read, apply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.cycles import CycleCreate, CycleQueued, CycleRead
from core.schemas.params import ParamDocument
from core.schemas.resources import Page
from core.services import cycles
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["cycles"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


@router.post(
    "/bots/{bot}/cycles",
    status_code=202,
    summary="Queue a learning cycle (admin; a bot key may queue dry runs of its own bot)",
)
async def trigger_cycle(ctx: Ctx, caller: Caller, bot: str, body: CycleCreate) -> CycleQueued:
    return await cycles.trigger_cycle(ctx, caller, bot, body.kind, body.dry_run)


@router.get("/bots/{bot}/cycles", summary="The bot's cycles, newest first")
async def list_cycles(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[CycleRead]:
    return await cycles.list_cycles(ctx, caller, bot, limit=limit, cursor=cursor)


@router.get("/bots/{bot}/cycles/{cycle_id}", summary="One cycle: status, inputs, proposed changes, applied version")
async def get_cycle(ctx: Ctx, caller: Caller, bot: str, cycle_id: str) -> CycleRead:
    return await cycles.get_cycle(ctx, caller, bot, cycle_id)


@router.post(
    "/bots/{bot}/cycles/{cycle_id}/apply",
    status_code=201,
    summary="Apply a dry-run or apprentice-mode proposal as the next version (admin; 409 if stale)",
)
async def apply_cycle(ctx: Ctx, caller: Caller, bot: str, cycle_id: str) -> ParamDocument:
    return await cycles.apply_cycle(ctx, caller, bot, cycle_id)
