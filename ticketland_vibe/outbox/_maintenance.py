"""Housekeeping and operator actions on the outbox: purge old sent rows, re-queue dead ones."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticketland_vibe.outbox._tables import DEAD, PENDING, SENT, has_status, outbox_table, utc_now

logger = logging.getLogger("ticketland_vibe.outbox")

# Bounds one call: chunks of chunk_size rows, each its own short transaction.
_MAX_CHUNKS = 100_000


def purge_sent(
    engine: Engine,
    *,
    older_than: timedelta,
    chunk_size: int = 5000,
    now: datetime | None = None,
) -> int:
    """Delete rows sent more than ``older_than`` ago, in chunks; return how many were deleted.

    Pending and dead rows are never touched. Each chunk is its own short transaction, so the
    relay and the application keep working while a large backlog is purged.
    """
    if older_than < timedelta(0):
        raise ValueError("older_than must not be negative")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    cutoff = (now or utc_now()) - older_than
    table = outbox_table
    oldest = (
        sa.select(table.c.id)
        .where(has_status(table.c.status, SENT), table.c.sent_at < cutoff)
        .order_by(table.c.id)
        .limit(chunk_size)
    )
    delete = sa.delete(table).where(table.c.id.in_(oldest.scalar_subquery()))
    total = 0
    for _ in range(_MAX_CHUNKS):
        with engine.begin() as connection:
            deleted = connection.execute(delete).rowcount
        total += deleted
        if deleted < chunk_size:
            break
    return total


@dataclass(frozen=True, slots=True)
class RequeueResult:
    """What :func:`requeue_dead` did: rows made pending again, and dead rows left alone
    because a newer row of the same (topic, key) exists."""

    requeued: int
    superseded: int


def requeue_dead(engine: Engine, ids: Iterable[int] | None = None) -> RequeueResult:
    """Make dead rows pending again (attempts reset), once their cause was fixed.

    Only a row that is still the newest of its (topic, key) is re-queued: an older one would
    reach Vibeapp after the newer state of its entity. ``ids`` limits it to those rows.
    """
    table = outbox_table
    newer = table.alias("newer")
    superseded = (
        sa.select(newer.c.id)
        .where(
            newer.c.topic == table.c.topic,
            newer.c.key == table.c.key,
            newer.c.id > table.c.id,
        )
        .exists()
    )
    conditions = [has_status(table.c.status, DEAD)]
    if ids is not None:
        wanted = sorted({int(row_id) for row_id in ids})
        if not wanted:
            return RequeueResult(0, 0)
        conditions.append(table.c.id.in_(wanted))
    with engine.begin() as connection:
        left = connection.execute(
            sa.select(sa.func.count()).select_from(table).where(*conditions, superseded)
        ).scalar_one()
        requeued = connection.execute(
            sa.update(table)
            .where(*conditions, ~superseded)
            .values(status=PENDING, attempts=0, next_attempt_at=None)
        ).rowcount
    logger.warning("outbox dead rows requeued count=%d superseded=%d", requeued, left)
    return RequeueResult(requeued=requeued, superseded=int(left))
