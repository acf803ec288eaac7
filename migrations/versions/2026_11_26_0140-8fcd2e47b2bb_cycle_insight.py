"""cycles.insight: the facts and reports a cycle computed, served by /health and /reports

Revision ID: 8fcd2e47b2bb
Revises: 47d21fcd810c
Create Date: 2026-11-26 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8fcd2e47b2bb"
down_revision: str | None = "47d21fcd810c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cycles", sa.Column("insight", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycles") as batch:
        batch.drop_column("insight")
