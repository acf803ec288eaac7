"""Bots, their learning config and their keys."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from core.errors import FieldError, conflict, invalid, not_found
from core.schemas.config import LearningConfig
from core.schemas.merge_patch import merge_patch
from core.schemas.params import ParamDocument, default_sections, expires_at_ms
from core.schemas.resources import BotCreated, BotRead, KeyCreated, KeyRead, Page
from core.schemas.timefmt import ms_to_rfc3339
from core.services import notify
from core.services.auth import ADMIN_TOKEN_ID, Principal, new_key, require_admin, require_bot
from core.services.context import ServiceContext
from core.services.paging import DEFAULT_LIMIT, decode_cursor, encode_cursor
from core.services.params import observe_version
from core.services.validation import field_errors, is_bot_id, require_stored_id
from core.store import repos
from core.store.models import ApiKey, Bot


def parse_config(raw: Any) -> LearningConfig:
    """Validate a learning config; a bad field is a 422 naming it (``config.min_t``)."""
    try:
        return LearningConfig.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        errors = field_errors(exc, prefix="config.")
        names = ", ".join(e.loc for e in errors)
        raise invalid("invalid_config", "Invalid learning config", f"bad field(s): {names}", errors) from None


async def create_bot(
    ctx: ServiceContext, principal: Principal, bot_id: str, name: str | None, config: Any
) -> BotCreated:
    """Create a bot with version 1 of its params (defaults) and its first key, in one transaction."""
    require_admin(principal)
    if not is_bot_id(bot_id):
        raise invalid(
            "invalid_bot_id",
            "Invalid bot id",
            "id must match [a-z0-9][a-z0-9_-]{0,62}",
            [FieldError(loc="id", msg="must match [a-z0-9][a-z0-9_-]{0,62}")],
        )
    cfg = parse_config(config)
    now = ctx.clock()
    key_id, secret, digest = new_key()
    document = ParamDocument(
        bot_id=bot_id,
        version=1,
        created_at=ms_to_rfc3339(now),
        expires_at=ms_to_rfc3339(expires_at_ms(now, cfg)),
        source="default",
        cycle_id=None,
        **default_sections(cfg).model_dump(),
    )
    bot = Bot(id=bot_id, name=name or bot_id, config=cfg.model_dump(mode="json"), created_at=now, current_version=1)
    try:
        async with ctx.sessions.begin() as session:
            if await repos.get_bot(session, bot_id) is not None:
                raise conflict("bot_exists", "Bot already exists", f"A bot with id {bot_id!r} already exists.")
            session.add(bot)
            await session.flush()
            await repos.add_version(
                session,
                bot_id=bot_id,
                version=1,
                created_at=now,
                source="default",
                cycle_id=None,
                document=document.model_dump(mode="json"),
            )
            await repos.add_key(session, ApiKey(id=key_id, key_hash=digest, scope="bot", bot_id=bot_id, created_at=now))
            await repos.add_audit(
                session,
                bot_id=bot_id,
                at=now,
                actor=principal.key_id,
                action="bot_created",
                detail={"name": bot.name, "key_id": key_id},
            )
    except IntegrityError:
        raise conflict("bot_exists", "Bot already exists", f"A bot with id {bot_id!r} already exists.") from None
    return BotCreated(**repos.bot_read(bot).model_dump(), api_key=secret, key_id=key_id)


async def get_bot(ctx: ServiceContext, principal: Principal, bot_id: str) -> BotRead:
    require_bot(principal, bot_id)
    async with ctx.sessions() as session:
        row = await repos.get_bot(session, bot_id)
    if row is None:
        raise not_found("bot", bot_id)
    observe_version(ctx, bot_id, row.current_version)
    return repos.bot_read(row)


async def list_bots(
    ctx: ServiceContext, principal: Principal, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[BotRead]:
    """Admins see every bot; a bot key sees its own."""
    only = None if principal.is_admin else principal.bot_id
    async with ctx.sessions() as session:
        rows = await repos.list_bots(session, after=decode_cursor(cursor), limit=limit + 1, only=only)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[repos.bot_read(r) for r in rows], next_cursor=encode_cursor(rows[-1].id) if more else None)


async def load_config(ctx: ServiceContext, bot_id: str) -> LearningConfig:
    async with ctx.sessions() as session:
        row = await repos.get_bot(session, bot_id)
    if row is None:
        raise not_found("bot", bot_id)
    return LearningConfig.model_validate(row.config)


async def patch_config(ctx: ServiceContext, principal: Principal, bot_id: str, patch: Any) -> dict[str, Any]:
    """Apply a JSON merge patch to the bot's learning config; returns the whole new config."""
    require_admin(principal, bot_id)
    if not isinstance(patch, dict):
        raise invalid(
            "invalid_config",
            "Invalid learning config",
            "a merge patch must be a JSON object",
            [FieldError(loc="config", msg="must be a JSON object")],
        )
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        row = await repos.get_bot(session, bot_id, for_update=True)
        if row is None:
            raise not_found("bot", bot_id)
        new = parse_config(merge_patch(row.config, patch)).model_dump(mode="json")
        old = row.config
        row.config = new
        await repos.add_audit(
            session,
            bot_id=bot_id,
            at=now,
            actor=principal.key_id,
            action="config_changed",
            detail={"patch": patch, "old": old, "new": new},
        )
    return new


