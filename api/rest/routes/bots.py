"""Bots, their config and keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.resources import BotCreate, BotCreated, BotRead, KeyCreated, Page
from core.services import bots
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["bots"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


@router.post("/bots", status_code=201, summary="Create a bot (admin); returns its API key once")
async def create_bot(ctx: Ctx, caller: Caller, body: BotCreate) -> BotCreated:
    return await bots.create_bot(ctx, caller, body.id, body.name, body.config)


@router.get("/bots", summary="List bots (admin: all; bot key: its own)")
async def list_bots(ctx: Ctx, caller: Caller, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[BotRead]:
    return await bots.list_bots(ctx, caller, limit=limit, cursor=cursor)


@router.get("/bots/{bot}", summary="One bot with its config")
async def get_bot(ctx: Ctx, caller: Caller, bot: str) -> BotRead:
    return await bots.get_bot(ctx, caller, bot)


@router.patch("/bots/{bot}/config", summary="Change the learning config (admin; JSON merge patch, RFC 7396)")
async def patch_config(
    ctx: Ctx,
    caller: Caller,
    bot: str,
    patch: Annotated[
        dict[str, Any],
        Body(
            description="Fields to change; null removes a field (it returns to its default).",
            examples=[{"min_t": 2.5, "schedule": {"continuous_every": "6h"}}],
            media_type="application/merge-patch+json",
        ),
    ],
) -> dict[str, Any]:
    return await bots.patch_config(ctx, caller, bot, patch)


@router.post("/bots/{bot}/keys", status_code=201, summary="Create another key for the bot (admin; rotation)")
async def create_key(ctx: Ctx, caller: Caller, bot: str) -> KeyCreated:
    return await bots.create_bot_key(ctx, caller, bot)


@router.delete("/bots/{bot}/keys/{key_id}", status_code=204, summary="Revoke a bot key (admin)")
async def revoke_key(ctx: Ctx, caller: Caller, bot: str, key_id: str) -> Response:
    await bots.revoke_bot_key(ctx, caller, bot, key_id)
    return Response(status_code=204)
