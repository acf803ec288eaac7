"""PostgreSQL ``COPY`` through a session's asyncpg connection, in its transaction, to and from numpy.

Out (``COPY ... TO STDOUT``, ``core/store/bulk.py``'s bulk reads): pandas' C reader for CSV (rows
with text), ``numpy.frombuffer`` for the binary format (fixed-width rows, aggregated arrays). In
(``COPY ... FROM STDIN``, ``core/store/outcome_store.py``): binary rows built as numpy record arrays.
Driver errors are raised as SQLAlchemy reports them for statements it runs, so callers classify
them alike.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Columns = dict[str, NDArray[Any]]
# Column kinds: "int" (int64, never NULL), "float" (float64, NULL -> NaN), "str" (object, NULL -> None).
_DTYPES: dict[str, Any] = {"int": np.int64, "float": np.float64, "str": object}


async def driver(conn: AsyncSession | AsyncConnection) -> Any:
    """The asyncpg connection under a session or connection, inside its transaction."""
    if isinstance(conn, AsyncSession):
        conn = await conn.connection()
    await conn.exec_driver_sql("SELECT 1")  # the adapter begins its transaction on the first statement
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def copy_out(conn: AsyncSession | AsyncConnection, query: str, *args: Any, fmt: str) -> bytearray:
    """``COPY (query) TO STDOUT`` in format ``fmt`` (text, csv, binary); the raw bytes."""
    out = bytearray()

    async def sink(chunk: bytes) -> None:
        out.extend(chunk)

    await _copy(conn, query, args, sink, fmt)
    return out


async def _copy(
    conn: AsyncSession | AsyncConnection,
    query: str,
    args: Sequence[Any],
    sink: Callable[[bytes], Awaitable[None]],
    fmt: str,
) -> None:
    connection = await driver(conn)
    try:
        await connection.copy_from_query(query, *args, output=sink, format=fmt)
    except asyncpg.PostgresError as exc:
        raise translated(query, exc) from exc
    except asyncpg.InterfaceError as exc:  # the connection went away
        raise sa_exc.InterfaceError(query, None, exc, connection_invalidated=True) from exc


def translated(statement: str, exc: Exception) -> sa_exc.DBAPIError:
    """A server error on the driver connection as SQLAlchemy reports it for a statement it ran, so that
    callers classify it alike (a lost or refused connection is transient: the cycle is re-queued)."""
    code = str(getattr(exc, "sqlstate", "") or "")
    if code[:2] in {"08", "53", "57", "58"} or code in {"40001", "40P01"}:
        return sa_exc.OperationalError(statement, None, exc, connection_invalidated=code[:2] in {"08", "57"})
    if code[:2] == "23":
        return sa_exc.IntegrityError(statement, None, exc)
    return sa_exc.DatabaseError(statement, None, exc)


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_ELEMENT = {"int8": ">i8", "float8": ">f8"}
_FIXED = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8"}
_DECODE_EVERY = 4 << 20  # bytes of rows decoded at a time while the COPY streams in


_ARRAY_HEADER = [("ndim", ">i4"), ("flags", ">i4"), ("oid", ">i4"), ("dim", ">i4"), ("lbound", ">i4")]


def _field(kind: str) -> tuple[Any, int, int]:
    """A column kind -> (its value's numpy dtype, the field's byte length, its array width or 0).
    ``int8``, ``float8``...; ``float8[M]``: a one-dimensional array of exactly M elements, no NULLs."""
    if not kind.endswith("]"):
        return _FIXED[kind], np.dtype(_FIXED[kind]).itemsize, 0
    element, width = kind[:-1].split("[")
    count = int(width)
    item = np.dtype([("l", ">i4"), ("v", _FIXED[element])])
    dtype = np.dtype([*_ARRAY_HEADER, ("items", item, (count,))])
    return dtype, dtype.itemsize, count


class _FixedRows:
    """Decodes a binary COPY stream of never-NULL fixed-width columns as it arrives: every row has the
    same layout (field count, then length and value per field), so each block of rows is one
    ``numpy.frombuffer``; only a few MB of raw bytes are held at a time. A ``kind[M]`` column (an
    array of exactly M elements) comes out as an (n, M) array."""

    def __init__(self, types: Sequence[str]) -> None:
        fields: list[tuple[str, Any]] = [("n", ">i2")]
        self.fields = [_field(kind) for kind in types]
        for i, (dtype, _, _) in enumerate(self.fields):
            fields += [(f"l{i}", ">i4"), (f"v{i}", dtype)]
        self.types = list(types)
        self.dtype = np.dtype(fields)
        self.pending = bytearray()
        self.header = True
        self.parts: list[list[NDArray[Any]]] = [[] for _ in types]

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        if self.header and len(self.pending) >= 19:
            if bytes(self.pending[:11]) != _SIGNATURE:
                raise ValueError("not a binary COPY stream")
            del self.pending[: 19 + int.from_bytes(self.pending[15:19], "big")]
            self.header = False
        if not self.header and len(self.pending) >= _DECODE_EVERY:
            self._decode()

    def _decode(self) -> None:
        count = len(self.pending) // self.dtype.itemsize
        for part, values in zip(self.parts, self._values(count), strict=True):
            part.append(values)
        del self.pending[: count * self.dtype.itemsize]  # no view of the buffer is left to block this

    def _values(self, count: int) -> list[NDArray[Any]]:
        """The first ``count`` rows of the buffer, decoded (copies in native byte order)."""
        rows = np.frombuffer(self.pending, dtype=self.dtype, count=count)
        bad = rows["n"] != len(self.types)
        out = []
        for i, (_, size, width) in enumerate(self.fields):
            bad |= rows[f"l{i}"] != size
            value = rows[f"v{i}"]
            if width:
                bad |= (value["ndim"] != 1) | (value["flags"] != 0) | (value["dim"] != width)
                items = value["items"]
                bad |= (items["l"] != items.dtype["v"].itemsize).any(axis=1)
                value = items["v"]
            out.append(value.astype(value.dtype.newbyteorder("=")))
        if bool(bad.any()):
            raise ValueError("binary COPY rows are not fixed width (a NULL?)")
        return out

    def columns(self) -> list[NDArray[Any]]:
        self._decode()
        if bytes(self.pending) != b"\xff\xff":
            raise ValueError("binary COPY stream ends mid-row")
        out = []
        for parts, kind, (_, _, width) in zip(self.parts, self.types, self.fields, strict=True):
            element = np.dtype(_FIXED[kind.split("[")[0]]).newbyteorder("=")
            out.append(np.concatenate(parts) if parts else np.zeros((0, width) if width else 0, dtype=element))
        return out


async def copy_fixed(
    conn: AsyncSession | AsyncConnection, query: str, *args: Any, types: Sequence[str]
) -> list[NDArray[Any]]:
    """``COPY (query) TO STDOUT (FORMAT binary)`` of never-NULL fixed-width columns (``types``: int2, int4,
    int8, float8, or ``kind[M]`` for arrays of exactly M elements) -> one array per column ((n, M) for
    arrays), decoded while the rows stream in (no aggregate on the server, no full copy of the raw bytes)."""
    rows = _FixedRows(types)

    async def sink(chunk: bytes) -> None:
        rows.feed(chunk)

    await _copy(conn, query, args, sink, "binary")
    return rows.columns()


# --- writing --------------------------------------------------------------------------------------

COPY_HEADER = _SIGNATURE + b"\x00" * 8  # no flags, no header extension
COPY_TRAILER = b"\xff\xff"
_SEND_EVERY = 1 << 20  # bytes per CopyData message


def fixed_rows(n: int, fields: Sequence[tuple[str, Any]]) -> NDArray[np.void]:
    """``n`` binary COPY rows (a record array; its bytes are the rows) whose every field has one width:
    ``("int8" | "int4" | "float8", array of n)``, ``("const", bytes)`` (the same text in every row) or
    ``("null", None)``. No Python code per row. Rows of different layouts may follow each other."""
    layout: list[tuple[str, Any]] = [("n", ">i2")]
    values: dict[str, Any] = {"n": len(fields)}
    for i, (kind, value) in enumerate(fields):
        layout.append((f"l{i}", ">i4"))
        if kind == "null":
            values[f"l{i}"] = -1
        elif kind == "const":
            layout.append((f"v{i}", f"S{len(value)}"))
            values[f"l{i}"], values[f"v{i}"] = len(value), value
        else:
            layout.append((f"v{i}", _FIXED[kind]))
            # In the field's byte order first: then filling the field is a plain strided copy.
            values[f"l{i}"], values[f"v{i}"] = np.dtype(_FIXED[kind]).itemsize, np.asarray(value).astype(_FIXED[kind])
    rows = np.empty(n, dtype=np.dtype(layout))
    for name, value in values.items():
        rows[name] = value
    return rows


async def copy_in(
    conn: AsyncSession | AsyncConnection, table: str, columns: Sequence[str], parts: Iterable[NDArray[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN (FORMAT binary)`` of the rows in ``parts`` (``fixed_rows``
    arrays), in the session's transaction. ``parts`` is drawn lazily, in a worker thread: while the
    server stores one part, the next is being built. Sent from the arrays' own memory."""
    connection = await driver(conn)
    statement = f"COPY {table} FROM STDIN"

    async def chunks() -> AsyncIterator[bytes | memoryview]:
        yield COPY_HEADER
        drawn = iter(parts)
        while (part := await asyncio.to_thread(next, drawn, None)) is not None:
            view = part.view(np.uint8).reshape(-1).data
            for lo in range(0, len(view), _SEND_EVERY):
                yield view[lo : lo + _SEND_EVERY]
        yield COPY_TRAILER

    try:
        await connection.copy_to_table(table, source=chunks(), columns=list(columns), format="binary")
    except asyncpg.PostgresError as exc:
        raise translated(statement, exc) from exc
    except asyncpg.InterfaceError as exc:
        raise sa_exc.InterfaceError(statement, None, exc, connection_invalidated=True) from exc


