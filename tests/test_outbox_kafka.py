"""The outbox end to end: stage in real transactions (SQLite, PostgreSQL), relay to the real
broker, read back with a separate consumer; crashes, SIGTERM, a broker outage, a poison row,
two relays at once."""

from __future__ import annotations

import json
import os
import queue
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from confluent_kafka import Message
from sqlalchemy.engine import Engine

import ticketland_vibe as tv
from tests.harness.broker import KafkaBroker
from tests.harness.postgres import PostgresServer
from tests.outbox_support import counts, drain, engine_for, make_event, make_order
from ticketland_vibe.outbox import (
    DEAD,
    PENDING,
    SENT,
    OutboxRelay,
    RelayResult,
    SqlEventLedger,
    create_tables,
    outbox_table,
    stage,
    stage_many,
)

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[1]
PERSONAL_VALUES = ("anna.petrova@example.com", "+79167654321", "9167654321", "Анна", "Петрова")

business = sa.MetaData()
order_versions = sa.Table(
    "shop_order_versions",
    business,
    sa.Column("order_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
)


class Declined(Exception):
    """Makes a business transaction roll back."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(URL, engine) of a fresh database with the outbox and a business table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'outbox.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
    engine = engine_for(url)
    create_tables(engine)
    business.create_all(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()


@pytest.fixture
def postgres(postgres_server: PostgresServer) -> Iterator[tuple[str, Engine]]:
    url = postgres_server.create_database()
    engine = engine_for(url)
    create_tables(engine)
    business.create_all(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()


def make_topics(broker: KafkaBroker, **orders_config: str) -> dict[str, str]:
    return {
        "events_topic": broker.create_topic("outbox-events"),
        "orders_topic": broker.create_topic("outbox-orders", partitions=3, config=orders_config),
    }


def publisher_for(
    broker: KafkaBroker, topics: dict[str, str], engine: Engine, **extra: Any
) -> tv.VibePublisher:
    settings = tv.PublisherSettings(bootstrap_servers=broker.bootstrap, **topics, **extra)
    return tv.VibePublisher(settings, ledger=SqlEventLedger(engine))


def save_version(
    engine: Engine, message: tv.OutgoingMessage, version: int, *, declined: bool = False
) -> None:
    """One business transaction: record the order's new version and stage its message."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(order_versions).values(order_id=message.key.decode(), version=version)
        )
        stage(connection, message)
        if declined:
            raise Declined


def read_all(broker: KafkaBroker, topic: str) -> list[Message]:
    """Every message of the topic, read by a separate consumer."""
    size = broker.message_count(topic)
    messages = broker.consume(topic, size, timeout=60)
    assert len(messages) == size
    return messages


def version_of(message: Message) -> tuple[str, int]:
    """(order id, version) from the order number ``N-<id>-v<version>``."""
    number = json.loads(message.value() or b"")["number"]
    match = re.fullmatch(r"N-(.+)-v(\d+)", number)
    assert match is not None, number
    return match.group(1), int(match.group(2))


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


