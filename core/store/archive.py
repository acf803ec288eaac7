"""Parquet archives of expired raw events (``EDGELOOP_ARCHIVE_DIR``), one file per bot, table and period.

Layout: ``<dir>/<bot>/<table>/<YYYY-MM-DD>/<from_ms>-<to_ms>-<id>.parquet`` (the period is a part of
one UTC day of event time), and ``<dir>/<bot>/manifest.jsonl``, one JSON line per file: ``{bot_id,
table, from, to, from_ms, to_ms, rows, file, bytes, sha256, written_at}``. A file is written to a
temporary name, fsynced, renamed, read back and checked (row count, from the footer and from the key
column); only then is its manifest line appended (and fsynced). The retention job deletes rows only
after this returns, so nothing is removed that is not in a verified archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Float, Integer

from core.schemas.timefmt import ms_to_rfc3339
from core.store.lifecycle import EventTable

MANIFEST = "manifest.jsonl"


class ArchiveError(RuntimeError):
    """An archive file could not be written or did not verify: nothing of its period may be removed."""


@dataclass(frozen=True)
class ArchiveEntry:
    """One archived file (a manifest line); ``file`` is relative to the archive directory."""

    bot_id: str
    table: str
    from_ms: int
    to_ms: int
    rows: int
    file: str
    bytes: int
    sha256: str
    written_at_ms: int

    def line(self) -> str:
        fields = asdict(self)
        fields["from"], fields["to"] = ms_to_rfc3339(self.from_ms), ms_to_rfc3339(self.to_ms)
        return json.dumps(fields, sort_keys=True)


def _schema(spec: EventTable, names: list[str]) -> pa.Schema:
    fields = []
    for name in names:
        if name == "component_names":
            kind: pa.DataType = pa.list_(pa.string())
        elif name == "component_values":
            kind = pa.list_(pa.float64())
        elif isinstance(spec.table.c[name].type, Integer):  # BigInteger is one too
            kind = pa.int64()
        elif isinstance(spec.table.c[name].type, Float):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_period(
    root: Path, bot_id: str, spec: EventTable, lo_ms: int, hi_ms: int, columns: dict[str, list[Any]], now_ms: int
) -> ArchiveEntry:
    """Write one period's rows (``lifecycle.read_period(full=True)`` columns) and verify them; raises
    ``ArchiveError`` unless the file on disk holds exactly these rows. Returns its manifest entry."""
    names = list(columns)
    rows = len(columns[names[0]]) if names else 0
    table = pa.table({name: columns[name] for name in names}, schema=_schema(spec, names))
    day = ms_to_rfc3339(lo_ms)[:10]
    relative = Path(bot_id) / spec.name / day / f"{lo_ms}-{hi_ms}-{uuid.uuid4().hex[:8]}.parquet"
    path = root / relative
    partial = path.with_suffix(".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, partial, compression="zstd")
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        partial.rename(path)
        _fsync_dir(path.parent)
        on_disk = pq.read_metadata(path).num_rows
        keys = pq.read_table(path, columns=[spec.key[-1]]).num_rows
    except (OSError, pa.ArrowException) as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ArchiveError(f"archive {relative} not written: {exc}") from exc
    if on_disk != rows or keys != rows:
        raise ArchiveError(f"archive {relative} holds {on_disk} rows ({keys} keys); {rows} were written")
    data = path.read_bytes()
    entry = ArchiveEntry(
        bot_id=bot_id,
        table=spec.name,
        from_ms=lo_ms,
        to_ms=hi_ms,
        rows=rows,
        file=str(relative),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        written_at_ms=now_ms,
    )
    manifest = root / bot_id / MANIFEST
    with manifest.open("a", encoding="utf-8") as handle:
        handle.write(entry.line() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def list_entries(root: Path, bot_id: str | None = None) -> list[ArchiveEntry]:
    """Manifest entries (of one bot, or all), in (bot, table, from) order."""
    manifests = [root / bot_id / MANIFEST] if bot_id else sorted(root.glob(f"*/{MANIFEST}"))
    out = []
    for manifest in manifests:
        if not manifest.is_file():
            continue
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                fields = json.loads(line)
                out.append(ArchiveEntry(**{k: fields[k] for k in ArchiveEntry.__dataclass_fields__}))
    return sorted(out, key=lambda e: (e.bot_id, e.table, e.from_ms, e.file))


def read_entry(root: Path, entry: ArchiveEntry) -> list[dict[str, Any]]:
    """The rows of one archived file (checked against its manifest checksum first)."""
    path = root / entry.file
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ArchiveError(f"archive {entry.file} does not match its manifest checksum")
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows
