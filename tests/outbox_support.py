"""Helpers for the outbox tests, the relay runner (``tests/outbox_runner.py``) and the
outbox benchmark: engines on SQLite or PostgreSQL, example orders, draining the outbox."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER
from ticketland_vibe.outbox import OutboxRelay, RelayResult, outbox_table

DATABASES = ("sqlite", "postgres")


def sqlite_engine(path: Path | str, *, synchronous: str = "FULL") -> Engine:
    """An engine on a SQLite file, in WAL mode with a busy timeout: the business writer and
    the relay do not block each other's reads, and wait for each other's writes."""
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError("synchronous must be FULL or NORMAL")
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=20000")
        cursor.close()

    return engine


def engine_for(url: str, *, synchronous: str = "FULL") -> Engine:
    """An engine for a URL given on a command line: SQLite files get :func:`sqlite_engine`."""
    if url.startswith("sqlite:///"):
        return sqlite_engine(url.removeprefix("sqlite:///"), synchronous=synchronous)
    return sa.create_engine(url)


def make_event(event_id: str = "ev-1001", **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLE_EVENT)
    event["id"] = event_id
    event.update(changes)
    return event


def make_order(order_id: str, version: int = 0, event_id: str = "ev-1001") -> dict[str, Any]:
    """A valid order; ``version`` goes into its number, so the consumer can tell versions."""
    order = copy.deepcopy(EXAMPLE_ORDER)
    order["id"] = order_id
    order["number"] = f"N-{order_id}-v{version}"
    for index, ticket in enumerate(order["tickets"]):
        ticket["id"] = f"{order_id}-t{index}"
        ticket["event_id"] = event_id
    return order


def counts(engine: Engine) -> dict[str, int]:
    """Rows of the outbox by status."""
    table = outbox_table
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.status, sa.func.count()).group_by(table.c.status)
        ).all()
    return {status: int(count) for status, count in rows}


def drain(
    relay: OutboxRelay,
    *,
    timeout: float = 60.0,
    done: Callable[[], bool] | None = None,
) -> RelayResult:
    """``run_once`` until no row is pending (or ``done()``), at most ``timeout`` seconds."""
    total = RelayResult()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = relay.run_once()
        total += result
        if result.claimed == 0:
            finished = done() if done is not None else counts(relay.engine).get("pending", 0) == 0
            if finished:
                return total
            time.sleep(0.05)
    raise AssertionError(f"the outbox was not drained within {timeout} s: {total}")
