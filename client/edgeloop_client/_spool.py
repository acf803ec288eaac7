"""Where events wait until the service has acknowledged them: a SQLite file (durable) or memory.

Only the client's background thread touches a spool. Rows are JSON-encoded events in arrival order;
``head`` reads the oldest, ``delete`` removes acknowledged or rejected ones. The SQLite file uses WAL
with ``synchronous=NORMAL``: a committed event survives the bot process being killed (the OS has it);
only a power loss of the machine can take the last few commits.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class Spool(Protocol):
    def append(self, rows: Sequence[tuple[int, bytes]]) -> None: ...

    def next_seq(self) -> int: ...

    def head(self, n: int) -> list[tuple[int, bytes]]: ...

    def delete(self, seqs: Sequence[int]) -> None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


class SqliteSpool:
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The background thread opens it; check_same_thread off because close() may run elsewhere at exit.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body BLOB)")

    def next_seq(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(seq), 0) + 1 FROM events").fetchone()[0])

    def append(self, rows: Sequence[tuple[int, bytes]]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO events (seq, body) VALUES (?, ?)", rows)

    def head(self, n: int) -> list[tuple[int, bytes]]:
        rows = self._db.execute("SELECT seq, body FROM events ORDER BY seq LIMIT ?", (n,)).fetchall()
        return [(int(seq), bytes(body)) for seq, body in rows]

    def delete(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        with self._db:
            self._db.execute("BEGIN")
            low, high = min(seqs), max(seqs)
            if high - low + 1 == len(seqs):  # an acknowledged batch: one contiguous range of the spool
                self._db.execute("DELETE FROM events WHERE seq BETWEEN ? AND ?", (low, high))
            else:
                self._db.executemany("DELETE FROM events WHERE seq = ?", ((s,) for s in seqs))

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class MemorySpool:
    """``spool=None``: events live in memory only and are lost if the process dies before they are sent."""

    def __init__(self) -> None:
        self._rows: dict[int, bytes] = {}

    def next_seq(self) -> int:
        return 1

    def append(self, rows: Sequence[tuple[int, bytes]]) -> None:
        self._rows.update(rows)

    def head(self, n: int) -> list[tuple[int, bytes]]:
        return list(itertools.islice(self._rows.items(), n))  # insertion order: oldest first

    def delete(self, seqs: Sequence[int]) -> None:
        for seq in seqs:
            self._rows.pop(seq, None)

    def count(self) -> int:
        return len(self._rows)

    def close(self) -> None:
        self._rows.clear()
