"""The in-memory broker for users' tests: the real publisher, no network."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, Producer

import ticketland_vibe as tv
from tests.harness.broker import KafkaBroker
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER, EXAMPLE_REFUND
from ticketland_vibe.errors import AuthorizationFailed, EventNotPublished, InvalidMessage
from ticketland_vibe.testing import InMemoryBroker, memory_publisher, murmur2_partition


def test_published_messages_are_stored_with_key_headers_and_bytes() -> None:
    publisher, broker = memory_publisher()
    with publisher:
        delivery = publisher.publish_order(EXAMPLE_ORDER, events=[EXAMPLE_EVENT])
        publisher.publish_refund(EXAMPLE_REFUND, refund_id="ref-1", application_id="bank-app")
        prepared = publisher.prepare_order(EXAMPLE_ORDER)

    (order,) = broker.records("orders")
    assert (order.key, order.offset, order.partition) == (b"ord-5001", 0, delivery.partition)
    assert order.value == prepared.value
    assert order.headers == prepared.headers
    assert [r.key for r in broker.records("events")] == [b"ev-1001"]
    (refund,) = broker.records("refunds")
    assert refund.header("application-id") == b"bank-app"
    assert broker.decoded("order", "orders") == [tv.Order.model_validate(EXAMPLE_ORDER)]


def test_the_contract_rules_apply_as_with_kafka() -> None:
    publisher, broker = memory_publisher()
    with publisher:
        with pytest.raises(EventNotPublished):
            publisher.publish_order(EXAMPLE_ORDER)
        with pytest.raises(InvalidMessage):
            publisher.publish_event({**EXAMPLE_EVENT, "offset": 30})
    assert broker.records("orders") == []
    assert broker.records("events") == []


def test_injected_failures_are_retried_or_reported() -> None:
    publisher, broker = memory_publisher()
    retries: list[object] = []
    publisher.instrumentation.subscribe("message.retried", lambda _n, p: retries.append(p))
    with publisher:
        broker.fail_next(2)  # timeouts: retried
        publisher.publish_event(EXAMPLE_EVENT)
        broker.fail_next(1, KafkaError.TOPIC_AUTHORIZATION_FAILED)  # permanent: not retried
        with pytest.raises(AuthorizationFailed):
            publisher.publish_event(EXAMPLE_EVENT)
    assert len(retries) == 2
    assert len(broker.records("events")) == 1


@pytest.mark.kafka
def test_murmur2_matches_the_real_brokers_partitions(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic("murmur2", partitions=7)
    producer = Producer({**kafka_broker.client_config(), "partitioner": "murmur2_random"})
    keys = [f"ord-{i}".encode() for i in range(60)] + [b"", b"a", b"ab", b"abc", "ж".encode()]
    seen: dict[bytes, int] = {}

    def report(error: KafkaError | None, msg: object) -> None:
        assert error is None
        seen[msg.key()] = msg.partition()  # type: ignore[attr-defined]

    for key in keys:
        producer.produce(topic, value=b"x", key=key, on_delivery=report)
    assert producer.flush(15) == 0
    assert seen == {key: murmur2_partition(key, 7) for key in keys}


def test_a_broker_can_be_shared_and_partitioned() -> None:
    broker = InMemoryBroker(partitions=4)
    first, _ = memory_publisher(broker=broker)
    second, same = memory_publisher(broker=broker)
    assert same is broker
    with first, second:
        first.publish_event(EXAMPLE_EVENT)
        again = second.publish_event(EXAMPLE_EVENT)
    assert again.partition == murmur2_partition(b"ev-1001", 4)
    assert again.offset == 1


def test_a_fatal_error_replaces_the_producer_and_its_message_is_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher, broker = memory_publisher()
    replaced: list[int] = []
    publisher.instrumentation.subscribe(
        "producer.replaced", lambda _name, payload: replaced.append(payload["affected"])
    )
    with publisher:
        first = publisher._producer
        broker.fail_next(1, KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, fatal=True)
        delivery = publisher.publish_event(EXAMPLE_EVENT)
        assert publisher._producer is not first
    assert delivery.offset == 0
    assert len(replaced) == 1
    assert [record.key for record in broker.records("events")] == [b"ev-1001"]
    assert "producer replaced" in caplog.text
