"""Staging: a prepared message becomes an outbox row inside the caller's own transaction.

The row is written with the business change, on the same connection, so it exists if and
only if that transaction commits. Nothing is validated here: ``prepare_*`` already refused
invalid data, so it never enters the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.orm import Session

from ticketland_vibe._message import OutgoingMessage
from ticketland_vibe.outbox._tables import PENDING, outbox_table, utc_now


def _row(message: object, now: datetime, position: int | None = None) -> dict[str, Any]:
    if not isinstance(message, OutgoingMessage):
        where = "" if position is None else f" (item {position})"
        raise TypeError(
            f"stage takes an OutgoingMessage from VibePublisher.prepare_*; got a "
            f"{type(message).__name__}{where}"
        )
    return {
        "created_at": now,
        "entity": message.entity,
        "topic": message.topic,
        "key": message.key.decode(),
        "headers": [[name, value.decode()] for name, value in message.headers],
        "value": message.value,
        "event_ids": list(message.event_ids),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": None,
    }


def stage(connection: Connection | Session, message: OutgoingMessage) -> int:
    """Insert ``message`` into the outbox in the caller's transaction; return the row's id.

    Nothing is committed here: commit (or roll back) together with the business change.
    """
    result = connection.execute(sa.insert(outbox_table), _row(message, utc_now()))
    primary_key = cast(CursorResult[Any], result).inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def stage_many(connection: Connection | Session, messages: Iterable[OutgoingMessage]) -> int:
    """Insert several messages, in order, in the caller's transaction; return how many."""
    now = utc_now()
    rows = [_row(message, now, position) for position, message in enumerate(messages)]
    if rows:
        connection.execute(sa.insert(outbox_table), rows)
    return len(rows)
