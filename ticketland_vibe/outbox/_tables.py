"""The outbox's tables, in SQLAlchemy Core: the outbox rows and the event ledger.

Both live in :data:`metadata`, so an application can put them in its own migrations (Alembic
``target_metadata``) or call :func:`create_tables`. Types are portable (PostgreSQL, SQLite);
time is always UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

OUTBOX_TABLE: Final = "ticketland_vibe_outbox"
LEDGER_TABLE: Final = "ticketland_vibe_event_ledger"

PENDING: Final = "pending"
SENT: Final = "sent"
DEAD: Final = "dead"
STATUSES: Final = (PENDING, SENT, DEAD)

# Written into the SQL text rather than bound, so that the queries name the same predicate as the
# partial indexes (SQLite uses a partial index only when the query repeats its WHERE term).
IS_PENDING: Final = sa.text(f"status = '{PENDING}'")
IS_SENT: Final = sa.text(f"status = '{SENT}'")


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always UTC: aware on PostgreSQL, naive UTC text on SQLite.

    Reading it back always gives an aware UTC datetime; writing a naive one is an error, so
    local times cannot slip in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("outbox timestamps must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = sa.MetaData()
"""The outbox table and the event ledger table (for your migrations, or :func:`create_tables`)."""

outbox_table = sa.Table(
    OUTBOX_TABLE,
    metadata,
    # BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        comment="Monotonic: staging order, the order of sending within a key.",
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False, comment="When it was staged (UTC)."),
    sa.Column("entity", sa.String(16), nullable=False, comment="event, order or refund."),
    sa.Column("topic", sa.String(249), nullable=False),
    sa.Column("key", sa.Text(), nullable=False, comment="The message key (the entity id)."),
    sa.Column("headers", sa.JSON(), nullable=False, comment="[[name, value], ...] (UTF-8)."),
    sa.Column("value", sa.LargeBinary(), nullable=False, comment="The encoded payload."),
    sa.Column(
        "event_ids",
        sa.JSON(),
        nullable=False,
        comment="For an order: the events that must be delivered before it.",
    ),
    sa.Column("status", sa.String(16), nullable=False, comment="pending, sent or dead."),
    sa.Column("attempts", sa.Integer(), nullable=False, comment="Relay attempts so far."),
    sa.Column(
        "next_attempt_at",
        UtcDateTime(),
        nullable=True,
        comment="Not before this (UTC); NULL: never attempted, due at once.",
    ),
    sa.Column(
        "last_error",
        sa.Text(),
        nullable=True,
        comment="Why the last attempt failed: error class, code, message; no personal data.",
    ),
    sa.Column("sent_at", UtcDateTime(), nullable=True, comment="When it was acknowledged."),
    sa.Column("partition", sa.Integer(), nullable=True),
    sa.Column("offset", sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name=f"ck_{OUTBOX_TABLE}_status"),
    # The claim: pending rows in id order (only the id: with the status in it as well, SQLite
    # would also use it for the per-key check below and scan every older pending row).
    sa.Index(
        f"ix_{OUTBOX_TABLE}_pending",
        "id",
        postgresql_where=IS_PENDING,
        sqlite_where=IS_PENDING,
    ),
    # Per-key order: is an older row of the same key still pending?
    sa.Index(
        f"ix_{OUTBOX_TABLE}_pending_key",
        "topic",
        "key",
        "id",
        postgresql_where=IS_PENDING,
        sqlite_where=IS_PENDING,
    ),
    # Housekeeping: sent rows by age.
    sa.Index(
        f"ix_{OUTBOX_TABLE}_sent_at",
        "sent_at",
        postgresql_where=IS_SENT,
        sqlite_where=IS_SENT,
    ),
    # Ids are never reused on SQLite either, even after the newest rows were deleted.
    sqlite_autoincrement=True,
    comment="ticketland-vibe transactional outbox: messages staged with business changes.",
)
"""The outbox: one row per staged message (see the README's "Outbox" section for columns)."""

event_ledger_table = sa.Table(
    LEDGER_TABLE,
    metadata,
    sa.Column("event_id", sa.Text(), primary_key=True),
    sa.Column(
        "fingerprint",
        sa.String(64),
        nullable=False,
        comment="Digest of the event's encoded payload that was delivered last.",
    ),
    sa.Column("delivered_at", UtcDateTime(), nullable=False),
    comment="ticketland-vibe event ledger: events delivered to Vibeapp, by id and content.",
)
"""The event ledger: which events were delivered, so orders are sent only after them."""


def create_tables(engine: Engine) -> None:
    """Create the outbox and event ledger tables and their indexes, unless they exist."""
    metadata.create_all(engine, checkfirst=True)


def has_status(column: sa.ColumnElement[str], status: str) -> sa.ColumnElement[bool]:
    """``column = '<status>'`` with the status as a literal, matching the partial indexes."""
    if status not in STATUSES:
        raise ValueError(f"unknown outbox status {status!r}")
    return column == sa.literal_column(f"'{status}'")
