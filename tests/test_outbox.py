"""The outbox without Kafka: tables, staging, the event ledger, the relay's bookkeeping (with a
stand-in for ``send_many``), housekeeping, re-queueing; on SQLite and on real PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import ticketland_vibe as tv
from tests.harness.postgres import PostgresServer
from tests.outbox_support import counts, make_event, make_order, sqlite_engine
from ticketland_vibe.errors import (
    BrokerUnavailable,
    DeliveryTimeout,
    EventNotPublished,
    MessageTooLarge,
    PublishError,
)
from ticketland_vibe.outbox import (
    DEAD,
    PENDING,
    SENT,
    OutboxRelay,
    RelayResult,
    RequeueResult,
    SqlEventLedger,
    create_tables,
    event_ledger_table,
    metadata,
    outbox_table,
    purge_sent,
    requeue_dead,
    stage,
    stage_many,
)
from ticketland_vibe.outbox._ledger import _upsert_one

REPO = Path(__file__).resolve().parents[1]
PERSONAL_VALUES = ("anna.petrova@example.com", "+79167654321", "9167654321", "Анна", "Петрова")

business = sa.MetaData()
orders_table = sa.Table(
    "shop_orders",
    business,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("number", sa.String(64), nullable=False),
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with the outbox tables: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "outbox.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        engine = sa.create_engine(server.create_database())
    create_tables(engine)
    business.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def publisher() -> Iterator[tv.VibePublisher]:
    """A publisher used only to prepare real messages (no I/O happens when preparing)."""
    settings = tv.PublisherSettings(bootstrap_servers="127.0.0.1:9")
    with tv.VibePublisher(settings) as publisher:
        yield publisher


class StubSender:
    """``send_many`` without Kafka: delivers each message unless ``fail`` returns an error."""

    def __init__(self, fail: Callable[[tv.OutgoingMessage], PublishError | None] | None = None):
        self.fail = fail or (lambda _message: None)
        self.sent: list[tv.OutgoingMessage] = []
        self.batches: list[list[tv.OutgoingMessage]] = []

    def send_many(
        self, messages: Iterable[tv.OutgoingMessage]
    ) -> list[tv.Delivery | PublishError]:
        batch = list(messages)
        self.batches.append(batch)
        results: list[tv.Delivery | PublishError] = []
        for message in batch:
            error = self.fail(message)
            if error is not None:
                results.append(error)
                continue
            results.append(tv.Delivery(message.topic, 2, len(self.sent) + 100, message.key, None))
            self.sent.append(message)
        return results

    def values(self) -> list[str]:
        return [message.value.decode() for message in self.sent]


def message(key: str, version: int = 0, *, topic: str = "orders") -> tv.OutgoingMessage:
    """A small message whose value names its key and version."""
    return tv.OutgoingMessage(
        entity="order" if topic == "orders" else "event",
        topic=topic,
        key=key.encode(),
        value=f"{key}:v{version}".encode(),
        headers=(("content-type", b"application/json"), ("application-id", b"ticketland")),
    )


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


def make_due(engine: Engine, key: str | None = None) -> None:
    """Pretend the backoff elapsed: every pending row (of ``key``) is due now."""
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    table = outbox_table
    where = [table.c.status == PENDING, table.c.next_attempt_at.is_not(None)]
    if key is not None:
        where.append(table.c.key == key)
    with engine.begin() as connection:
        connection.execute(sa.update(table).where(*where).values(next_attempt_at=past))


def stage_all(engine: Engine, messages: Iterable[tv.OutgoingMessage]) -> None:
    with engine.begin() as connection:
        stage_many(connection, messages)


# -- the extra ------------------------------------------------------------------------------


def test_importing_without_sqlalchemy_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['sqlalchemy'] = None\n"
        "import ticketland_vibe\n"
        "try:\n"
        "    import ticketland_vibe.outbox\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('imported')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "ticketland-vibe[outbox]" in result.stdout


# -- tables ---------------------------------------------------------------------------------


def test_tables_have_the_columns_and_the_claim_indexes(engine: Engine) -> None:
    create_tables(engine)  # a second time: nothing happens
    inspector = sa.inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("ticketland_vibe_outbox")}
    assert columns == {
        "id", "created_at", "entity", "topic", "key", "headers", "value", "event_ids",
        "status", "attempts", "next_attempt_at", "last_error", "sent_at", "partition", "offset",
    }  # fmt: skip
    indexes = {index["name"] for index in inspector.get_indexes("ticketland_vibe_outbox")}
    assert {
        "ix_ticketland_vibe_outbox_pending",
        "ix_ticketland_vibe_outbox_pending_key",
        "ix_ticketland_vibe_outbox_sent_at",
    } <= indexes
    ledger = {column["name"] for column in inspector.get_columns("ticketland_vibe_event_ledger")}
    assert ledger == {"event_id", "fingerprint", "delivered_at"}
    assert set(metadata.tables) == {"ticketland_vibe_outbox", "ticketland_vibe_event_ledger"}


def test_sqlite_claim_query_uses_the_partial_indexes(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "plan.db")
    create_tables(engine)
    relay = OutboxRelay(engine, StubSender())
    with engine.connect() as connection:
        captured: list[str] = []

        @sa.event.listens_for(connection, "before_cursor_execute")
        def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            captured.append(statement)

        relay._claim(connection)
        sa.event.remove(connection, "before_cursor_execute", capture)
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + captured[0], (now, 10, 0)).all()
    details = [str(row[-1]) for row in plan]
    # Pending rows in id order from the partial index; the per-key check by (topic, key).
    assert details[0].endswith("USING INDEX ix_ticketland_vibe_outbox_pending"), details
    assert any(
        "USING INDEX ix_ticketland_vibe_outbox_pending_key (topic=? AND key=? AND id<?)" in each
        for each in details
    ), details
    engine.dispose()


# -- staging --------------------------------------------------------------------------------


def test_stage_commits_with_the_business_change_and_rolls_back_with_it(
    engine: Engine, publisher: tv.VibePublisher
) -> None:
    order = make_order("ord-1")
    with engine.begin() as connection:
        connection.execute(sa.insert(orders_table).values(id="ord-1", number="N-1"))
        row_id = stage(connection, publisher.prepare_order(order))
    assert isinstance(row_id, int)

    def declined() -> None:
        with engine.begin() as connection:
            connection.execute(sa.insert(orders_table).values(id="ord-2", number="N-2"))
            stage(connection, publisher.prepare_order(make_order("ord-2")))
            raise RuntimeError("payment failed")

    with pytest.raises(RuntimeError, match="payment failed"):
        declined()

    stored = rows(engine)
    assert [row.key for row in stored] == ["ord-1"]
    row = stored[0]
    assert row.id == row_id
    assert row.status == PENDING
    assert row.attempts == 0
    assert row.next_attempt_at is None
    assert row.entity == "order"
    assert row.event_ids == ["ev-1001"]
    assert bytes(row.value) == publisher.prepare_order(order).value
    assert row.headers == [
        ["content-type", "application/json"],
        ["schema-version", "1.0"],
        ["application-id", "ticketland"],
    ]
    assert row.created_at.tzinfo is not None
    with engine.connect() as connection:
        assert connection.execute(sa.select(orders_table.c.id)).scalars().all() == ["ord-1"]


def test_stage_in_an_orm_session(engine: Engine, publisher: tv.VibePublisher) -> None:
    with Session(engine) as session, session.begin():
        session.execute(sa.insert(orders_table).values(id="ord-9", number="N-9"))
        stage(session, publisher.prepare_event(make_event("ev-9")))
    with Session(engine) as session:
        session.begin()
        stage(session, publisher.prepare_event(make_event("ev-10")))
        session.rollback()
    assert [(row.entity, row.key) for row in rows(engine)] == [("event", "ev-9")]


def test_stage_many_keeps_the_order_and_refuses_unprepared_data(engine: Engine) -> None:
    with engine.begin() as connection:
        assert stage_many(connection, [message("a", 0), message("b", 0), message("a", 1)]) == 3
        assert stage_many(connection, []) == 0
        with pytest.raises(TypeError, match="OutgoingMessage"):
            stage(connection, {"id": "ord-1"})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="item 1"):
            stage_many(connection, [message("c"), {"id": "ord-1"}])  # type: ignore[list-item]
    assert [bytes(row.value) for row in rows(engine)] == [b"a:v0", b"b:v0", b"a:v1"]


# -- the event ledger ------------------------------------------------------------------------


def test_event_ledger_upserts_and_is_shared(engine: Engine) -> None:
    ledger = SqlEventLedger(engine)
    assert isinstance(ledger, tv.EventLedger)
    assert ledger.fingerprints([]) == {}
    assert ledger.fingerprints(["ev-1"]) == {}

    ledger.record([("ev-1", "aaaa"), ("ev-2", "bbbb")])
    ledger.record([("ev-1", "cccc"), ("ev-3", "dddd"), ("ev-3", "eeee")])
    ledger.record([])

    other_process = SqlEventLedger(engine)
    assert other_process.fingerprints(["ev-1", "ev-2", "ev-3", "ev-4"]) == {
        "ev-1": "cccc",
        "ev-2": "bbbb",
        "ev-3": "eeee",
    }
    many = [(f"ev-{index:04d}", f"f{index}") for index in range(1200)]
    ledger.record(many)
    assert ledger.fingerprints([event_id for event_id, _ in many]) == dict(many)
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(event_ledger_table))
        assert total.scalar_one() == 1203
    assert "password" not in repr(ledger)


def test_event_ledger_portable_fallback_upsert(engine: Engine) -> None:
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        row = {"event_id": "ev-1", "fingerprint": "a", "delivered_at": now}
        _upsert_one(connection, event_ledger_table, row)
        _upsert_one(connection, event_ledger_table, {**row, "fingerprint": "b"})
    assert SqlEventLedger(engine).fingerprints(["ev-1"]) == {"ev-1": "b"}


# -- the relay's bookkeeping ----------------------------------------------------------------


def test_relay_marks_rows_sent_with_partition_and_offset(engine: Engine) -> None:
    stage_all(engine, [message("a"), message("b"), message("c")])
    sender = StubSender()
    result = OutboxRelay(engine, sender).run_once()
    assert result == RelayResult(claimed=3, sent=3, retried=0, dead=0)
    assert sender.values() == ["a:v0", "b:v0", "c:v0"]
    stored = rows(engine)
    assert [(row.status, row.partition, row.offset, row.attempts) for row in stored] == [
        (SENT, 2, 100, 1),
        (SENT, 2, 101, 1),
        (SENT, 2, 102, 1),
    ]
    assert all(row.sent_at is not None and row.last_error is None for row in stored)
    assert OutboxRelay(engine, sender).run_once() == RelayResult()


def test_one_row_per_key_at_a_time_in_id_order(engine: Engine) -> None:
    stage_all(engine, [message(key, version) for version in range(3) for key in "abc"])
    stage_all(engine, [message("a", 0, topic="events")])  # same key, another topic
    sender = StubSender()
    relay = OutboxRelay(engine, sender)
    assert relay.run_once().claimed == 4
    assert relay.run_once().claimed == 3
    assert relay.run_once().claimed == 3
    assert relay.run_once().claimed == 0
    for key in "abc":
        sent = [
            m.value.decode() for m in sender.sent if m.topic == "orders" and m.key == key.encode()
        ]
        assert sent == [f"{key}:v0", f"{key}:v1", f"{key}:v2"]
    for batch in sender.batches:
        keys = [(m.topic, m.key) for m in batch]
        assert len(keys) == len(set(keys))


def test_a_retrying_row_holds_back_the_later_rows_of_its_key(engine: Engine) -> None:
    stage_all(engine, [message("a", 0), message("b", 0), message("a", 1), message("b", 1)])
    down = {b"a"}
    sender = StubSender(
        lambda m: BrokerUnavailable("brokers down", code="_TRANSPORT") if m.key in down else None
    )
    relay = OutboxRelay(engine, sender, backoff_initial=5.0)

    before = datetime.now(timezone.utc)
    assert relay.run_once() == RelayResult(claimed=2, sent=1, retried=1, dead=0)
    retrying = next(row for row in rows(engine) if bytes(row.value) == b"a:v0")
    assert retrying.status == PENDING
    assert retrying.attempts == 1
    assert retrying.last_error == "BrokerUnavailable code=_TRANSPORT: brokers down"
    assert before + timedelta(seconds=5) <= retrying.next_attempt_at
    assert retrying.next_attempt_at <= datetime.now(timezone.utc) + timedelta(seconds=5)

    # a:v1 waits behind a:v0, which is not due yet; b moves on.
    assert relay.run_once() == RelayResult(claimed=1, sent=1, retried=0, dead=0)
    assert relay.run_once() == RelayResult()
    assert sender.values() == ["b:v0", "b:v1"]

    down.clear()
    make_due(engine)
    assert relay.run_once().sent == 1
    assert relay.run_once().sent == 1
    assert sender.values() == ["b:v0", "b:v1", "a:v0", "a:v1"]
    assert counts(engine) == {SENT: 4}


def test_backoff_doubles_and_is_capped_then_the_row_is_dead(engine: Engine) -> None:
    stage_all(engine, [message("a")])
    sender = StubSender(lambda _m: DeliveryTimeout("no acknowledgement", code="_MSG_TIMED_OUT"))
    relay = OutboxRelay(engine, sender, backoff_initial=1.0, backoff_max=5.0, max_attempts=5)
    assert [relay.backoff(attempts) for attempts in range(1, 7)] == [1, 2, 4, 5, 5, 5]

    delays = []
    for _ in range(4):
        started = datetime.now(timezone.utc)
        assert relay.run_once().retried == 1
        row = rows(engine)[0]
        delays.append(round((row.next_attempt_at - started).total_seconds()))
        make_due(engine)
    assert delays == [1, 2, 4, 5]

    assert relay.run_once() == RelayResult(claimed=1, sent=0, retried=0, dead=1)
    row = rows(engine)[0]
    assert row.status == DEAD
    assert row.attempts == 5
    assert row.last_error == (
        "gave up after 5 attempts; last: DeliveryTimeout code=_MSG_TIMED_OUT: no acknowledgement"
    )
    assert relay.run_once() == RelayResult()


def test_a_dead_row_blocks_neither_other_keys_nor_later_rows_of_its_key(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    stage_all(engine, [message("a", 0), message("b", 0), message("a", 1)])
    sender = StubSender(
        lambda m: (
            MessageTooLarge("the broker refused it", code="MSG_SIZE_TOO_LARGE")
            if m.value == b"a:v0"
            else None
        )
    )
    relay = OutboxRelay(engine, sender)
    with caplog.at_level(logging.ERROR, logger="ticketland_vibe.outbox"):
        assert relay.run_once() == RelayResult(claimed=2, sent=1, retried=0, dead=1)
    dead = rows(engine)[0]
    assert dead.status == DEAD
    assert dead.attempts == 1
    assert dead.last_error == "MessageTooLarge code=MSG_SIZE_TOO_LARGE: the broker refused it"
    assert any(
        f"outbox row dead id={dead.id} entity=order topic=orders key=a" in record.getMessage()
        for record in caplog.records
    )
    # The later row of the same key carries the entity's newer state: it goes out.
    assert relay.run_once() == RelayResult(claimed=1, sent=1, retried=0, dead=0)
    assert sender.values() == ["b:v0", "a:v1"]


def test_an_order_waits_for_its_pending_event_without_using_attempts(engine: Engine) -> None:
    event = message("ev-1", topic="events")
    order = tv.OutgoingMessage(
        entity="order",
        topic="orders",
        key=b"ord-1",
        value=b"ord-1:v0",
        headers=event.headers,
        event_ids=("ev-1",),
    )
    stage_all(engine, [event, order])
    delivered: set[str] = set()
    event_down = True

    def fail(m: tv.OutgoingMessage) -> PublishError | None:
        if m.entity == "event":
            if event_down:
                return BrokerUnavailable("down", code="_TRANSPORT")
            delivered.add(m.key.decode())
            return None
        missing = [event_id for event_id in m.event_ids if event_id not in delivered]
        return EventNotPublished(m.key.decode(), missing, topic=m.topic) if missing else None

    sender = StubSender(fail)
    relay = OutboxRelay(engine, sender, backoff_initial=2.0)
    assert relay.run_once() == RelayResult(claimed=2, sent=0, retried=2, dead=0)
    event_row, order_row = rows(engine)
    assert event_row.attempts == 1
    assert order_row.attempts == 0  # waiting is not failing
    assert order_row.next_attempt_at >= event_row.next_attempt_at + timedelta(seconds=2)
    assert order_row.last_error == "waiting for the outbox rows of its events: ev-1"

    # Due again while its event is not: held back, not even handed to send_many.
    make_due(engine, "ord-1")
    calls = len(sender.batches)
    assert relay.run_once() == RelayResult(claimed=1, sent=0, retried=1, dead=0)
    assert len(sender.batches) == calls
    assert rows(engine)[1].attempts == 0

    event_down = False
    make_due(engine)
    assert relay.run_once() == RelayResult(claimed=2, sent=2, retried=0, dead=0)
    assert [m.entity for m in sender.sent] == ["event", "order"]

    # An order whose events are nowhere in the outbox fails like any retriable error.
    lonely = tv.OutgoingMessage(
        entity="order",
        topic="orders",
        key=b"ord-2",
        value=b"ord-2:v0",
        headers=event.headers,
        event_ids=("ev-404",),
    )
    stage_all(engine, [lonely])
    relay = OutboxRelay(engine, StubSender(fail), max_attempts=2)
    assert relay.run_once().retried == 1
    assert rows(engine)[-1].attempts == 1
    make_due(engine)
    assert relay.run_once().dead == 1
    assert "gave up after 2 attempts; last: EventNotPublished" in rows(engine)[-1].last_error


def test_a_damaged_row_is_dead_without_being_sent(engine: Engine) -> None:
    stage_all(engine, [message("a"), message("b")])
    with engine.begin() as connection:
        connection.execute(
            sa.update(outbox_table).where(outbox_table.c.key == "a").values(entity="bogus")
        )
    sender = StubSender()
    assert OutboxRelay(engine, sender).run_once() == RelayResult(claimed=2, sent=1, dead=1)
    assert sender.values() == ["b:v0"]
    assert "not a stored message" in rows(engine)[0].last_error


def test_last_error_and_logs_hold_no_personal_data(
    engine: Engine, publisher: tv.VibePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    order = publisher.prepare_order(make_order("ord-7"))
    refund = publisher.prepare_refund(
        {"customer": make_order("x")["customer"], "ticket_ids": ["t-1"]}, refund_id="ref-1"
    )
    stage_all(engine, [order, refund])

    def fail(m: tv.OutgoingMessage) -> PublishError:
        if m.entity == "order":
            return EventNotPublished(m.key.decode(), m.event_ids, topic=m.topic)
        return MessageTooLarge("refused", topic=m.topic, key=m.key, code="MSG_SIZE_TOO_LARGE")

    with caplog.at_level(logging.DEBUG, logger="ticketland_vibe"):
        OutboxRelay(engine, StubSender(fail), max_attempts=1).run_once()
    stored = rows(engine)
    assert [row.status for row in stored] == [DEAD, DEAD]
    text = " ".join(row.last_error for row in stored) + caplog.text
    for value in PERSONAL_VALUES:
        assert value not in text


def test_relay_settings_are_checked(engine: Engine) -> None:
    with pytest.raises(tv.ConfigurationError, match="batch_size") as raised:
        OutboxRelay(engine, StubSender(), batch_size=0, backoff_initial=10, backoff_max=1)
    assert "backoff_initial" in str(raised.value)
    relay = OutboxRelay(engine, StubSender(), retention=None)
    assert relay.housekeep() == 0
    assert "password" not in repr(relay)


# -- run_forever ----------------------------------------------------------------------------


def test_run_forever_stops_when_asked_from_another_thread(engine: Engine) -> None:
    sender = StubSender()
    relay = OutboxRelay(engine, sender, poll_interval=0.05)
    totals: list[RelayResult] = []
    worker = threading.Thread(target=lambda: totals.append(relay.run_forever()))
    worker.start()
    try:
        stage_all(engine, [message(f"k{index}") for index in range(20)])
        deadline = time.monotonic() + 20
        while counts(engine).get(SENT, 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        relay.stop()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert totals == [RelayResult(claimed=20, sent=20, retried=0, dead=0)]
    assert relay.stopping


def test_run_forever_waits_out_database_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sqlite_engine(tmp_path / "late.db")  # no tables yet: every claim fails
    sender = StubSender()
    relay = OutboxRelay(engine, sender, poll_interval=0.05, backoff_initial=0.05)
    worker = threading.Thread(target=relay.run_forever)
    with caplog.at_level(logging.ERROR, logger="ticketland_vibe.outbox"):
        worker.start()
        try:
            time.sleep(0.5)
            create_tables(engine)
            stage_all(engine, [message("a")])
            deadline = time.monotonic() + 20
            while not sender.sent and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            relay.stop()
            worker.join(timeout=10)
    assert sender.values() == ["a:v0"]
    assert "outbox batch failed error=OperationalError" in caplog.text
    assert "SELECT" not in caplog.text  # no SQL, no parameters
    engine.dispose()


# -- housekeeping and operator actions --------------------------------------------------------


def test_purge_deletes_only_old_sent_rows(engine: Engine) -> None:
    stage_all(engine, [message(f"k{index}") for index in range(12)])
    OutboxRelay(engine, StubSender()).run_once()
    stage_all(engine, [message("pending-1")])
    stage_all(engine, [message("dead-1")])
    old = datetime.now(timezone.utc) - timedelta(days=8)
    table = outbox_table
    with engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.key.in_([f"k{i}" for i in range(10)]))
            .values(sent_at=old)
        )
        connection.execute(
            sa.update(table).where(table.c.key == "dead-1").values(status=DEAD, sent_at=old)
        )

    assert purge_sent(engine, older_than=timedelta(days=7), chunk_size=3) == 10
    assert sorted(row.key for row in rows(engine)) == ["dead-1", "k10", "k11", "pending-1"]
    relay = OutboxRelay(engine, StubSender(), retention=timedelta(seconds=30))
    assert relay.housekeep() == 0
    with pytest.raises(ValueError, match="older_than"):
        purge_sent(engine, older_than=timedelta(days=-1))


def test_requeue_dead_puts_back_only_the_newest_row_of_a_key(engine: Engine) -> None:
    stage_all(engine, [message("a", 0), message("b", 0), message("a", 1), message("c", 0)])
    too_large = {b"a:v0", b"b:v0", b"a:v1"}
    sender = StubSender(
        lambda m: (
            MessageTooLarge("too large", code="MSG_SIZE_TOO_LARGE")
            if m.value in too_large
            else None
        )
    )
    relay = OutboxRelay(engine, sender)
    drained = relay.run_once() + relay.run_once()
    assert drained == RelayResult(claimed=4, sent=1, retried=0, dead=3)

    ids = {bytes(row.value): row.id for row in rows(engine)}
    assert requeue_dead(engine, ids=[]).requeued == 0
    assert requeue_dead(engine, ids=[ids[b"b:v0"]]) == RequeueResult(requeued=1, superseded=0)
    result = requeue_dead(engine)
    assert result == RequeueResult(requeued=1, superseded=1)  # a:v1 back; a:v0 stays dead

    too_large.clear()
    assert relay.run_once() == RelayResult(claimed=2, sent=2, retried=0, dead=0)
    assert sender.values() == ["c:v0", "b:v0", "a:v1"]
    statuses = {bytes(row.value): (row.status, row.attempts) for row in rows(engine)}
    assert statuses[b"a:v0"] == (DEAD, 1)
    assert statuses[b"a:v1"] == (SENT, 1)


# -- the example job -------------------------------------------------------------------------


def test_example_outbox_job_runs_on_the_embedded_cluster(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "outbox_job.py"),
            "--database",
            str(tmp_path / "shop.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    assert "rolled back: nothing staged" in output
    assert "relay: claimed=2 sent=2 retried=0 dead=0" in output
    assert "event ev-1001" in output
    assert "order ord-5001" in output
    for value in PERSONAL_VALUES:
        assert value not in output
