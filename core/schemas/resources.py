"""What services return and adapters render: bots, keys, versions, audit entries, pages."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, SkipValidation

from core.schemas.config import LearningConfig
from core.schemas.enums import AuditAction, KeyScope, ParamSource
from core.schemas.events import NO_NUL
from core.schemas.timefmt import Rfc3339

T = TypeVar("T")

BOT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""What a bot id may be (the service enforces it on create, the OpenAPI document shows it)."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= to get the next page; null on the last page.")


class BotRead(BaseModel):
    id: str = Field(..., examples=["alpha-1"])
    name: str = Field(..., examples=["Alpha momentum bot"])
    config: LearningConfig = Field(..., description="The bot's learning config (every field, defaults filled in).")
    created_at: Rfc3339
    current_version: int = Field(..., description="Version of the param document bots are served now.")
    watermark: Rfc3339 | None = Field(None, description="Latest event time the bot has sent (event time 'now').")


class BotCreated(BotRead):
    api_key: str = Field(..., description="The bot's API key. Shown once; only its hash is stored.")
    key_id: str


class KeyCreated(BaseModel):
    key_id: str
    bot_id: str | None
    scope: KeyScope
    api_key: str = Field(..., description="Shown once; only its hash is stored.")
    created_at: Rfc3339


class KeyRead(BaseModel):
    key_id: str
    scope: KeyScope = Field(..., description="`admin` or `bot`.")
    bot_id: str | None
    created_at: Rfc3339
    revoked_at: Rfc3339 | None = Field(None, description="When it was revoked; null while it works.")


class IngestResult(BaseModel):
    accepted: int = Field(..., description="Events stored by this request.")
    duplicates: int = Field(..., description="Events already stored (same event_id, or same symbol+ts for marks).")


class VersionInfo(BaseModel):
    version: int
    created_at: Rfc3339
    source: ParamSource
    cycle_id: str | None


class DiffEntry(BaseModel):
    path: str = Field(..., examples=["weights.ofi"])
    old: Any = None
    new: Any = None


class AuditRead(BaseModel):
    id: int
    bot_id: str | None
    at: Rfc3339
    actor: str = Field(..., description="Key id that did it ('admin_token', a key id, or 'system' for scheduled jobs).")
    action: AuditAction = Field(..., examples=["cycle_applied"])
    detail: dict[str, Any]


class BotCreate(BaseModel):
    model_config = {"extra": "forbid", "strict": True}  # 4546.0 is not a version, "yes" not a boolean

    id: str = Field(..., description="Bot id.", examples=["alpha-1"], json_schema_extra={"pattern": BOT_ID_PATTERN})
    name: str | None = Field(None, max_length=200, pattern=NO_NUL, description="Display name (defaults to the id).")
    # Documented as LearningConfig, validated by the service (bots.parse_config, the same model) after the
    # admin check, so a bot key learns it lacks the right before it learns its config is wrong.
    config: SkipValidation[LearningConfig] | None = Field(
        None, description="Learning config; omitted fields take their defaults."
    )


class RollbackCreate(BaseModel):
    model_config = {"extra": "forbid", "strict": True}  # 4546.0 is not a version, "yes" not a boolean

    version: int = Field(..., ge=1, description="The version whose sections the new version copies.")


class ActivationCreate(BaseModel):
    model_config = {"extra": "forbid"}

    version: int = Field(..., ge=1, le=2**31 - 1, description="The param version the bot has applied and runs.")


class ActivationRead(BaseModel):
    key_id: str = Field(..., description="The key that reported it (one bot may run several processes and keys).")
    version: int
    first_seen: Rfc3339 = Field(..., description="When this key first reported running this version (RFC 3339).")
    last_seen: Rfc3339 = Field(
        ...,
        description="When it last did (RFC 3339). Header reports move it at most every `EDGELOOP_ACTIVATION_TOUCH_S` "
        "(60 s) per server process, so it may lag the latest report by that much.",
    )
