"""The relay: claim due outbox rows, send them with ``send_many``, record every outcome.

A row becomes ``sent`` (with its partition and offset) only after the broker acknowledged it,
in the same transaction that claimed it on PostgreSQL, so a crash at any point means the row
is sent again (at least once), never lost. Rows of one (topic, key) go out one at a time, in
id order; retriable failures come back later with an exponential, capped backoff; permanent
failures, and rows that failed too often, become ``dead``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ticketland_vibe._message import ENTITIES, Delivery, OutgoingMessage
from ticketland_vibe.errors import ConfigurationError, EventNotPublished, PublishError
from ticketland_vibe.outbox._maintenance import purge_sent
from ticketland_vibe.outbox._tables import (
    DEAD,
    PENDING,
    SENT,
    UtcDateTime,
    has_status,
    outbox_table,
    utc_now,
)

logger = logging.getLogger("ticketland_vibe.outbox")

# last_error is for people: long enough for the error's own message, never a whole payload.
_ERROR_LIMIT = 1000
# Ids or event ids per IN (...) list: far below every database's limit on bound parameters.
_CHUNK = 500
_MALFORMED = "the row is not a stored message: its entity, headers or event_ids are malformed"
# The first pause when the outbox runs empty; it doubles up to poll_interval.
_FIRST_IDLE_WAIT = 0.01
# Upper bound of the pause after a failed round (the database is down, say).
_MAX_ROUND_BACKOFF = 30.0


class MessageSender(Protocol):
    """What the relay needs of a publisher: :meth:`VibePublisher.send_many`."""

    def send_many(self, messages: Iterable[OutgoingMessage]) -> list[Delivery | PublishError]:
        """One ``Delivery`` or ``PublishError`` per message, in input order."""
        ...


@dataclass(frozen=True, slots=True)
class RelayResult:
    """What the relay did: rows claimed, and of those sent, to be retried later, and dead."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0

    def __add__(self, other: RelayResult) -> RelayResult:
        return RelayResult(
            self.claimed + other.claimed,
            self.sent + other.sent,
            self.retried + other.retried,
            self.dead + other.dead,
        )


@dataclass(frozen=True, slots=True)
class _Claimed:
    """One claimed row: the message rebuilt from it, or None if the row cannot be read."""

    id: int
    attempts: int
    message: OutgoingMessage | None


