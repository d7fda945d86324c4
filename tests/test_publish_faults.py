"""The publisher while the real broker fails: outages are retried, nothing acknowledged is lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

import ticketland_vibe as tv
from tests.harness.broker import KafkaBroker
from ticketland_vibe._examples import EXAMPLE_EVENT

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_an_outage_is_retried_until_the_broker_is_back(
    kafka_broker_factory: Callable[..., KafkaBroker], caplog: pytest.LogCaptureFixture
) -> None:
    broker = kafka_broker_factory()
    topic = broker.create_topic("outage")
    settings = tv.PublisherSettings(
        bootstrap_servers=broker.bootstrap,
        events_topic=topic,
        delivery_timeout=3,
        retry_attempts=10,
        retry_initial_backoff=0.5,
        retry_max_backoff=2,
    )
    retried: list[str] = []
    with tv.VibePublisher(settings) as publisher:
        publisher.instrumentation.subscribe(
            "message.retried", lambda _name, payload: retried.append(payload["error"].code)
        )
        publisher.publish_event(EXAMPLE_EVENT)
        broker.stop()
        restart = threading.Timer(6.0, broker.start)
        restart.start()
        try:
            with caplog.at_level(logging.WARNING, "ticketland_vibe"):
                delivery = publisher.publish_event({**EXAMPLE_EVENT, "name": "после сбоя"})
        finally:
            restart.join()

    assert retried, "the outage should have needed at least one library-level retry"
    assert "message retry entity=event" in caplog.text
    assert delivery.topic == topic
    names = [m.value() for m in broker.consume(topic, 2, timeout=30)]
    assert len(names) >= 2
    assert any("после сбоя".encode() in (value or b"") for value in names)


def test_acknowledged_messages_survive_a_kill_and_a_paused_broker_times_out_retriably(
    kafka_broker_factory: Callable[..., KafkaBroker],
) -> None:
    broker = kafka_broker_factory()
    topic = broker.create_topic("kill")
    settings = tv.PublisherSettings(
        bootstrap_servers=broker.bootstrap,
        events_topic=topic,
        delivery_timeout=2,
        retry_attempts=1,
    )
    with tv.VibePublisher(settings) as publisher:
        acknowledged = publisher.send_many(
            [publisher.prepare_event({**EXAMPLE_EVENT, "id": f"ev-{i}"}) for i in range(20)]
        )
        assert all(isinstance(result, tv.Delivery) for result in acknowledged)

        broker.pause()
        try:
            with pytest.raises(tv.PublishError) as caught:
                publisher.publish_event({**EXAMPLE_EVENT, "id": "ev-paused"})
        finally:
            broker.resume()
        assert caught.value.retriable
        publisher.close(timeout=5)

    broker.kill()
    broker.start()
    keys = {m.key() for m in broker.consume(topic, 20, timeout=30)}
    assert {f"ev-{i}".encode() for i in range(20)} <= keys
