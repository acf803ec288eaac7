"""Archives before removal: every expiring row is in a verified Parquet file before it goes; a failed
archive removes nothing; a restore brings the range back through ingest, twice without duplicates."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.services import archive as archive_service
from core.services import retention
from core.services.context import ServiceContext
from core.settings import Settings
from core.store import archive
from core.store.archive import ArchiveError
from tests.builders import T0
from tests.services.test_retention import all_rows, counters_match, seeded, time_of
from tests.workers.scenario import ADMIN_P

DAY = 86_400_000


@pytest.fixture
async def actx(settings: Settings, tmp_path: Path) -> AsyncIterator[ServiceContext]:
    context = ServiceContext.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archive")}))
    try:
        yield context
    finally:
        await context.close()


def key(table: str, row: dict[str, object]) -> tuple[object, ...]:
    """What identifies an archived row independently of storage ids."""
    if table == "signal_outcomes":
        return (int(row["signal_id"]), int(row["horizon_s"]))  # type: ignore[call-overload]
    if table == "price_marks":
        return (row["symbol"], int(row["ts"]))  # type: ignore[call-overload]
    return (row["event_id"],)


async def test_expiring_rows_are_archived_and_restored(actx: ServiceContext) -> None:
    cutoff = await seeded(actx)
    before = await all_rows(actx)
    result = await retention.apply_retention(actx, "alpha")
    root = Path(actx.settings.archive_dir or "")
    entries = archive.list_entries(root, "alpha")
    assert sorted(e.file for e in entries) == sorted(result.archived)
    for table, rows in before.items():
        expired = [dict(r) for r in rows if time_of(r, table) < cutoff]
        mine = [e for e in entries if e.table == table]
        # The old history spans two UTC days: one file per day (its few stored outcomes are of the second).
        assert len(mine) >= (1 if table == "signal_outcomes" else 2), table
        assert sum(e.rows for e in mine) == result.removed[table] == len(expired)
        archived = [row for e in mine for row in archive.read_entry(root, e)]
        assert sorted(map(str, (key(table, r) for r in archived))) == sorted(map(str, (key(table, r) for r in expired)))
    signal = next(r for e in entries if e.table == "signals" for r in archive.read_entry(root, e))
    assert signal["component_names"] == ["ofi", "old_only"] and signal["component_values"] == [-1.0, 0.5]

    first = await archive_service.restore(actx, ADMIN_P, "alpha", T0 - 3 * DAY, cutoff)
    expected = sum(result.removed[t] for t in ("signals", "trades", "price_marks"))
    assert first.accepted == expected and first.duplicates == 0
    restored = await all_rows(actx)
    for table in ("signals", "trades", "price_marks"):
        assert len(restored[table]) == len(before[table]), table
    await counters_match(actx)
    again = await archive_service.restore(actx, ADMIN_P, "alpha", T0 - 3 * DAY, cutoff)
    assert again.accepted == 0 and again.duplicates == expected
    await counters_match(actx)

    # The real CLI reads the same manifest.
    env = {**os.environ, "EDGELOOP_DATABASE_URL": actx.settings.database_url, "EDGELOOP_ARCHIVE_DIR": str(root)}
    proc = await asyncio.create_subprocess_exec(
        Path(sys.executable).parent / "edgeloop",
        "archive",
        "list",
        "alpha",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert len(out.decode().splitlines()) == len(entries) and "signal_outcomes" in out.decode()
    proc = await asyncio.create_subprocess_exec(
        Path(sys.executable).parent / "edgeloop", "status", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0 and "retention 3h (10800 s), last retention run 20" in out.decode()


async def test_nothing_is_removed_when_the_archive_cannot_be_written(settings: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the archive directory should be")
    ctx = ServiceContext.create(settings.model_copy(update={"archive_dir": str(blocked)}))
    try:
        await seeded(ctx)
        before = await all_rows(ctx)
        with pytest.raises(ArchiveError):
            await retention.apply_retention(ctx, "alpha")
        assert await all_rows(ctx) == before
        await counters_match(ctx)
    finally:
        await ctx.close()
