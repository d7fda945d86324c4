"""The library against the real broker: publish, then read back with a separate consumer."""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import ticketland_vibe as tv
from tests.harness.broker import KafkaBroker
from ticketland_vibe._examples import (
    EXAMPLE_EVENT,
    EXAMPLE_ORDER,
    EXAMPLE_REFUND,
    EXAMPLE_REFUND_ID,
)
from ticketland_vibe.errors import (
    AuthenticationFailed,
    EventNotPublished,
    InvalidMessage,
    MessageTooLarge,
)

pytestmark = pytest.mark.kafka

PERSONAL_VALUES = ("anna.petrova@example.com", "+79167654321", "9167654321", "Анна", "Петрова")


@pytest.fixture
def topics(kafka_broker: KafkaBroker) -> dict[str, str]:
    """Fresh events, orders and refunds topics for one test."""
    return {
        "events_topic": kafka_broker.create_topic("events", partitions=3),
        "orders_topic": kafka_broker.create_topic("orders", partitions=3),
        "refunds_topic": kafka_broker.create_topic("refunds", partitions=3),
    }


def make_settings(
    broker: KafkaBroker, topics: dict[str, str], **extra: Any
) -> tv.PublisherSettings:
    return tv.PublisherSettings(bootstrap_servers=broker.bootstrap, **topics, **extra)


@pytest.fixture
def publisher(kafka_broker: KafkaBroker, topics: dict[str, str]) -> Iterator[tv.VibePublisher]:
    with tv.VibePublisher(make_settings(kafka_broker, topics)) as publisher:
        yield publisher


def order_with(order_id: str, event_id: str = "ev-1001") -> dict[str, Any]:
    order = copy.deepcopy(EXAMPLE_ORDER)
    order["id"] = order_id
    for index, ticket in enumerate(order["tickets"]):
        ticket["id"] = f"{order_id}-t{index}"
        ticket["event_id"] = event_id
    return order


@pytest.mark.parametrize("message_format", ["json", "protobuf"])
@pytest.mark.parametrize("entity", ["event", "order", "refund"])
def test_each_entity_in_each_encoding_reaches_a_separate_consumer(
    kafka_broker: KafkaBroker, topics: dict[str, str], entity: str, message_format: str
) -> None:
    settings = make_settings(kafka_broker, topics, message_format=message_format)
    expected_model: Any
    with tv.VibePublisher(settings) as publisher:
        if entity == "event":
            delivery = publisher.publish_event(EXAMPLE_EVENT)
            expected_key, expected_model = b"ev-1001", tv.Event.model_validate(EXAMPLE_EVENT)
            prepared = publisher.prepare_event(EXAMPLE_EVENT)
        elif entity == "order":
            delivery = publisher.publish_order(
                EXAMPLE_ORDER, events=[EXAMPLE_EVENT], application_id="bank-app"
            )
            expected_key, expected_model = b"ord-5001", tv.Order.model_validate(EXAMPLE_ORDER)
            prepared = publisher.prepare_order(EXAMPLE_ORDER, application_id="bank-app")
        else:
            delivery = publisher.publish_refund(EXAMPLE_REFUND, refund_id=EXAMPLE_REFUND_ID)
            expected_key = EXAMPLE_REFUND_ID.encode()
            expected_model = tv.Refund.model_validate(EXAMPLE_REFUND)
            prepared = publisher.prepare_refund(EXAMPLE_REFUND, refund_id=EXAMPLE_REFUND_ID)

    topic = settings.topic_for(entity)
    assert delivery.topic == topic
    assert delivery.key == expected_key
    assert delivery.offset >= 0
    assert delivery.timestamp is not None

    messages = kafka_broker.consume(topic, 1, timeout=20)
    assert len(messages) == 1
    message = messages[0]
    assert message.key() == expected_key
    assert (message.partition(), message.offset()) == (delivery.partition, delivery.offset)
    content_type = {"json": b"application/json", "protobuf": b"application/x-protobuf"}
    application_id = b"bank-app" if entity == "order" else b"ticketland"
    assert message.headers() == [
        ("content-type", content_type[message_format]),
        ("schema-version", b"1.0"),
        ("application-id", application_id),
    ]
    assert message.value() == prepared.value
    decoded = tv.decode(entity, message.value() or b"", content_type[message_format].decode())
    assert decoded == expected_model


def test_json_bytes_on_the_wire_are_compact_utf8_without_nulls(
    kafka_broker: KafkaBroker, publisher: tv.VibePublisher, topics: dict[str, str]
) -> None:
    event = {k: v for k, v in EXAMPLE_EVENT.items() if k not in ("venue", "media")}
    publisher.publish_event(event)
    (message,) = kafka_broker.consume(topics["events_topic"], 1, timeout=20)
    value = message.value() or b""
    assert "Щелкунчик".encode() in value
    assert b"\\u" not in value
    assert b"null" not in value
    compact = json.dumps(json.loads(value), separators=(",", ":"), ensure_ascii=False)
    assert value == compact.encode()
    assert b'"venue"' not in value and b'"media"' not in value
    assert b'"offset":3,' in value


