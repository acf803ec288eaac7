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
from core.services.context import REFRESH_AHEAD, ServiceContext
from core.services.validation import is_bot_id
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


def _token(authorization: str | None) -> str | None:
    """The key in ``Bearer <key>``; None when the header is missing or not that shape."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _bearer(authorization: str | None) -> str:
    token = _token(authorization)
    if token is None:
        if not authorization:
            raise unauthenticated("Send 'Authorization: Bearer <api key>'.")
        raise unauthenticated("Authorization must be 'Bearer <api key>'.")
    return token


async def authenticate(ctx: ServiceContext, authorization: str | None) -> Principal:
    """Resolve an ``Authorization`` header value to a principal, or raise 401.

    Verified keys are cached. With PostgreSQL's notification channel up, a revocation reaches every
    process at once (``core/services/notify.py``); otherwise an entry is trusted for ``auth_cache_ttl_s``
    seconds (a revoked key stops working at once on the process that revoked it, elsewhere within the TTL).
    """
    token = _bearer(authorization)
    principal = _known(ctx, token)
    if principal is not None:
        return principal
    digest = hash_key(token)
    return await ctx.single_flight(f"key:{digest}", lambda: _lookup(ctx, digest))


def cached_principal(ctx: ServiceContext, authorization: str | None) -> Principal | None:
    """The principal :func:`authenticate` would return when it is known without the database, else None."""
    token = _token(authorization)
    return None if token is None else _known(ctx, token)


def _known(ctx: ServiceContext, token: str) -> Principal | None:
    # The admin token, or a key verified less than auth_cache_ttl_s ago. A key in use is verified again
    # in the background once its entry is past REFRESH_AHEAD of the TTL, so its requests never wait for it.
    admin = ctx.settings.admin_token
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        return Principal(ADMIN_TOKEN_ID, "admin")
    digest = hash_key(token)
    cached = ctx.auth_cache.get(digest)
    if cached is None or cached[1].key_id in ctx.revoked_keys:
        return None
    if ctx.push_live:  # trusted until a revocation notification drops it
        return cached[1]
    age, ttl = time.monotonic() - cached[0], ctx.settings.auth_cache_ttl_s
    if age >= ttl:
        return None
    if age >= ttl * REFRESH_AHEAD:
        ctx.refresh_soon(f"key:{digest}", lambda: _lookup(ctx, digest))
    return cached[1]


async def _lookup(ctx: ServiceContext, digest: str) -> Principal:
    revocations = ctx.key_revocations
    async with ctx.sessions() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.key_hash == digest))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        ctx.auth_cache.pop(digest, None)
        raise unauthenticated("The API key is unknown or revoked.")
    principal = Principal(row.id, "admin" if row.scope == "admin" else "bot", row.bot_id)
    if ctx.key_revocations == revocations:  # a key revoked here meanwhile may be this one: don't cache the old row
        ctx.auth_cache[digest] = (time.monotonic(), principal)
    return principal


async def ensure_live(ctx: ServiceContext, principal: Principal) -> None:
    """Raise 401 if the key behind ``principal`` was revoked since the call started (long-polls, streams).

    Known at once when this process revoked it or was notified; without a live notification channel the
    database is asked (a primary-key read), so a caller re-checking every 0.5 s sees a revocation within 1 s.
    """
    if principal.key_id == ADMIN_TOKEN_ID or principal.key_id == "cli":
        return
    if principal.key_id not in ctx.revoked_keys and not ctx.push_live:
        async with ctx.sessions() as session:
            revoked_at = (
                await session.execute(select(ApiKey.revoked_at).where(ApiKey.id == principal.key_id))
            ).scalar_one_or_none()
        if revoked_at is not None:
            ctx.revoked_keys.add(principal.key_id)
    if principal.key_id in ctx.revoked_keys:
        raise unauthenticated("The API key was revoked.")


def may_read(principal: Principal, bot_id: str) -> bool:
    """Admin, or the bot's own key."""
    return principal.is_admin or principal.bot_id == bot_id


def require_bot(principal: Principal, bot_id: str) -> None:
    """Read/ingest access: admin, or the bot's own key. Another bot's key sees 404, not 403."""
    if not may_read(principal, bot_id) or not is_bot_id(bot_id):
        raise not_found("bot", bot_id)  # an id no bot can have never reaches the database


def require_admin(principal: Principal, bot_id: str | None = None) -> None:
    """Admin-only actions: a bot key on its own bot gets 403, on another bot 404."""
    if principal.is_admin:
        return
    if bot_id is not None:
        require_bot(principal, bot_id)
    raise forbidden("This action needs an admin key.")