class OutboxRelay:
    """Moves outbox rows to Kafka: :meth:`run_once` for one batch, :meth:`run_forever` for a
    worker that stops gracefully on SIGTERM, SIGINT or :meth:`stop`.

    On PostgreSQL several relays may run at once: a batch is claimed with ``FOR UPDATE SKIP
    LOCKED`` and the claiming transaction stays open until its outcomes are recorded. On
    SQLite (and any other database) run one relay per database.
    """

    def __init__(
        self,
        engine: Engine,
        publisher: MessageSender,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        max_attempts: int = 30,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        retention: timedelta | None = timedelta(days=7),
        housekeeping_interval: float = 3600.0,
    ) -> None:
        problems = []
        if not 1 <= batch_size <= 100_000:
            problems.append("batch_size must be between 1 and 100000")
        if poll_interval <= 0:
            problems.append("poll_interval must be positive")
        if max_attempts < 1:
            problems.append("max_attempts must be at least 1")
        if not 0 < backoff_initial <= backoff_max:
            problems.append("backoff_initial must be positive and at most backoff_max")
        if retention is not None and retention <= timedelta(0):
            problems.append("retention must be positive (or None: keep sent rows)")
        if housekeeping_interval <= 0:
            problems.append("housekeeping_interval must be positive")
        if problems:
            raise ConfigurationError("invalid relay settings: " + "; ".join(problems))

        self.engine = engine
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.retention = retention
        self.housekeeping_interval = housekeeping_interval
        self.locks_rows = engine.dialect.name == "postgresql"
        self._stopping = threading.Event()
        self._signal: str | None = None

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"OutboxRelay(engine={url}, batch_size={self.batch_size})"

    # -- one batch ------------------------------------------------------------------------

    def run_once(self) -> RelayResult:
        """Claim up to ``batch_size`` due rows, send them, record the outcomes; return counts.

        Database errors are raised (nothing is recorded then: the batch is sent again later).
        """
        if self.locks_rows:
            # The row locks are the claim: they last until the outcomes are committed.
            with self.engine.begin() as connection:
                claimed, held = self._claim(connection)
                if not claimed:
                    return RelayResult()
                outcomes = self._send(claimed, held)
                return self._record(connection, claimed, outcomes, held)
        with self.engine.connect() as connection:
            claimed, held = self._claim(connection)
        if not claimed:
            return RelayResult()
        outcomes = self._send(claimed, held)
        with self.engine.begin() as connection:
            return self._record(connection, claimed, outcomes, held)

    def _claim(self, connection: Connection) -> tuple[list[_Claimed], dict[int, datetime]]:
        """The oldest due pending rows, at most one per (topic, key): the oldest pending one;
        and those of them to hold back for their events (row id -> when to try again)."""
        table = outbox_table
        older = table.alias("older")
        waits_for_older = (
            sa.select(older.c.id)
            .where(
                has_status(older.c.status, PENDING),
                older.c.topic == table.c.topic,
                older.c.key == table.c.key,
                older.c.id < table.c.id,
            )
            .exists()
        )
        # Ids first, payloads second: however the planner estimates the pending rows, it
        # sorts ids, never a backlog of payloads.
        query = (
            sa.select(table.c.id)
            .where(
                has_status(table.c.status, PENDING),
                sa.or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= utc_now()),
                ~waits_for_older,
            )
            .order_by(table.c.id)
            .limit(self.batch_size)
        )
        if self.locks_rows:
            query = query.with_for_update(skip_locked=True, of=table)
        ids = list(connection.execute(query).scalars())
        if not ids:
            return [], {}
        logger.debug("outbox claimed count=%d first_id=%d last_id=%d", len(ids), ids[0], ids[-1])
        payloads = sa.select(
            table.c.id,
            table.c.attempts,
            table.c.entity,
            table.c.topic,
            table.c.key,
            table.c.value,
            table.c.headers,
            table.c.event_ids,
        )
        rows: list[Any] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows += connection.execute(payloads.where(table.c.id.in_(chunk))).all()
        rows.sort(key=lambda row: int(row.id))
        claimed = [_Claimed(row.id, row.attempts, _message(row._mapping)) for row in rows]
        # Orders whose events still wait in the outbox (outside this batch) are not sent now:
        # they would only be refused for want of their events.
        in_batch = {row.id for row in claimed}
        held = self._waiting_for_events(connection, claimed, exclude=in_batch)
        return claimed, held

    def _send(
        self, claimed: Sequence[_Claimed], held: Mapping[int, datetime]
    ) -> dict[int, Delivery | PublishError | None]:
        """Send the rows not held back, in one ``send_many``: row id -> outcome (None: the row
        could not be read, nothing was sent)."""
        outcomes: dict[int, Delivery | PublishError | None] = {}
        sending: list[_Claimed] = []
        for row in claimed:
            if row.message is None:
                outcomes[row.id] = None
            elif row.id not in held:
                sending.append(row)
        messages = [row.message for row in sending if row.message is not None]
        results = self.publisher.send_many(messages) if messages else []
        if len(results) != len(messages):
            raise RuntimeError(
                f"send_many returned {len(results)} results for {len(messages)} messages"
            )
        outcomes.update((row.id, result) for row, result in zip(sending, results, strict=True))
        return outcomes

    def _record(
        self,
        connection: Connection,
        claimed: Sequence[_Claimed],
        outcomes: Mapping[int, Delivery | PublishError | None],
        held: Mapping[int, datetime],
    ) -> RelayResult:
        """Write each row's outcome: sent with its position, rescheduled, or dead."""
        now = utc_now()
        plan = _Plan()
        refused: list[_Claimed] = []
        for row in claimed:
            if row.id in held:
                plan.wait(row, held[row.id])
                continue
            outcome = outcomes[row.id]
            if isinstance(outcome, EventNotPublished):
                refused.append(row)
            else:
                self._plan(plan, row, outcome, now)
        plan.apply(connection)

        if refused:
            # Refused for want of its events: if they still have outbox rows (the updates
            # above are visible here), wait for them without using up an attempt; if not, it
            # failed like any retriable error.
            second = _Plan()
            waits = self._waiting_for_events(connection, refused, exclude=set())
            for row in refused:
                if row.id in waits:
                    second.wait(row, waits[row.id])
                else:
                    self._plan(second, row, outcomes[row.id], now)
            second.apply(connection)
            plan.merge(second)

        if plan.waiting:
            logger.info("outbox orders wait for their events count=%d", plan.waiting)
        for reason, count in plan.retried_by.items():
            logger.warning("outbox rows rescheduled count=%d %s", count, reason)
        result = RelayResult(
            claimed=len(claimed),
            sent=len(plan.sent),
            retried=len(plan.later),
            dead=len(plan.dead),
        )
        logger.log(
            logging.WARNING if plan.dead or plan.retried_by else logging.INFO,
            "outbox batch claimed=%d sent=%d retried=%d dead=%d",
            result.claimed,
            result.sent,
            result.retried,
            result.dead,
        )
        return result

    def _waiting_for_events(
        self, connection: Connection, rows: Sequence[_Claimed], *, exclude: Collection[int]
    ) -> dict[int, datetime]:
        """The orders among ``rows`` that an older pending event row (not in ``exclude``)
        holds back: row id -> when to try again, just after those events' next attempt."""
        orders = [row for row in rows if row.message is not None and row.message.event_ids]
        if not orders:
            return {}
        wanted = {event_id for row in orders if row.message for event_id in row.message.event_ids}
        pending = _pending_events(connection, wanted)
        now = utc_now()
        waits: dict[int, datetime] = {}
        for row in orders:
            assert row.message is not None
            due = [
                now if when is None else when
                for event_id in row.message.event_ids
                for event_row, when in pending.get(event_id, ())
                if event_row < row.id and event_row not in exclude
            ]
            if due:
                waits[row.id] = max([now, *due]) + timedelta(seconds=self.backoff_initial)
        return waits

    def _plan(
        self, plan: _Plan, row: _Claimed, outcome: Delivery | PublishError | None, now: datetime
    ) -> None:
        """Decide one row's fate (sent, later, dead) and add its update to ``plan``."""
        attempts = row.attempts + 1
        if isinstance(outcome, Delivery):
            plan.sent.append(
                {
                    "b_id": row.id,
                    "b_attempts": attempts,
                    "b_sent_at": now,
                    "b_partition": outcome.partition,
                    "b_offset": outcome.offset,
                }
            )
        elif outcome is None:
            plan.dead.append(_dead(row, attempts, _MALFORMED))
        elif not outcome.retriable:
            plan.dead.append(_dead(row, attempts, describe(outcome)))
        elif attempts >= self.max_attempts:
            reason = f"gave up after {attempts} attempts; last: {describe(outcome)}"
            plan.dead.append(_dead(row, attempts, reason))
        else:
            until = now + timedelta(seconds=self.backoff(attempts))
            plan.later.append(_rescheduled(row, attempts, until, describe(outcome)))
            plan.retried_by[f"error={type(outcome).__name__} code={outcome.code}"] += 1

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: doubling from ``backoff_initial``, capped."""
        return float(min(self.backoff_max, self.backoff_initial * 2 ** min(attempts - 1, 60)))

    # -- a worker -------------------------------------------------------------------------

    def run_forever(self, *, handle_signals: bool = True) -> RelayResult:
        """Relay until :meth:`stop`, SIGTERM or SIGINT; return the totals.

        A stop request lets the batch in flight finish and be recorded, then returns. Database
        errors are logged and retried with a backoff; housekeeping runs every
        ``housekeeping_interval`` seconds. Signal handlers are installed only when called
        from the main thread (and ``handle_signals``), and restored on return.
        """
        previous = self._install_signal_handlers() if handle_signals else {}
        total = RelayResult()
        failures = idle = 0
        next_housekeeping = time.monotonic()
        logger.info("outbox relay started %r", self)
        try:
            while not self._stopping.is_set():
                if self.retention is not None and time.monotonic() >= next_housekeeping:
                    next_housekeeping = time.monotonic() + self.housekeeping_interval
                    try:
                        self.housekeep()
                    except SQLAlchemyError as exc:
                        logger.error("outbox housekeeping failed %s", describe_database_error(exc))
                try:
                    result = self.run_once()
                except SQLAlchemyError as exc:
                    failures += 1
                    delay = min(_MAX_ROUND_BACKOFF, self.backoff_initial * 2 ** min(failures, 10))
                    logger.error(
                        "outbox batch failed %s failures=%d retry_in=%.1fs",
                        describe_database_error(exc),
                        failures,
                        delay,
                    )
                    self._stopping.wait(delay)
                    continue
                failures = 0
                total += result
                if result.claimed:
                    idle = 0
                    continue
                # Just after traffic more rows are likely: look again soon, then less and less
                # often, up to poll_interval.
                self._stopping.wait(min(self.poll_interval, _FIRST_IDLE_WAIT * 2**idle))
                idle = min(idle + 1, 30)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info(
            "outbox relay stopped reason=%s claimed=%d sent=%d retried=%d dead=%d",
            self._signal or "stop()",
            total.claimed,
            total.sent,
            total.retried,
            total.dead,
        )
        return total

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after the batch in flight; safe from any thread."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stopping.is_set()

    def housekeep(self) -> int:
        """Delete sent rows older than ``retention``; return how many were deleted."""
        if self.retention is None:
            return 0
        deleted = purge_sent(self.engine, older_than=self.retention)
        if deleted:
            logger.info("outbox housekeeping deleted=%d older_than=%s", deleted, self.retention)
        return deleted

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only flags: the loop logs and stops once the batch in flight is recorded.
        self._signal = signal.Signals(signum).name
        self._stopping.set()


# -- statements and helpers ---------------------------------------------------------------

_table = outbox_table
_BY_ID = _table.c.id == sa.bindparam("b_id")
_STILL_PENDING = has_status(_table.c.status, PENDING)
_SENT = (
    sa.update(_table)
    .where(_BY_ID, _STILL_PENDING)
    .values(
        status=SENT,
        attempts=sa.bindparam("b_attempts"),
        sent_at=sa.bindparam("b_sent_at", type_=UtcDateTime()),
        partition=sa.bindparam("b_partition"),
        offset=sa.bindparam("b_offset"),
        last_error=None,
    )
)
_LATER = (
    sa.update(_table)
    .where(_BY_ID, _STILL_PENDING)
    .values(
        attempts=sa.bindparam("b_attempts"),
        next_attempt_at=sa.bindparam("b_next", type_=UtcDateTime()),
        last_error=sa.bindparam("b_error"),
    )
)
_DEAD = (
    sa.update(_table)
    .where(_BY_ID, _STILL_PENDING)
    .values(status=DEAD, attempts=sa.bindparam("b_attempts"), last_error=sa.bindparam("b_error"))
)


@dataclass
class _Plan:
    """The updates that record a batch's outcomes, by kind."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    later: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    waiting: int = 0
    retried_by: Counter[str] = field(default_factory=Counter)

    def apply(self, connection: Connection) -> None:
        """Run the updates (one executemany each)."""
        for statement, rows in ((_SENT, self.sent), (_DEAD, self.dead), (_LATER, self.later)):
            if rows:
                connection.execute(statement, rows)

    def wait(self, row: _Claimed, until: datetime) -> None:
        """Try ``row`` again at ``until``, without counting an attempt: its events go first."""
        assert row.message is not None
        reason = "waiting for the outbox rows of its events: " + ", ".join(row.message.event_ids)
        self.later.append(_rescheduled(row, row.attempts, until, reason))
        self.waiting += 1

    def merge(self, other: _Plan) -> None:
        self.sent += other.sent
        self.later += other.later
        self.dead += other.dead
        self.waiting += other.waiting
        self.retried_by.update(other.retried_by)