def test_events_before_orders_on_one_topic(
    kafka_broker: KafkaBroker, topics: dict[str, str]
) -> None:
    shared = kafka_broker.create_topic("shared", partitions=1)
    settings = make_settings(
        kafka_broker, {**topics, "events_topic": shared, "orders_topic": shared}
    )
    second_event = {**EXAMPLE_EVENT, "id": "ev-2002"}
    order = order_with("ord-1")
    order["tickets"][1]["event_id"] = "ev-2002"
    with tv.VibePublisher(settings) as publisher:
        delivery = publisher.publish_order(order, events=[EXAMPLE_EVENT, second_event])
        # Unchanged events are not sent again.
        publisher.publish_order(order_with("ord-2"), events=[EXAMPLE_EVENT])
        # In one send_many call, an order before its event in the input still goes after it.
        third_event = {**EXAMPLE_EVENT, "id": "ev-3003"}
        batch = publisher.send_many(
            [
                publisher.prepare_order(order_with("ord-3", "ev-3003")),
                publisher.prepare_event(third_event),
            ]
        )

    keys = [m.key() for m in kafka_broker.consume(shared, 6, timeout=20)]
    assert keys == [b"ev-1001", b"ev-2002", b"ord-1", b"ord-2", b"ev-3003", b"ord-3"]
    assert delivery.offset == 2
    assert all(isinstance(result, tv.Delivery) for result in batch)
    order_result, event_result = batch
    assert isinstance(order_result, tv.Delivery) and isinstance(event_result, tv.Delivery)
    assert order_result.offset > event_result.offset


def test_an_order_whose_events_were_never_delivered_is_not_sent(
    kafka_broker: KafkaBroker, publisher: tv.VibePublisher, topics: dict[str, str]
) -> None:
    with pytest.raises(EventNotPublished) as caught:
        publisher.publish_order(order_with("ord-9", "ev-unknown"))
    assert caught.value.event_ids == ("ev-unknown",)
    assert caught.value.retriable
    assert kafka_broker.message_count(topics["orders_topic"]) == 0


def test_unknown_events_may_be_allowed_by_setting(
    kafka_broker: KafkaBroker, topics: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(kafka_broker, topics, unknown_events="send")
    with caplog.at_level(logging.WARNING, "ticketland_vibe"), tv.VibePublisher(settings) as pub:
        pub.publish_order(order_with("ord-10", "ev-unknown"))
    assert kafka_broker.message_count(topics["orders_topic"]) == 1
    assert "order sent before its events key=ord-10" in caplog.text


def test_send_many_with_one_poison_message_in_the_middle(
    kafka_broker: KafkaBroker, topics: dict[str, str]
) -> None:
    small = kafka_broker.create_topic("small-orders", config={"max.message.bytes": "3000"})
    settings = make_settings(kafka_broker, {**topics, "orders_topic": small})
    big = order_with("ord-big")
    # Random text: lz4 cannot shrink it under the topic's limit.
    big["tickets"][0]["description"] = base64.b64encode(os.urandom(15_000)).decode()
    with tv.VibePublisher(settings) as publisher:
        publisher.publish_event(EXAMPLE_EVENT)
        messages = [publisher.prepare_order(order_with(f"ord-{i}")) for i in range(5)]
        messages.insert(2, publisher.prepare_order(big))
        results = publisher.send_many(messages)

    assert [type(result).__name__ for result in results] == [
        "Delivery",
        "Delivery",
        "MessageTooLarge",
        "Delivery",
        "Delivery",
        "Delivery",
    ]
    poison = results[2]
    assert isinstance(poison, MessageTooLarge) and not poison.retriable
    assert poison.key == b"ord-big"
    keys = sorted(m.key() or b"" for m in kafka_broker.consume(small, 5, timeout=20))
    assert keys == [f"ord-{i}".encode() for i in range(5)]


def test_a_message_larger_than_the_limit_is_refused_before_sending(
    kafka_broker: KafkaBroker, topics: dict[str, str]
) -> None:
    settings = make_settings(kafka_broker, topics, max_message_bytes=4096)
    big = order_with("ord-big")
    big["tickets"][0]["description"] = "я" * 4000
    with tv.VibePublisher(settings) as publisher, pytest.raises(MessageTooLarge) as caught:
        publisher.publish_order(big, events=[EXAMPLE_EVENT])
    assert "max_message_bytes (4096)" in str(caught.value)
    assert kafka_broker.message_count(topics["orders_topic"]) == 0


def test_eight_threads_publishing_at_once_deliver_everything_once(
    kafka_broker: KafkaBroker, publisher: tv.VibePublisher, topics: dict[str, str]
) -> None:
    publisher.publish_event(EXAMPLE_EVENT)
    per_thread = 40
    errors: list[BaseException] = []
    deliveries: list[tv.Delivery] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            for index in range(per_thread):
                delivery = publisher.publish_order(order_with(f"ord-{worker}-{index}"))
                with lock:
                    deliveries.append(delivery)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(deliveries) == 8 * per_thread
    keys = [m.key() for m in kafka_broker.consume(topics["orders_topic"], 8 * per_thread, 30)]
    expected = {f"ord-{w}-{i}".encode() for w in range(8) for i in range(per_thread)}
    assert len(keys) == len(expected)
    assert set(keys) == expected
    assert kafka_broker.message_count(topics["orders_topic"]) == 8 * per_thread


def test_the_same_key_lands_on_the_same_partition(
    kafka_broker: KafkaBroker, publisher: tv.VibePublisher
) -> None:
    first = publisher.publish_event(EXAMPLE_EVENT)
    again = publisher.publish_event({**EXAMPLE_EVENT, "name": "Щелкунчик (новая дата)"})
    assert again.partition == first.partition
    assert again.offset == first.offset + 1


def test_sasl_ssl_publish_and_read_back(kafka_broker: KafkaBroker, topics: dict[str, str]) -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=kafka_broker.sasl_bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=kafka_broker.username,
        sasl_password=kafka_broker.password,
        ssl_ca_location=str(kafka_broker.ca_file),
        **topics,
    )
    assert kafka_broker.password not in repr(settings)
    with tv.VibePublisher(settings) as publisher:
        delivery = publisher.publish_event(EXAMPLE_EVENT)
    (message,) = kafka_broker.consume(topics["events_topic"], 1, timeout=20)
    assert (message.partition(), message.offset()) == (delivery.partition, delivery.offset)


