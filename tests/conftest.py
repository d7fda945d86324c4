"""Shared pytest fixtures."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from tests.harness.broker import KafkaBroker
from tests.harness.postgres import PostgresServer

# =============================================================================================
# Real Kafka broker (tests/harness/broker.py). Tests that use these are marked
# @pytest.mark.kafka. The broker's log is <pytest basetemp>/kafka-broker0/broker.log.
# =============================================================================================


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One broker for the whole session (jars resolved first). Do not kill or pause it: use
    ``kafka_broker_factory`` for a broker of your own."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka-broker"))
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture
def kafka_broker_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., KafkaBroker]]:
    """Start private brokers (same arguments as ``KafkaBroker``), closed after the test; for
    tests that stop, kill or pause the broker."""
    brokers: list[KafkaBroker] = []

    def make(**kwargs: Any) -> KafkaBroker:
        broker = KafkaBroker(tmp_path_factory.mktemp("kafka-private"), **kwargs)
        brokers.append(broker)
        broker.start()
        return broker

    try:
        yield make
    finally:
        for broker in brokers:
            broker.close()


@pytest.fixture
def topic(kafka_broker: KafkaBroker, request: pytest.FixtureRequest) -> str:
    """A new, empty, one-partition topic on the session broker, named after the test."""
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:80].strip("-.")
    return kafka_broker.create_topic(prefix or "test")


# =============================================================================================
# (end of the Kafka broker fixtures)
# =============================================================================================


# =============================================================================================
# Real PostgreSQL server (tests/harness/postgres.py). Tests that use these are marked
# @pytest.mark.postgres. The server binaries are installed by dev/install-postgres.sh when no
# initdb is found; the server's log is printed in the harness's errors.
# =============================================================================================


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, on a free 127.0.0.1 port (fsync off);
    ``.create_database()`` makes a fresh database and returns its URL."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://``) of a database made for the session."""
    return postgres_server.create_database("ticketland_vibe_test")


# =============================================================================================
# (end of the PostgreSQL fixtures)
# =============================================================================================


# =============================================================================================
# librdkafka's embedded mock cluster, for fast tests that need a cluster but not the real one.
# =============================================================================================


@pytest.fixture(scope="session")
def mock_bootstrap() -> Iterator[str]:
    """The bootstrap address of a mock cluster (it lives as long as its client)."""
    holder = AdminClient({"test.mock.num.brokers": 1})
    brokers = holder.list_topics(timeout=10).brokers.values()
    yield ",".join(f"{broker.host}:{broker.port}" for broker in brokers)
    del holder
