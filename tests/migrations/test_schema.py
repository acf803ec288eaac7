"""`upgrade head` on an empty database gives exactly the models' schema (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from core.store.db import current_revision, head_revision, make_engine
from core.store.models import Base


async def test_upgrade_head_matches_the_models(database_url: str) -> None:
    # database_url is a fresh database built by `upgrade head` (tests/conftest.py).
    engine = make_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision()

        def diff(conn: Connection) -> list[object]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def test_single_head() -> None:
    from alembic.script import ScriptDirectory

    from core.store.db import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1