def test_a_wrong_password_fails_fast_and_is_not_retried(
    kafka_broker: KafkaBroker, topics: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=kafka_broker.sasl_bootstrap,
        security_protocol="SASL_SSL",
        sasl_username=kafka_broker.username,
        sasl_password="not-the-password",
        ssl_ca_location=str(kafka_broker.ca_file),
        delivery_timeout=60,
        **topics,
    )
    retries: list[object] = []
    with tv.VibePublisher(settings) as publisher:
        publisher.instrumentation.subscribe("message.retried", lambda _n, p: retries.append(p))
        with (
            caplog.at_level(logging.INFO, "ticketland_vibe"),
            pytest.raises(AuthenticationFailed) as caught,
        ):
            publisher.publish_event(EXAMPLE_EVENT)
    assert not caught.value.retriable
    assert retries == []
    assert "not-the-password" not in caplog.text
    assert kafka_broker.message_count(topics["events_topic"]) == 0


def test_invalid_data_sends_nothing_and_logs_no_personal_data(
    kafka_broker: KafkaBroker,
    publisher: tv.VibePublisher,
    topics: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad_customer = {**EXAMPLE_ORDER["customer"], "phone": "89001234567", "email": "anna@"}
    bad_order = {**order_with("ord-bad"), "customer": bad_customer}
    with caplog.at_level(logging.DEBUG, "ticketland_vibe"):
        with pytest.raises(InvalidMessage) as caught:
            publisher.publish_order(bad_order, events=[EXAMPLE_EVENT])
        with pytest.raises(InvalidMessage):
            publisher.publish_refund({**EXAMPLE_REFUND, "ticket_ids": []}, refund_id="r-1")
    assert set(caught.value.locations) >= {"customer.phone", "customer.email"}
    text = caplog.text + str(caught.value) + repr(caught.value)
    for value in ("89001234567", "anna@", *PERSONAL_VALUES):
        assert value not in text
    assert "message rejected entity=order key=ord-bad" in caplog.text
    for topic in topics.values():
        assert kafka_broker.message_count(topic) == 0


def test_delivered_messages_are_logged_with_topic_key_headers_partition_offset(
    publisher: tv.VibePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "ticketland_vibe"):
        publisher.publish_event(EXAMPLE_EVENT)
        delivery = publisher.publish_order(EXAMPLE_ORDER)
    line = next(r.getMessage() for r in caplog.records if "key=ord-5001" in r.getMessage())
    assert line == (
        f"message delivered entity=order topic={delivery.topic} key=ord-5001 "
        f"partition={delivery.partition} offset={delivery.offset} headers=content-type:"
        "application/json,schema-version:1.0,application-id:ticketland"
    )
    for value in PERSONAL_VALUES:
        assert value not in caplog.text


def test_module_level_functions_use_the_configured_default(
    kafka_broker: KafkaBroker, topics: dict[str, str]
) -> None:
    tv.configure(make_settings(kafka_broker, topics))
    try:
        tv.publish_event(EXAMPLE_EVENT)
        tv.publish_order(EXAMPLE_ORDER)
        tv.publish_refund(EXAMPLE_REFUND, refund_id=EXAMPLE_REFUND_ID)
    finally:
        tv.configure(make_settings(kafka_broker, topics))
    for topic in topics.values():
        assert kafka_broker.message_count(topic) == 1
