"""A persistent event ledger: the events delivered so far, in a table beside the outbox.

It implements the core's ``EventLedger`` protocol, so every process that uses the same
database (several relays, a bulk re-send) agrees on which events Vibeapp already has, and an
order is sent only after its events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ticketland_vibe.outbox._tables import event_ledger_table, utc_now

# Ids per SELECT ... IN (...): far below every database's limit on bound parameters.
_CHUNK = 500


class SqlEventLedger:
    """The core's ``EventLedger`` on a SQL table (``ticketland_vibe_event_ledger``).

    Each call is a short transaction of its own on ``engine``; safe from several threads
    and processes. Use it with the relay's publisher:
    ``VibePublisher(settings, ledger=SqlEventLedger(engine))``.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._table = event_ledger_table

    def fingerprints(self, event_ids: Collection[str]) -> Mapping[str, str]:
        """The fingerprint last delivered for each of ``event_ids`` that was ever delivered."""
        ids = sorted(set(event_ids))
        found: dict[str, str] = {}
        if not ids:
            return found
        table = self._table
        with self._engine.connect() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                query = sa.select(table.c.event_id, table.c.fingerprint).where(
                    table.c.event_id.in_(chunk)
                )
                found.update({row.event_id: row.fingerprint for row in connection.execute(query)})
        return found

    def record(self, entries: Iterable[tuple[str, str]]) -> None:
        """Remember that each ``(event_id, fingerprint)`` was delivered (insert or update)."""
        # One row per id (the last one wins), in id order: two processes recording the same
        # events lock them in the same order and cannot deadlock.
        latest = dict(entries)
        if not latest:
            return
        now = utc_now()
        rows = [
            {"event_id": event_id, "fingerprint": latest[event_id], "delivered_at": now}
            for event_id in sorted(latest)
        ]
        with self._engine.begin() as connection:
            _upsert(connection, self._table, rows)

    def __repr__(self) -> str:
        return f"SqlEventLedger(engine={self._engine.url.render_as_string(hide_password=True)})"


def _upsert(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, updating those whose id exists: ``ON CONFLICT`` where there is one."""
    name = connection.dialect.name
    if name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        statement = dialect_insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.event_id],
            set_={
                "fingerprint": statement.excluded.fingerprint,
                "delivered_at": statement.excluded.delivered_at,
            },
        )
        connection.execute(statement, rows)
        return
    for row in rows:
        _upsert_one(connection, table, row)


def _upsert_one(connection: Connection, table: sa.Table, row: dict[str, Any]) -> None:
    """Portable fallback: update; if there was nothing to update, insert (racing writers are
    caught by the primary key and update instead)."""
    values: dict[str, str | datetime] = {
        "fingerprint": row["fingerprint"],
        "delivered_at": row["delivered_at"],
    }
    update = sa.update(table).where(table.c.event_id == row["event_id"]).values(values)
    if connection.execute(update).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(sa.insert(table).values(row))
    except IntegrityError:
        connection.execute(update)