class Runner:
    """``python -m tests.outbox_runner`` in a process of its own, its stdout read by a thread."""

    def __init__(self, url: str, broker: KafkaBroker, topics: dict[str, str], **options: Any):
        command = [
            sys.executable, "-m", "tests.outbox_runner", "--url", url,
            "--bootstrap", broker.bootstrap,
            "--events-topic", topics["events_topic"], "--orders-topic", topics["orders_topic"],
        ]  # fmt: skip
        for name, value in options.items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str:
        """The next line that starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and self.lines.empty()):
                raise AssertionError(
                    f"no line {prefix!r}; output so far:\n" + "\n".join(self.seen)
                )
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def output(self) -> str:
        self._reader.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "\n".join(self.seen)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture
def runners() -> Iterator[Callable[..., Runner]]:
    started: list[Runner] = []

    def start(*args: Any, **options: Any) -> Runner:
        runner = Runner(*args, **options)
        started.append(runner)
        return runner

    try:
        yield start
    finally:
        for runner in started:
            runner.close()


def stage_orders(engine: Engine, publisher: tv.VibePublisher, count: int, per_tx: int) -> None:
    """The event ``ev-1001``, then ``count`` orders for it, ``per_tx`` in each transaction."""
    with engine.begin() as connection:
        stage(connection, publisher.prepare_event(make_event("ev-1001")))
    messages = [publisher.prepare_order(make_order(f"ord-{index:04d}")) for index in range(count)]
    for start in range(0, count, per_tx):
        with engine.begin() as connection:
            stage_many(connection, messages[start : start + per_tx])


# -- the tests ------------------------------------------------------------------------------


def test_committed_orders_arrive_rolled_back_ones_never_and_versions_in_order(
    database: tuple[str, Engine], kafka_broker: KafkaBroker
) -> None:
    _url, engine = database
    topics = make_topics(kafka_broker)
    rng = random.Random(1000)
    ids = [f"ord-{index:03d}" for index in range(250)]
    plan = [(order_id, version) for version in range(4) for order_id in ids]
    declined = set(rng.sample(range(len(plan)), 100))
    expected: dict[str, list[int]] = defaultdict(list)

    with publisher_for(kafka_broker, topics, engine) as publisher:
        events = [publisher.prepare_event(make_event(f"ev-{n}")) for n in range(10)]
        with engine.begin() as connection:
            stage_many(connection, events)
        for index, (order_id, version) in enumerate(plan):
            event_id = f"ev-{int(order_id[4:]) % 10}"
            message = publisher.prepare_order(make_order(order_id, version, event_id))
            try:
                save_version(engine, message, version, declined=index in declined)
            except Declined:
                continue
            expected[order_id].append(version)
        assert counts(engine) == {PENDING: 910}

        total = drain(OutboxRelay(engine, publisher, batch_size=200), timeout=120)
    assert total.sent == 910
    assert total.dead == 0

    orders = kafka_broker.consume(topics["orders_topic"], 900, timeout=60)
    assert len(orders) == 900
    arrived: dict[str, list[int]] = defaultdict(list)
    for record in orders:
        order_id, version = version_of(record)
        assert (record.key() or b"").decode() == order_id
        arrived[order_id].append(version)
    assert arrived == expected  # exactly the committed ones, each key in version order
    assert kafka_broker.message_count(topics["orders_topic"]) == 900

    # Events before orders: each order was appended after its event.
    delivered_events = kafka_broker.consume(topics["events_topic"], 10, timeout=30)
    event_time = {(m.key() or b"").decode(): m.timestamp()[1] for m in delivered_events}
    for record in orders:
        event_id = json.loads(record.value() or b"")["tickets"][0]["event_id"]
        assert event_time[event_id] <= record.timestamp()[1]


@pytest.mark.slow
def test_relay_killed_between_delivery_and_recording_loses_nothing(
    database: tuple[str, Engine],
    kafka_broker: KafkaBroker,
    runners: Callable[..., Runner],
) -> None:
    url, engine = database
    topics = make_topics(kafka_broker)
    batch = 50
    with publisher_for(kafka_broker, topics, engine) as publisher:
        stage_orders(engine, publisher, count=600, per_tx=40)

        runner = runners(url, kafka_broker, topics, batch_size=batch, hold=1.5)
        runner.wait_for("runner ready")
        runner.wait_for("runner delivered")  # the first batch: recorded after the hold
        claimed = runner.wait_for("DEBUG ticketland_vibe.outbox outbox claimed")
        runner.wait_for("runner delivered")  # the second batch is delivered, not yet recorded
        runner.proc.send_signal(signal.SIGKILL)
        runner.proc.wait(timeout=30)

        first, last = (int(n) for n in re.findall(r"_id=(\d+)", claimed))
        in_flight = {row.key for row in rows(engine) if first <= row.id <= last}
        assert len(in_flight) == batch
        status = counts(engine)
        assert status[SENT] == batch  # the first batch only: some rows sent, not all
        assert status[PENDING] == 601 - batch

        total = drain(OutboxRelay(engine, publisher, batch_size=batch), timeout=120)
    assert total.dead == 0
    assert counts(engine) == {SENT: 601}

    arrivals = Counter(
        (m.key() or b"").decode() for m in read_all(kafka_broker, topics["orders_topic"])
    )
    assert set(arrivals) == {f"ord-{index:04d}" for index in range(600)}  # nothing lost
    duplicated = {key for key, seen in arrivals.items() if seen > 1}
    assert duplicated == in_flight  # at most the batch in flight, sent twice
    assert max(arrivals.values()) == 2


def test_sigterm_lets_the_batch_in_flight_finish_and_be_recorded(
    database: tuple[str, Engine],
    kafka_broker: KafkaBroker,
    runners: Callable[..., Runner],
) -> None:
    url, engine = database
    topics = make_topics(kafka_broker)
    batch = 40
    with publisher_for(kafka_broker, topics, engine) as publisher:
        stage_orders(engine, publisher, count=200, per_tx=50)
    runner = runners(url, kafka_broker, topics, batch_size=batch, hold=1.5)
    runner.wait_for("runner ready")
    claimed = runner.wait_for("DEBUG ticketland_vibe.outbox outbox claimed")
    runner.wait_for("runner delivered")  # delivered, not recorded yet
    runner.proc.send_signal(signal.SIGTERM)
    assert runner.proc.wait(timeout=60) == 0
    output = runner.output()
    assert "outbox relay stopped reason=SIGTERM" in output
    assert f"runner stopped claimed={batch} sent={batch}" in output

    first, last = (int(n) for n in re.findall(r"_id=(\d+)", claimed))
    stored = rows(engine)
    in_flight = [row for row in stored if first <= row.id <= last]
    assert len(in_flight) == batch
    assert all(row.status == SENT and row.offset is not None for row in in_flight)
    assert all(row.status == PENDING for row in stored if row.id > last)
    assert kafka_broker.message_count(topics["orders_topic"]) == batch - 1  # the event was first


@pytest.mark.slow
@pytest.mark.postgres
def test_a_broker_outage_only_delays_the_rows(
    postgres: tuple[str, Engine],
    kafka_broker_factory: Callable[..., KafkaBroker],
) -> None:
    _url, engine = postgres
    broker = kafka_broker_factory()
    topics = make_topics(broker)
    quick = {"delivery_timeout": 4.0, "retry_attempts": 2, "retry_total_timeout": 8.0}
    with publisher_for(broker, topics, engine, **quick) as publisher:
        stage_orders(engine, publisher, count=100, per_tx=20)
        relay = OutboxRelay(
            engine, publisher, batch_size=50, poll_interval=0.1, backoff_initial=0.5,
            backoff_max=4.0, max_attempts=100,
        )  # fmt: skip
        totals: list[RelayResult] = []
        worker = threading.Thread(target=lambda: totals.append(relay.run_forever()), daemon=True)

        writing = threading.Event()
        written: list[str] = []

        def write() -> None:
            # New orders keep coming while the broker is away: one every 50 ms.
            for index in range(400):
                if not writing.is_set():
                    return
                message = publisher.prepare_order(make_order(f"late-{index:04d}"))
                save_version(engine, message, 0)
                written.append(f"late-{index:04d}")
                time.sleep(0.05)

        writer = threading.Thread(target=write, daemon=True)
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while counts(engine).get(SENT, 0) < 101 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert counts(engine).get(SENT, 0) == 101
            writing.set()
            writer.start()
            broker.stop()
            time.sleep(20)
            broker.start()
            time.sleep(2)
            writing.clear()
            writer.join(timeout=30)
            deadline = time.monotonic() + 120
            while counts(engine).get(PENDING, 0) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            relay.stop()
            worker.join(timeout=120)
    assert not worker.is_alive()
    assert counts(engine) == {SENT: 101 + len(written)}  # nothing dead
    assert totals[0].dead == 0
    assert totals[0].retried > 0  # the rows did wait and retry
    assert len(written) > 300

    keys = {(m.key() or b"").decode() for m in read_all(broker, topics["orders_topic"])}
    assert keys == {f"ord-{i:04d}" for i in range(100)} | set(written)


def test_a_poison_row_is_dead_and_the_rows_behind_it_are_delivered(
    database: tuple[str, Engine], kafka_broker: KafkaBroker
) -> None:
    _url, engine = database
    topics = make_topics(kafka_broker, **{"max.message.bytes": "4000"})
    with publisher_for(kafka_broker, topics, engine) as publisher:
        poison = make_order("ord-poison")
        poison["tickets"][0]["description"] = secrets.token_urlsafe(9000)  # lz4 cannot shrink it
        messages = [publisher.prepare_event(make_event("ev-1001"))]
        messages += [publisher.prepare_order(make_order(f"ord-{n}")) for n in range(5)]
        messages.append(publisher.prepare_order(poison))
        messages += [publisher.prepare_order(make_order(f"ord-{n}")) for n in range(5, 10)]
        messages.append(publisher.prepare_order(make_order("ord-poison", version=1)))
        with engine.begin() as connection:
            stage_many(connection, messages)

        total = drain(OutboxRelay(engine, publisher), timeout=60)
    assert total.dead == 1
    assert total.sent == 12

    dead = [row for row in rows(engine) if row.status == DEAD]
    assert len(dead) == 1
    assert dead[0].key == "ord-poison"
    assert dead[0].last_error.startswith("MessageTooLarge code=MSG_SIZE_TOO_LARGE: ")
    for value in PERSONAL_VALUES:
        assert value not in dead[0].last_error

    arrived = [version_of(m) for m in read_all(kafka_broker, topics["orders_topic"])]
    assert sorted(arrived) == sorted(
        [(f"ord-{n}", 0) for n in range(10)] + [("ord-poison", 1)]
    )  # the later version of the poisoned key went out too


@pytest.mark.postgres
def test_two_relays_on_postgres_send_each_row_once(
    postgres: tuple[str, Engine], kafka_broker: KafkaBroker
) -> None:
    _url, engine = postgres
    topics = make_topics(kafka_broker)
    with publisher_for(kafka_broker, topics, engine) as preparer:
        with engine.begin() as connection:
            stage(connection, preparer.prepare_event(make_event("ev-1001")))
        for version in range(3):
            messages = [
                preparer.prepare_order(make_order(f"ord-{index:04d}", version))
                for index in range(500)
            ]
            for start in range(0, len(messages), 100):
                with engine.begin() as connection:
                    stage_many(connection, messages[start : start + 100])

    publishers = [publisher_for(kafka_broker, topics, engine) for _ in range(2)]
    relays = [
        OutboxRelay(engine, publisher, batch_size=25, poll_interval=0.05, backoff_initial=0.2)
        for publisher in publishers
    ]
    totals: dict[int, RelayResult] = {}
    workers = [
        threading.Thread(target=lambda n=n: totals.update({n: relays[n].run_forever()}))
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 120
        while counts(engine).get(PENDING, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for relay in relays:
            relay.stop()
        for worker in workers:
            worker.join(timeout=60)
        for publisher in publishers:
            publisher.close()
    assert counts(engine) == {SENT: 1501}
    assert all(totals[n].sent > 100 for n in range(2)), totals  # both did a share of the work
    assert totals[0].sent + totals[1].sent == 1501

    arrived = [version_of(m) for m in read_all(kafka_broker, topics["orders_topic"])]
    assert len(arrived) == len(set(arrived)) == 1500  # no row sent twice
    by_key: dict[str, list[int]] = defaultdict(list)
    for order_id, version in arrived:
        by_key[order_id].append(version)
    assert all(versions == [0, 1, 2] for versions in by_key.values())