def binary_arrays(data: bytes | bytearray, types: Sequence[str]) -> tuple[list[NDArray[Any]], NDArray[np.int64]]:
    """Binary COPY whose every field is a one-dimensional array without NULLs of ``types[k]`` (int8 or
    float8) -> (per field, its arrays concatenated over the rows; per row and field, the array's length).
    A NULL field (an aggregate over no rows) counts as an empty array.

    Rows are aggregates (``array_agg``), a handful per result: the loop runs per row, the values are
    read by ``numpy.frombuffer`` (each element is a 4-byte length and 8 bytes, a fixed stride).
    """
    if bytes(data[:11]) != _SIGNATURE:
        raise ValueError("not a binary COPY stream")
    view = memoryview(data)
    pos = 19 + int.from_bytes(view[15:19], "big")
    parts: list[list[NDArray[Any]]] = [[] for _ in types]
    lengths: list[list[int]] = []
    while (fields := int.from_bytes(view[pos : pos + 2], "big", signed=True)) != -1:
        if fields != len(types):
            raise ValueError(f"binary COPY row has {fields} fields, expected {len(types)}")
        pos += 2
        row: list[int] = []
        for k, kind in enumerate(types):
            size = int.from_bytes(view[pos : pos + 4], "big", signed=True)
            pos += 4
            count = 0
            if size >= 0:
                ndim, has_null = (
                    int.from_bytes(view[pos : pos + 4], "big"),
                    int.from_bytes(view[pos + 4 : pos + 8], "big"),
                )
                if has_null or ndim > 1:
                    raise ValueError("expected one-dimensional arrays without NULLs")
                if ndim == 1:
                    count = int.from_bytes(view[pos + 12 : pos + 16], "big")
                    dtype = np.dtype([("length", ">i4"), ("value", _ELEMENT[kind])])
                    items = np.frombuffer(view, dtype=dtype, count=count, offset=pos + 20)
                    if count and bool((items["length"] != 8).any()):
                        raise ValueError("unexpected element width")
                    parts[k].append(items["value"].astype(_ELEMENT[kind].replace(">", "=")))
                pos += size
            row.append(count)
        lengths.append(row)
    columns = [
        np.concatenate(chunks) if chunks else np.zeros(0, dtype=_ELEMENT[kind].replace(">", "="))
        for chunks, kind in zip(parts, types, strict=True)
    ]
    return columns, np.array(lengths, dtype=np.int64).reshape(len(lengths), len(types))


def decode_csv(data: bytes | bytearray, kinds: dict[str, str]) -> Columns:
    """CSV COPY (NULL = unquoted empty field) -> columns. Text is never empty (the API requires
    at least one character), so an empty field is always NULL; floats round-trip exactly."""
    names = list(kinds)
    if not data:
        return {name: empty_column(kind) for name, kind in kinds.items()}
    dtypes = {name: _DTYPES[kind] for name, kind in kinds.items()}
    frame = pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=names,
        dtype=dtypes,
        keep_default_na=False,
        na_values={name: ["", "NaN"] if kind == "float" else [""] for name, kind in kinds.items()},
    )
    out: Columns = {}
    for name, kind in kinds.items():
        values = frame[name].to_numpy()
        if kind == "str":
            values = values.astype(object)  # a copy: pandas hands out read-only views
            values[pd.isna(values)] = None
        out[name] = values
    return out


def empty_column(kind: str) -> NDArray[Any]:
    return np.zeros(0, dtype=_DTYPES[kind])
