"""Which param version a bot runs: report it, list the history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.resources import ActivationCreate, ActivationRead, Page
from core.services import activations
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["params"], responses=ERROR_RESPONSES)


@router.post(
    "/bots/{bot}/activations",
    summary="Report the param version this key runs now (the header Edgeloop-Active-Version does it on any request)",
)
async def report_activation(ctx: Ctx, caller: Caller, bot: str, body: ActivationCreate) -> ActivationRead:
    return await activations.report_activation(ctx, caller, bot, body.version)


@router.get("/bots/{bot}/activations", summary="Which version each key reported running, and when; newest first")
async def list_activations(
    ctx: Ctx,
    caller: Caller,
    bot: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ActivationRead]:
    return await activations.list_activations(ctx, caller, bot, limit=limit, cursor=cursor)
