"""The test broker itself: listeners, security, topics, and the controls fault tests use."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from tests.harness.broker import (
    JARS_DIR,
    REPO_ROOT,
    BrokerError,
    KafkaBroker,
    consume,
    ensure_jars,
    make_ca,
)

pytestmark = pytest.mark.kafka

# How long a client may take to report a refused login or an untrusted certificate. librdkafka
# reports both on the first connection (well under a second here); the bound stops a hang.
ERROR_BOUND_S = 15.0

_client_log = logging.getLogger("tests.test_broker_harness.rdkafka")
_client_log.addHandler(logging.NullHandler())
_client_log.propagate = False


def _produce(config: dict[str, Any], topic: str, records: list[dict[str, Any]]) -> list[Message]:
    """Produce with acks=all and return the delivery reports, failing on any error."""
    reports: list[tuple[KafkaError | None, Message]] = []
    producer = Producer(
        {**config, "acks": "all", "enable.idempotence": True, "logger": _client_log}
    )
    for record in records:
        producer.produce(topic, on_delivery=lambda err, msg: reports.append((err, msg)), **record)
    remaining = producer.flush(30)
    assert remaining == 0, f"{remaining} messages not delivered within 30 s"
    assert [err for err, _ in reports] == [None] * len(records)
    return [msg for _, msg in reports]


def _first_error(config: dict[str, Any]) -> tuple[KafkaError, float]:
    """Start a producer and return the first error its error_cb reports, and when (s)."""
    errors: list[KafkaError] = []
    producer = Producer({**config, "error_cb": errors.append, "logger": _client_log})
    started = time.monotonic()
    deadline = started + ERROR_BOUND_S
    while not errors and time.monotonic() < deadline:
        producer.poll(0.1)
    elapsed = time.monotonic() - started
    producer.flush(0)
    assert errors, f"no error reported within {ERROR_BOUND_S} s"
    return errors[0], elapsed


# ---------------------------------------------------------------------------------------------
# PLAINTEXT


def test_plaintext_round_trip_with_keys_and_headers(kafka_broker: KafkaBroker, topic: str) -> None:
    records = [
        {
            "key": f"key-{i}".encode(),
            "value": f"value-{i}".encode(),
            "headers": [("event-type", f"type-{i}".encode()), ("seq", str(i).encode())],
        }
        for i in range(3)
    ]
    reports = _produce(kafka_broker.client_config(), topic, records)
    assert [m.offset() for m in reports] == [0, 1, 2]

    messages = consume(kafka_broker.client_config(), topic, 3, timeout=30)

    assert [(m.topic(), m.partition(), m.offset()) for m in messages] == [
        (topic, 0, 0),
        (topic, 0, 1),
        (topic, 0, 2),
    ]
    assert [m.key() for m in messages] == [b"key-0", b"key-1", b"key-2"]
    assert [m.value() for m in messages] == [b"value-0", b"value-1", b"value-2"]
    assert [m.headers() for m in messages] == [
        [("event-type", b"type-0"), ("seq", b"0")],
        [("event-type", b"type-1"), ("seq", b"1")],
        [("event-type", b"type-2"), ("seq", b"2")],
    ]


def test_each_consume_is_a_new_group_from_the_start(kafka_broker: KafkaBroker, topic: str) -> None:
    _produce(kafka_broker.client_config(), topic, [{"value": b"only"}])
    first = kafka_broker.consume(topic, 1)
    second = kafka_broker.consume(topic, 1)
    assert [m.value() for m in first] == [b"only"]
    assert [m.value() for m in second] == [b"only"]


def test_consume_stops_at_its_timeout(kafka_broker: KafkaBroker, topic: str) -> None:
    _produce(kafka_broker.client_config(), topic, [{"value": b"one"}])
    started = time.monotonic()
    messages = kafka_broker.consume(topic, 2, timeout=2)
    elapsed = time.monotonic() - started
    assert [m.value() for m in messages] == [b"one"]
    assert 2 <= elapsed < 6


def test_create_topic_partitions_and_config(kafka_broker: KafkaBroker) -> None:
    name = kafka_broker.create_topic("orders", partitions=3, config={"retention.ms": "3600000"})
    assert name.startswith("orders-")
    assert name != kafka_broker.create_topic("orders")
    metadata = kafka_broker.admin().list_topics(topic=name, timeout=10)
    assert sorted(metadata.topics[name].partitions) == [0, 1, 2]


def test_auto_topic_creation_is_on(kafka_broker: KafkaBroker) -> None:
    name = f"auto-{uuid.uuid4().hex}"
    _produce(kafka_broker.client_config(), name, [{"value": b"created on first use"}])
    assert [m.value() for m in kafka_broker.consume(name, 1)] == [b"created on first use"]


# ---------------------------------------------------------------------------------------------
# SASL_SSL with SCRAM-SHA-512


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_sasl_ssl_round_trip(kafka_broker: KafkaBroker, topic: str, host: str) -> None:
    port = kafka_broker.sasl_bootstrap.rsplit(":", 1)[1]
    # Both names are in the certificate; librdkafka verifies the host name by default.
    config = kafka_broker.sasl_client_config(bootstrap_servers=f"{host}:{port}")
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"

    _produce(config, topic, [{"key": b"k", "value": b"over SASL_SSL"}])
    messages = consume(config, topic, 1, timeout=30)

    assert [(m.key(), m.value()) for m in messages] == [(b"k", b"over SASL_SSL")]


def test_sasl_ssl_wrong_password_is_an_authentication_error(kafka_broker: KafkaBroker) -> None:
    config = kafka_broker.sasl_client_config(sasl_password="not-" + kafka_broker.password)

    error, elapsed = _first_error(config)

    assert error.code() == KafkaError._AUTHENTICATION, error
    assert "invalid credentials" in error.str()
    assert "SCRAM-SHA-512" in error.str()
    assert elapsed < 10


def test_sasl_ssl_wrong_ca_is_a_tls_error(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    other_ca, _ = make_ca(tmp_path, "other-ca")
    config = kafka_broker.sasl_client_config(ssl_ca_location=str(other_ca))

    error, elapsed = _first_error(config)

    # librdkafka 2.x reports a failed handshake as _SSL ("SSL handshake failed: ...certificate
    # verify failed..."), except when OpenSSL's verdict surfaces first in its write path: then
    # it is _TRANSPORT with the same OpenSSL reason (about 1 run in 10 here). Both are a refusal
    # of the certificate, which is what this checks.
    assert error.code() in (KafkaError._SSL, KafkaError._TRANSPORT), error
    assert "certificate verify failed" in error.str(), error
    assert elapsed < 10


def test_plaintext_client_on_the_sasl_port_gets_nothing(kafka_broker: KafkaBroker) -> None:
    """The SASL_SSL listener does not answer PLAINTEXT: list_topics fails, bounded."""
    admin = kafka_broker.admin(bootstrap_servers=kafka_broker.sasl_bootstrap)
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=1)


# ---------------------------------------------------------------------------------------------
# The broker process


def test_session_broker_facts(kafka_broker: KafkaBroker) -> None:
    assert kafka_broker.running
    assert kafka_broker.bootstrap.startswith("127.0.0.1:")
    assert kafka_broker.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "Kafka Server started" in kafka_broker.log_file.read_text()
    assert 50 < kafka_broker.rss_mib() < 1024
    pid = kafka_broker.pid
    kafka_broker.start()  # already running: a no-op
    assert kafka_broker.pid == pid


def test_kill_restart_keeps_acknowledged_messages(
    kafka_broker_factory: Callable[..., KafkaBroker],
) -> None:
    broker = kafka_broker_factory()
    topic = broker.create_topic("durable")
    _produce(broker.client_config(), topic, [{"value": f"m{i}".encode()} for i in range(5)])
    old_pid, old_ports = broker.pid, (broker.bootstrap, broker.sasl_bootstrap)
    assert old_pid is not None

    broker.kill()

    assert not broker.running
    assert not Path(f"/proc/{old_pid}").exists()
    broker.start()
    assert broker.pid not in (None, old_pid)
    assert (broker.bootstrap, broker.sasl_bootstrap) == old_ports
    _produce(broker.client_config(), topic, [{"value": b"after restart"}])
    values = [m.value() for m in broker.consume(topic, 6)]
    assert values == [b"m0", b"m1", b"m2", b"m3", b"m4", b"after restart"]
    # The SCRAM user lives in the metadata log: it survives too.
    assert [m.value() for m in consume(broker.sasl_client_config(), topic, 1)] == [b"m0"]

    broker.restart()  # a clean stop and start
    assert [m.value() for m in broker.consume(topic, 6)][-1] == b"after restart"


def test_pause_and_resume(kafka_broker_factory: Callable[..., KafkaBroker]) -> None:
    broker = kafka_broker_factory()
    topic = broker.create_topic("paused")
    pid = broker.pid
    admin = broker.admin()

    broker.pause()
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split()[0]
        assert state == "T"  # stopped
        started = time.monotonic()
        with pytest.raises(KafkaException):
            admin.list_topics(topic=topic, timeout=2)
        assert time.monotonic() - started < 5
    finally:
        broker.resume()

    assert broker.pid == pid
    _produce(broker.client_config(), topic, [{"value": b"after resume"}])
    assert [m.value() for m in broker.consume(topic, 1)] == [b"after resume"]

    # stop() of a paused broker: SIGTERM plus SIGCONT, a clean exit, not a hang.
    broker.pause()
    started = time.monotonic()
    broker.stop()
    assert time.monotonic() - started < 20
    assert not broker.running
    assert not Path(f"/proc/{pid}").exists()


def test_startup_failure_raises_with_the_log_tail(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path, heap="1k")  # the JVM refuses so small a heap
    with pytest.raises(BrokerError) as info:
        broker.start()
    message = str(info.value)
    assert str(broker.log_file) in message
    assert "heap" in message.lower()
    assert not broker.running
    broker.close()


def test_a_fixed_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = KafkaBroker(tmp_path, port=taken.getsockname()[1])
        with pytest.raises(BrokerError, match="already in use"):
            broker.start()
    assert not broker.running


def test_resolved_jars_are_not_resolved_again(tmp_path: Path) -> None:
    """Once the jars match tests/kafka/pom.xml, dev/kafka-jars.sh does not even start Maven."""
    ensure_jars()
    assert any(JARS_DIR.glob("kafka_2.13-*.jar"))
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "mvn-was-run"
    fake_mvn = fake_bin / "mvn"
    fake_mvn.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    fake_mvn.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}

    result = subprocess.run(
        ["bash", str(REPO_ROOT / "dev" / "kafka-jars.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert result.stderr == ""