async def create_bot_key(ctx: ServiceContext, principal: Principal, bot_id: str) -> KeyCreated:
    """A new key for the bot (rotation: create, deploy, then revoke the old one)."""
    require_admin(principal, bot_id)
    now = ctx.clock()
    key_id, secret, digest = new_key()
    async with ctx.sessions.begin() as session:
        if await repos.get_bot(session, bot_id) is None:
            raise not_found("bot", bot_id)
        await repos.add_key(session, ApiKey(id=key_id, key_hash=digest, scope="bot", bot_id=bot_id, created_at=now))
        await repos.add_audit(
            session, bot_id=bot_id, at=now, actor=principal.key_id, action="key_created", detail={"key_id": key_id}
        )
    return KeyCreated(key_id=key_id, bot_id=bot_id, scope="bot", api_key=secret, created_at=ms_to_rfc3339(now))


async def revoke_bot_key(ctx: ServiceContext, principal: Principal, bot_id: str, key_id: str) -> None:
    """Revoke one of the bot's keys; it stops working everywhere, live calls included (see ``notify``)."""
    require_admin(principal, bot_id)
    require_stored_id(key_id, "key")
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if await repos.get_bot(session, bot_id) is None:
            raise not_found("bot", bot_id)
        if not await repos.revoke_key(session, bot_id, key_id, now):
            raise not_found("key", key_id)
        await repos.add_audit(
            session, bot_id=bot_id, at=now, actor=principal.key_id, action="key_revoked", detail={"key_id": key_id}
        )
        await notify.publish_revoked(session, key_id)
    notify.key_revoked(ctx, key_id)


async def revoke_admin_key(ctx: ServiceContext, principal: Principal, key_id: str) -> None:
    """Revoke an admin key (the caller's own included); 404 unless it is a live admin key."""
    require_admin(principal)
    if key_id == ADMIN_TOKEN_ID:
        raise conflict(
            "admin_token_not_revocable",
            "The admin token is configuration",
            "EDGELOOP_ADMIN_TOKEN is not a stored key: unset or change it and restart to revoke it.",
        )
    require_stored_id(key_id, "key")
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if not await repos.revoke_key(session, None, key_id, now):
            raise not_found("key", key_id)
        await repos.add_audit(
            session, bot_id=None, at=now, actor=principal.key_id, action="admin_key_revoked", detail={"key_id": key_id}
        )
        await notify.publish_revoked(session, key_id)
    notify.key_revoked(ctx, key_id)


async def list_keys(
    ctx: ServiceContext,
    principal: Principal,
    *,
    scope: str | None = "admin",
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[KeyRead]:
    """Keys by id, revoked ones included (admin only); ``scope="admin"`` (the REST list) or None for all."""
    require_admin(principal)
    async with ctx.sessions() as session:
        rows = await repos.list_keys(session, scope=scope, after=decode_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        KeyRead(
            key_id=r.id,
            scope=r.scope,
            bot_id=r.bot_id,
            created_at=ms_to_rfc3339(r.created_at),
            revoked_at=ms_to_rfc3339(r.revoked_at) if r.revoked_at is not None else None,
        )
        for r in rows
    ]
    return Page(items=items, next_cursor=encode_cursor(rows[-1].id) if more else None)


async def revoke_any_key(ctx: ServiceContext, principal: Principal, key_id: str) -> None:
    """The CLI's ``keys revoke``: an admin or a bot key, by id."""
    require_stored_id(key_id, "key")
    async with ctx.sessions() as session:
        row = await session.get(ApiKey, key_id)
    if row is None:
        raise not_found("key", key_id)
    if row.bot_id is None:
        await revoke_admin_key(ctx, principal, key_id)
    else:
        await revoke_bot_key(ctx, principal, row.bot_id, key_id)


async def create_admin_key(ctx: ServiceContext) -> KeyCreated:
    """An admin key (CLI only: whoever runs the CLI already holds the database)."""
    now = ctx.clock()
    key_id, secret, digest = new_key()
    async with ctx.sessions.begin() as session:
        await repos.add_key(session, ApiKey(id=key_id, key_hash=digest, scope="admin", bot_id=None, created_at=now))
        await repos.add_audit(
            session, bot_id=None, at=now, actor="cli", action="admin_key_created", detail={"key_id": key_id}
        )
    return KeyCreated(key_id=key_id, bot_id=None, scope="admin", api_key=secret, created_at=ms_to_rfc3339(now))


CLI_PRINCIPAL = Principal("cli", "admin")
