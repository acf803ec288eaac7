"""Admin keys: list and revoke (DESIGN.md section 11). Admin keys are created with `edgeloop keys create --admin`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES, Problem
from core.schemas.resources import KeyRead, Page
from core.services import bots
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

_PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}
_FORBIDDEN = {403: {**_PROBLEM, "description": "Not an admin key (`admin_required`)."}}
_CONFLICT = {
    409: {**_PROBLEM, "description": "The EDGELOOP_ADMIN_TOKEN is configuration (`admin_token_not_revocable`)."}
}


@router.get("/keys", summary="Admin keys by id, revoked ones included (admin)", responses=_FORBIDDEN)
async def list_admin_keys(
    ctx: Ctx,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> Page[KeyRead]:
    return await bots.list_keys(ctx, caller, scope="admin", limit=limit, cursor=cursor)


@router.delete(
    "/keys/{key_id}",
    status_code=204,
    summary="Revoke an admin key (admin); live calls made with it end within 1 s",
    responses={**_FORBIDDEN, **_CONFLICT},
)
async def revoke_admin_key(ctx: Ctx, caller: Caller, key_id: str) -> Response:
    await bots.revoke_admin_key(ctx, caller, key_id)
    return Response(status_code=204)
