"""API keys and who may do what (DESIGN.md section 3)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from core.errors import forbidden, not_found, unauthenticated
from core.services.context import ServiceContext
from core.store.models import ApiKey

ADMIN_TOKEN_ID = "admin_token"


@dataclass(frozen=True)
class Principal:
    key_id: str
    scope: Literal["admin", "bot"]
    bot_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"


def new_key() -> tuple[str, str, str]:
    """A fresh key: (key_id, secret shown once, sha256 hash stored). 256 random bits."""
    key_id = "k_" + secrets.token_hex(8)
    secret = "elk_" + secrets.token_urlsafe(32)
    return key_id, secret, hash_key(secret)


def hash_key(secret: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise unauthenticated("Send 'Authorization: Bearer <api key>'.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("Authorization must be 'Bearer <api key>'.")
    return token.strip()


async def authenticate(ctx: ServiceContext, authorization: str | None) -> Principal:
    """Resolve an ``Authorization`` header value to a principal, or raise 401.

    Verified keys are cached for ``auth_cache_ttl_s`` seconds, so a revoked key stops
    working on every replica within that time (at once on the replica that revoked it).
    """
    token = _bearer(authorization)
    admin = ctx.settings.admin_token
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        return Principal(ADMIN_TOKEN_ID, "admin")
    digest = hash_key(token)
    cached = ctx.auth_cache.get(digest)
    if cached is not None and time.monotonic() - cached[0] < ctx.settings.auth_cache_ttl_s:
        return cached[1]
    return await ctx.single_flight(f"key:{digest}", lambda: _lookup(ctx, digest))


async def _lookup(ctx: ServiceContext, digest: str) -> Principal:
    async with ctx.sessions() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.key_hash == digest))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        ctx.auth_cache.pop(digest, None)
        raise unauthenticated("The API key is unknown or revoked.")
    principal = Principal(row.id, "admin" if row.scope == "admin" else "bot", row.bot_id)
    ctx.auth_cache[digest] = (time.monotonic(), principal)
    return principal


def require_bot(principal: Principal, bot_id: str) -> None:
    """Read/ingest access: admin, or the bot's own key. Another bot's key sees 404, not 403."""
    if not principal.is_admin and principal.bot_id != bot_id:
        raise not_found("bot", bot_id)


def require_admin(principal: Principal, bot_id: str | None = None) -> None:
    """Admin-only actions: a bot key on its own bot gets 403, on another bot 404."""
    if principal.is_admin:
        return
    if bot_id is not None:
        require_bot(principal, bot_id)
    raise forbidden("This action needs an admin key.")
