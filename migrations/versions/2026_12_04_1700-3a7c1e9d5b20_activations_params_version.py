"""activations, params_version on signals and trades, expires_at in param documents

DESIGN.md section 11. `activations` records, per bot and key, each stretch during which the key
reported running one param version (first_seen, last_seen). Signals and trades gain an optional
`params_version`: the version the bot ran when it made them. Every stored param document gains
`expires_at` = `created_at` + the bot's `params_ttl` (default 7d), filled here for existing versions.

Revision ID: 3a7c1e9d5b20
Revises: 3f1c8a2d9b57
Create Date: 2026-12-04 17:00:00.000000
"""

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "3a7c1e9d5b20"
down_revision: str | None = "3f1c8a2d9b57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of core/schemas/duration.py and timefmt.py: a migration must not change when the code does.
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhdw])$")


def _ttl_seconds(config: Any) -> int:
    text = (config or {}).get("params_ttl") or "7d"
    match = _DURATION.match(text)
    return int(match.group(1)) * _UNITS[match.group(2)] if match else 7 * 86400


def _expires_at(created_at: str, ttl_s: int) -> str:
    dt = datetime.fromisoformat(created_at) + timedelta(seconds=ttl_s)
    ms = round(dt.timestamp() * 1000)
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "activations",
        sa.Column("id", big_id, autoincrement=True, nullable=False),
        sa.Column("bot_id", sa.String(63), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["bot_id"], ["bots.id"], name=op.f("fk_activations_bot_id_bots"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activations")),
    )
    op.create_index("ix_activations_bot_id_id", "activations", ["bot_id", "id"])
    op.create_index("ix_activations_bot_key_id", "activations", ["bot_id", "key_id", "id"])
    op.create_index("ix_activations_bot_last_seen", "activations", ["bot_id", "last_seen"])
    # ADD COLUMN in place (not batch mode: on SQLite that would recreate the tables).
    op.add_column("signals", sa.Column("params_version", sa.Integer(), nullable=True))
    op.add_column("trades", sa.Column("params_version", sa.Integer(), nullable=True))

    conn = op.get_bind()
    bots = conn.execute(sa.text("SELECT id, config FROM bots")).all()
    ttl = {bot_id: _ttl_seconds(_loaded(config)) for bot_id, config in bots}
    versions = sa.table("param_versions", sa.column("bot_id"), sa.column("version"), sa.column("document", sa.JSON()))
    rows = conn.execute(sa.select(versions.c.bot_id, versions.c.version, versions.c.document)).all()
    for bot_id, version, document in rows:
        doc = dict(_loaded(document))
        if "expires_at" in doc:
            continue
        doc["expires_at"] = _expires_at(doc["created_at"], ttl.get(bot_id, 7 * 86400))
        conn.execute(
            versions.update().where(versions.c.bot_id == bot_id, versions.c.version == version).values(document=doc)
        )


def downgrade() -> None:
    conn = op.get_bind()
    versions = sa.table("param_versions", sa.column("bot_id"), sa.column("version"), sa.column("document", sa.JSON()))
    rows = conn.execute(sa.select(versions.c.bot_id, versions.c.version, versions.c.document)).all()
    for bot_id, version, document in rows:
        doc = dict(_loaded(document))
        if doc.pop("expires_at", None) is not None:
            conn.execute(
                versions.update().where(versions.c.bot_id == bot_id, versions.c.version == version).values(document=doc)
            )
    # SQLite >= 3.35 drops a plain column in place (batch mode would recreate the tables).
    op.drop_column("trades", "params_version")
    op.drop_column("signals", "params_version")
    op.drop_index("ix_activations_bot_last_seen", table_name="activations")
    op.drop_index("ix_activations_bot_key_id", table_name="activations")
    op.drop_index("ix_activations_bot_id_id", table_name="activations")
    op.drop_table("activations")
