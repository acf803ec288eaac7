"""numeric components, outcomes keyed by signal id

signals.components (one JSON object per signal) becomes two arrays, component_ids (into the new
component_names table) and component_values, so a cycle reads scores as numbers instead of parsing
a million JSON documents. signal_outcomes is keyed by (bot_id, signal_ts, signal_id, horizon_s)
instead of (bot_id, signal_event_id, horizon_s), without foreign keys: a cycle reads its window by a
primary-key range without joining signals, and a write costs one integer-keyed index entry per row.
Existing rows are converted in SQL, on both databases; downgrade converts back.

Revision ID: 5c0d3b9e41a7
Revises: 8fcd2e47b2bb
Create Date: 2026-12-01 07:30:00.000000
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5c0d3b9e41a7"
down_revision: str | None = "8fcd2e47b2bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT_ARRAY = postgresql.ARRAY(sa.Integer()).with_variant(sa.JSON(), "sqlite")
FLOAT_ARRAY = postgresql.ARRAY(sa.Float()).with_variant(sa.JSON(), "sqlite")

# PostgreSQL converts in SQL (its float8 text forms round-trip exactly); both arrays of a signal are
# aggregated from one row stream, so ids and values stay paired. SQLite's JSON functions print reals
# with 15 digits, so there the rows are converted in Python (an embedded database is small).
_FILL_ARRAYS_PG = (
    "UPDATE signals SET (component_ids, component_values) = ("
    "SELECT coalesce(array_agg(n.id ORDER BY e.key), '{}'), "
    "coalesce(array_agg(CAST(e.value AS float8) ORDER BY e.key), '{}') "
    "FROM json_each_text(signals.components) AS e "
    "JOIN component_names AS n ON n.bot_id = signals.bot_id AND n.name = e.key)"
)
_FILL_JSON_PG = (
    "UPDATE signals SET components = ("
    "SELECT coalesce(json_object_agg(n.name, u.value), '{}') "
    "FROM unnest(signals.component_ids, signals.component_values) AS u(id, value) "
    "JOIN component_names AS n ON n.id = u.id)"
)
_NAMES = {
    "postgresql": "SELECT DISTINCT s.bot_id, e.key FROM signals AS s, json_object_keys(s.components) AS e(key)",
    "sqlite": "SELECT DISTINCT s.bot_id, e.key FROM signals AS s, json_each(s.components) AS e",
}
_BATCH = 10_000


def _convert_sqlite(
    read: str, write: str, convert: Callable[[dict[tuple[str, str], int], tuple[Any, ...]], dict[str, Any]]
) -> None:
    """Rewrite every signal row: ``read`` selects (id, bot_id, ...), ``write`` updates one by :id."""
    conn = op.get_bind()
    names = {
        (bot, name): code for code, bot, name in conn.execute(sa.text("SELECT id, bot_id, name FROM component_names"))
    }
    rows = conn.execute(sa.text(read)).all()
    for lo in range(0, len(rows), _BATCH):
        conn.execute(sa.text(write), [convert(names, row) for row in rows[lo : lo + _BATCH]])


def _to_arrays(names: dict[tuple[str, str], int], row: tuple[Any, ...]) -> dict[str, Any]:
    signal_id, bot, text = row
    components = json.loads(text)
    ids = [names[(bot, name)] for name in components]
    return {"id": signal_id, "ids": json.dumps(ids), "values": json.dumps(list(components.values()))}


def _to_json(names: dict[tuple[str, str], int], row: tuple[Any, ...]) -> dict[str, Any]:
    signal_id, bot, ids, values = row
    name_of = {code: name for (owner, name), code in names.items() if owner == bot}
    components = dict(zip((name_of[i] for i in json.loads(ids)), json.loads(values), strict=True))
    return {"id": signal_id, "components": json.dumps(components)}


def _outcomes_table(name: str, *, by_signal: bool) -> None:
    key = (
        [
            sa.Column("signal_ts", sa.BigInteger(), nullable=False),
            sa.Column("signal_id", sa.BigInteger(), nullable=False),
        ]
        if by_signal
        else [sa.Column("signal_event_id", sa.String(length=128), nullable=False)]
    )
    extra = (
        []
        if by_signal
        else [
            sa.ForeignKeyConstraint(
                ["bot_id"], ["bots.id"], name=op.f("fk_signal_outcomes_bot_id_bots"), ondelete="CASCADE"
            )
        ]
    )
    op.create_table(
        name,
        sa.Column("bot_id", sa.String(length=63), nullable=False),
        *key,
        sa.Column("horizon_s", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("ret", sa.Float(), nullable=True),
        sa.Column("mark_ts", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("bot_id", *(c.name for c in key), "horizon_s", name=op.f("pk_signal_outcomes")),
        *extra,
    )


def _rebuild_outcomes(select_rows: str, *, by_signal: bool) -> None:
    """Copy the outcomes aside as ``select_rows`` gives them, recreate the table, copy them back."""
    op.execute(f"CREATE TABLE signal_outcomes_old AS {select_rows}")
    op.drop_table("signal_outcomes")
    _outcomes_table("signal_outcomes", by_signal=by_signal)
    op.execute("INSERT INTO signal_outcomes SELECT * FROM signal_outcomes_old")
    op.drop_table("signal_outcomes_old")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "component_names",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bot_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_component_names_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_names")),
    )
    op.create_index("uq_component_names_bot_name", "component_names", ["bot_id", "name"], unique=True)
    op.execute(f"INSERT INTO component_names (bot_id, name) {_NAMES[dialect]} ORDER BY 1, 2")
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("component_ids", INT_ARRAY, nullable=True))
        batch.add_column(sa.Column("component_values", FLOAT_ARRAY, nullable=True))
    if dialect == "postgresql":
        op.execute(_FILL_ARRAYS_PG)
    else:
        _convert_sqlite(
            "SELECT id, bot_id, components FROM signals",
            "UPDATE signals SET component_ids = :ids, component_values = :values WHERE id = :id",
            _to_arrays,
        )
    with op.batch_alter_table("signals") as batch:
        batch.alter_column("component_ids", existing_type=INT_ARRAY, nullable=False)
        batch.alter_column("component_values", existing_type=FLOAT_ARRAY, nullable=False)
        batch.drop_column("components")

    _rebuild_outcomes(
        "SELECT o.bot_id, s.ts AS signal_ts, s.id AS signal_id, o.horizon_s, o.status, o.ret, o.mark_ts, o.reason "
        "FROM signal_outcomes AS o JOIN signals AS s ON s.bot_id = o.bot_id AND s.event_id = o.signal_event_id",
        by_signal=True,
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _rebuild_outcomes(
        "SELECT o.bot_id, s.event_id AS signal_event_id, o.horizon_s, o.status, o.ret, o.mark_ts, o.reason "
        "FROM signal_outcomes AS o JOIN signals AS s ON s.id = o.signal_id",
        by_signal=False,
    )
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("components", sa.JSON(), nullable=True))
    if dialect == "postgresql":
        op.execute(_FILL_JSON_PG)
    else:
        _convert_sqlite(
            "SELECT id, bot_id, component_ids, component_values FROM signals",
            "UPDATE signals SET components = :components WHERE id = :id",
            _to_json,
        )
    with op.batch_alter_table("signals") as batch:
        batch.alter_column("components", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("component_values")
        batch.drop_column("component_ids")
    op.drop_index("uq_component_names_bot_name", table_name="component_names")
    op.drop_table("component_names")