def _rescheduled(row: _Claimed, attempts: int, until: datetime, reason: str) -> dict[str, Any]:
    return {"b_id": row.id, "b_attempts": attempts, "b_next": until, "b_error": _clip(reason)}


def _dead(row: _Claimed, attempts: int, reason: str) -> dict[str, Any]:
    message = row.message
    logger.error(
        "outbox row dead id=%d entity=%s topic=%s key=%s attempts=%d reason=%s",
        row.id,
        message.entity if message else "-",
        message.topic if message else "-",
        message.key.decode(errors="replace") if message else "-",
        attempts,
        reason,
    )
    return {"b_id": row.id, "b_attempts": attempts, "b_error": _clip(reason)}


def _pending_events(
    connection: Connection, event_ids: Collection[str]
) -> dict[str, list[tuple[int, datetime | None]]]:
    """The pending outbox rows of these events: event id -> [(row id, next attempt), ...]."""
    wanted = sorted(event_ids)
    found: dict[str, list[tuple[int, datetime | None]]] = defaultdict(list)
    table = outbox_table
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(table.c.key, table.c.id, table.c.next_attempt_at).where(
            has_status(table.c.status, PENDING),
            table.c.entity == "event",
            table.c.key.in_(wanted[start : start + _CHUNK]),
        )
        for key, row_id, due in connection.execute(query):
            found[key].append((row_id, due))
    return found


def _message(row: RowMapping) -> OutgoingMessage | None:
    """The message a claimed row holds, or None when the row was damaged after staging."""
    try:
        entity = row["entity"]
        if entity not in ENTITIES:
            return None
        headers = tuple((str(name), str(value).encode()) for name, value in row["headers"])
        return OutgoingMessage(
            entity=entity,
            topic=str(row["topic"]),
            key=str(row["key"]).encode(),
            value=bytes(row["value"]),
            headers=headers,
            event_ids=tuple(str(event_id) for event_id in row["event_ids"]),
        )
    except (TypeError, ValueError):
        return None


def describe(error: PublishError) -> str:
    """An error as ``last_error`` and the logs show it: class, code and the library's message
    (which never carries personal data)."""
    return f"{type(error).__name__} code={error.code or '-'}: {error}"


def describe_database_error(error: SQLAlchemyError) -> str:
    """A database error without its SQL parameters (they may hold personal data)."""
    text = f"error={type(error).__name__}"
    if isinstance(error, DBAPIError) and error.orig is not None:
        text += f" driver_error={type(error.orig).__name__}"
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if sqlstate:
            text += f" sqlstate={sqlstate}"
    return text


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 1] + "…"
