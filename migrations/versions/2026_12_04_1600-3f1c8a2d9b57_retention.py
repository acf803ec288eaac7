"""bots: when the retention job last ran and up to which event time it removed raw events

/health and /v1/status show the date of the last retention run, and `retention_overdue` is raised
from it; both columns are written by the retention job only (core/services/retention.py).

Revision ID: 3f1c8a2d9b57
Revises: 9e2f6a1c7d34
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f1c8a2d9b57"
down_revision: str | None = "9e2f6a1c7d34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("retention_run_ms", "retention_cutoff_ms")


def upgrade() -> None:
    for column in COLUMNS:  # in place on both (batch mode would recreate `bots`, see 9e2f6a1c7d34)
        op.add_column("bots", sa.Column(column, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("bots", column)
