"""Tables. Event times are BIGINT epoch milliseconds (portable, sortable, what learners read)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT autoincrement ids must be INTEGER on SQLite to alias the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Numeric arrays: native on PostgreSQL (read back by binary COPY), a JSON list on SQLite.
IntArray = ARRAY(Integer()).with_variant(JSON(), "sqlite")
FloatArray = ARRAY(Float()).with_variant(JSON(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Bot(Base):
    __tablename__ = "bots"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]]
    created_at: Mapped[int] = mapped_column(BigInteger)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    watermark_ms: Mapped[int | None] = mapped_column(BigInteger)
    # What /health and /v1/status count, kept by the writers in the transactions that store the rows
    # (counting millions of rows per request would scan them every time).
    signal_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    trade_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    price_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    resolved_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    gap_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The last completed retention run (wall clock) and the event time it removed everything before.
    retention_run_ms: Mapped[int | None] = mapped_column(BigInteger)
    retention_cutoff_ms: Mapped[int | None] = mapped_column(BigInteger)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))  # "bot" | "admin"
    bot_id: Mapped[str | None] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class Signal(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    ts: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(5))
    price: Mapped[float] = mapped_column(Float)
    conviction: Mapped[float] = mapped_column(Float)
    # The components object, stored numerically: ``component_ids[k]`` names (``component_names.id``) the
    # score ``component_values[k]``. A cycle reads a million signals' scores as numbers, not JSON to parse.
    component_ids: Mapped[list[int]] = mapped_column(IntArray)
    component_values: Mapped[list[float]] = mapped_column(FloatArray)
    decision: Mapped[str] = mapped_column(String(8))
    blocked_by: Mapped[str | None] = mapped_column(String(128))
    strategy: Mapped[str | None] = mapped_column(String(128))
    expected_edge_bps: Mapped[float | None] = mapped_column(Float)
    regime: Mapped[str | None] = mapped_column(String(128))
    params_version: Mapped[int | None] = mapped_column(Integer)  # the version the bot ran (DESIGN.md section 11)

    __table_args__ = (
        Index("uq_signals_bot_event", "bot_id", "event_id", unique=True),
        Index("ix_signals_bot_ts", "bot_id", "ts"),
    )


class ComponentName(Base):
    """A component name a bot has sent, numbered once for all its signals (``signals.component_ids``)."""

    __tablename__ = "component_names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))

    __table_args__ = (Index("uq_component_names_bot_name", "bot_id", "name", unique=True),)


class Trade(Base):
    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    ts: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(5))
    entry_price: Mapped[float] = mapped_column(Float)
    exit_price: Mapped[float] = mapped_column(Float)
    quantity: Mapped[float] = mapped_column(Float)
    pnl: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float)
    strategy: Mapped[str | None] = mapped_column(String(128))
    conviction: Mapped[float | None] = mapped_column(Float)
    signal_event_id: Mapped[str | None] = mapped_column(String(128))
    venue: Mapped[str | None] = mapped_column(String(128))
    regime: Mapped[str | None] = mapped_column(String(128))
    params_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("uq_trades_bot_event", "bot_id", "event_id", unique=True),
        Index("ix_trades_bot_ts", "bot_id", "ts"),
    )


class PriceMark(Base):
    __tablename__ = "price_marks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(64))
    ts: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[float] = mapped_column(Float)
    event_id: Mapped[str | None] = mapped_column(String(128))

    # The unique index doubles as the read path: marks of one symbol in time order.
    __table_args__ = (Index("uq_price_marks_bot_symbol_ts", "bot_id", "symbol", "ts", unique=True),)


class SignalOutcome(Base):
    """One decided (signal, horizon) pair. Keyed by ``signals.id`` with the signal's ``ts`` beside it, so a
    cycle reads its window's outcomes by one range of the primary key (no join to ``signals``) and a
    write is one integer-keyed index entry per row. No foreign keys: the rows are written millions at a
    time by the resolver, which only writes pairs of signals it has just read, and a per-row key check
    was most of the insert's cost; bots and signals are never deleted."""

    __tablename__ = "signal_outcomes"

    bot_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    signal_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    signal_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    horizon_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(8))  # "resolved" | "gap"
    ret: Mapped[float | None] = mapped_column(Float)
    mark_ts: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(32))


class ParamVersion(Base):
    __tablename__ = "param_versions"

    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    cycle_id: Mapped[str | None] = mapped_column(String(36))
    document: Mapped[dict[str, Any]]


class Activation(Base):
    """A stretch of time during which one key of a bot reported running one param version.

    A new row starts when the key reports another version; reports of the same version move ``last_seen``
    (at most every ``activation_touch_s`` per process, so ``last_seen`` is that precise)."""

    __tablename__ = "activations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_activations_bot_id_id", "bot_id", "id"),
        Index("ix_activations_bot_key_id", "bot_id", "key_id", "id"),
        Index("ix_activations_bot_last_seen", "bot_id", "last_seen"),
    )


class Cycle(Base):
    __tablename__ = "cycles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)  # order of queueing within the bot
    kind: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    base_version: Mapped[int | None] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    changes: Mapped[list[Any] | None] = mapped_column(JSON)
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What /health and /reports serve: {"as_of_ms", "facts", "reports"} of a succeeded cycle.
    insight: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    applied_version: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_cycles_bot_seq", "bot_id", "seq"),
        Index("ix_cycles_status", "status"),
    )


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bot_id: Mapped[str | None] = mapped_column(String(63), index=True)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(16))
    last_seen: Mapped[int] = mapped_column(BigInteger)
