"""bots: event and outcome counters kept at write time

/health and /v1/status counted a bot's signals, trades, marks and outcomes with COUNT(*) on every
request, a scan of every stored row (10M marks and 5M outcomes for a big bot). The writers now keep
the counts on the bot row in the transactions that store the rows; this fills them for existing data.

Revision ID: 9e2f6a1c7d34
Revises: 5c0d3b9e41a7
Create Date: 2026-12-01 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e2f6a1c7d34"
down_revision: str | None = "5c0d3b9e41a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = {  # column -> the rows it counts
    "signal_count": "SELECT count(*) FROM signals AS t WHERE t.bot_id = bots.id",
    "trade_count": "SELECT count(*) FROM trades AS t WHERE t.bot_id = bots.id",
    "price_count": "SELECT count(*) FROM price_marks AS t WHERE t.bot_id = bots.id",
    "resolved_count": "SELECT count(*) FROM signal_outcomes AS t WHERE t.bot_id = bots.id AND t.status = 'resolved'",
    "gap_count": "SELECT count(*) FROM signal_outcomes AS t WHERE t.bot_id = bots.id AND t.status = 'gap'",
}


def upgrade() -> None:
    for column in COUNTERS:  # ADD COLUMN in place on both (see downgrade for why never batch mode here)
        op.add_column("bots", sa.Column(column, sa.BigInteger(), server_default="0", nullable=False))
    op.execute("UPDATE bots SET " + ", ".join(f"{column} = ({query})" for column, query in COUNTERS.items()))


def downgrade() -> None:
    # Not batch mode: on SQLite that recreates `bots` (copy, DROP, rename), and dropping it would delete
    # every bot's rows in the tables that reference it ON DELETE CASCADE. SQLite >= 3.35 drops a
    # plain column in place.
    for column in reversed(COUNTERS):
        op.drop_column("bots", column)
