"""Fast tests of the publisher on librdkafka's mock cluster or an unreachable address."""

from __future__ import annotations

import json
import logging

import pytest
from confluent_kafka import KafkaError

import ticketland_vibe as tv
from tests.harness.network import closed_port
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER, EXAMPLE_REFUND
from ticketland_vibe.errors import (
    ConfigurationError,
    DeliveryTimeout,
    InvalidMessage,
    MessageTooLarge,
    QueueFull,
)


def test_prepare_is_deterministic_and_carries_the_three_headers() -> None:
    settings = tv.PublisherSettings(bootstrap_servers=f"127.0.0.1:{closed_port()}")
    with tv.VibePublisher(settings) as publisher:
        first = publisher.prepare_order(EXAMPLE_ORDER, application_id="bank-app")
        second = publisher.prepare_order(
            tv.Order.model_validate(EXAMPLE_ORDER), application_id="bank-app"
        )
        refund = publisher.prepare_refund(EXAMPLE_REFUND, refund_id=77)
    assert first == second
    assert first.key == b"ord-5001"
    assert first.topic == "orders"
    assert first.event_ids == ("ev-1001",)
    assert first.headers == (
        ("content-type", b"application/json"),
        ("schema-version", b"1.0"),
        ("application-id", b"bank-app"),
    )
    assert refund.key == b"77"
    assert refund.topic == "refunds"
    assert json.loads(refund.value) == EXAMPLE_REFUND


def test_outgoing_message_round_trips_through_plain_data_and_hides_its_value() -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=f"127.0.0.1:{closed_port()}", message_format="protobuf"
    )
    with tv.VibePublisher(settings) as publisher:
        message = publisher.prepare_order(EXAMPLE_ORDER)
    data = json.loads(json.dumps(message.to_dict()))
    assert tv.OutgoingMessage.from_dict(data) == message
    assert "anna" not in repr(message) and "+7900" not in repr(message)
    assert f"<{len(message.value)} bytes>" in repr(message)
    with pytest.raises(InvalidMessage):
        tv.OutgoingMessage.from_dict({"entity": "order"})


def test_too_large_is_refused_at_prepare() -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=f"127.0.0.1:{closed_port()}", max_message_bytes=2048
    )
    big = {**EXAMPLE_EVENT, "description": "ж" * 2000}
    with tv.VibePublisher(settings) as publisher, pytest.raises(MessageTooLarge) as caught:
        publisher.prepare_event(big)
    assert not caught.value.retriable
    assert caught.value.key == b"ev-1001"


def test_a_full_local_queue_waits_then_fails_retriably() -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=f"127.0.0.1:{closed_port()}",
        delivery_timeout=2,
        retry_attempts=1,
        queue_full_timeout=0.3,
        kafka_config={"queue.buffering.max.messages": 3},
    )
    with tv.VibePublisher(settings) as publisher:
        messages = [publisher.prepare_event({**EXAMPLE_EVENT, "id": f"ev-{i}"}) for i in range(5)]
        results = publisher.send_many(messages)
        publisher.close(timeout=0)
    assert [type(result) for result in results] == [DeliveryTimeout] * 3 + [QueueFull] * 2
    assert all(isinstance(r, tv.PublishError) and r.retriable for r in results)


def test_retriable_failures_are_retried_and_logged_at_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=f"127.0.0.1:{closed_port()}",
        delivery_timeout=0.5,
        retry_attempts=3,
        retry_initial_backoff=0.05,
        retry_max_backoff=0.1,
    )
    with caplog.at_level(logging.INFO, "ticketland_vibe"), tv.VibePublisher(settings) as pub:
        with pytest.raises(DeliveryTimeout):
            pub.publish_event(EXAMPLE_EVENT)
        pub.close(timeout=0)
    retries = [r for r in caplog.records if r.getMessage().startswith("message retry")]
    assert [r.levelno for r in retries] == [logging.WARNING, logging.WARNING]
    assert "attempt=1" in retries[0].getMessage() and "attempt=2" in retries[1].getMessage()
    failures = [r for r in caplog.records if r.getMessage().startswith("message failed")]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR and failures[0].exc_info is not None


def test_publish_on_the_mock_cluster(mock_bootstrap: str) -> None:
    settings = tv.PublisherSettings(bootstrap_servers=mock_bootstrap, message_format="protobuf")
    with tv.VibePublisher(settings) as publisher:
        event = publisher.publish_event(EXAMPLE_EVENT)
        order = publisher.publish_order(EXAMPLE_ORDER)
    assert event.topic == "events" and order.topic == "orders"
    assert order.key == b"ord-5001"


def test_a_fatal_producer_error_replaces_the_producer(
    mock_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = tv.PublisherSettings(bootstrap_servers=mock_bootstrap)
    with caplog.at_level(logging.ERROR, "ticketland_vibe"), tv.VibePublisher(settings) as pub:
        pub.publish_event(EXAMPLE_EVENT)
        before = pub._producer
        pub._on_error(KafkaError(KafkaError._FATAL, "injected fatal error", fatal=True))
        assert pub._producer is not before
        assert pub.publish_event(EXAMPLE_EVENT).topic == "events"
    assert "producer replaced reason=injected fatal error" in caplog.text


def test_settings_errors_are_configuration_errors_without_secrets() -> None:
    with pytest.raises(ConfigurationError) as caught:
        tv.PublisherSettings(
            bootstrap_servers="x:1", security_protocol="SASL_SSL", sasl_password="s3cret!"
        )
    assert "sasl_username" in str(caught.value) and "s3cret!" not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        tv.PublisherSettings(bootstrap_servers="x:1", message_format="xml")
    assert "message_format" in str(caught.value)
    with pytest.raises(ConfigurationError):
        tv.VibePublisher(
            tv.PublisherSettings(bootstrap_servers="x:1", kafka_config={"no.such.property": 1})
        )


def test_settings_from_env_and_kafka_config_applied_last() -> None:
    env = {
        "TICKETLAND_VIBE_BOOTSTRAP_SERVERS": "b1:9091,b2:9091",
        "TICKETLAND_VIBE_SECURITY_PROTOCOL": "SASL_SSL",
        "TICKETLAND_VIBE_SASL_USERNAME": "ticketland",
        "TICKETLAND_VIBE_SASL_PASSWORD": "p@ss",
        "TICKETLAND_VIBE_SSL_CA_LOCATION": "/etc/ca.pem",
        "TICKETLAND_VIBE_ORDERS_TOPIC": "vibe.orders",
        "TICKETLAND_VIBE_MESSAGE_FORMAT": "protobuf",
        "TICKETLAND_VIBE_RETRY_ATTEMPTS": "7",
        "TICKETLAND_VIBE_KAFKA_CONFIG": '{"linger.ms": 20, "compression.type": "lz4"}',
    }
    settings = tv.PublisherSettings.from_env(env)
    assert settings.orders_topic == "vibe.orders"
    assert settings.retry_attempts == 7
    assert "p@ss" not in repr(settings) and "p@ss" not in str(settings)
    config = settings.producer_config()
    assert config["sasl.password"] == "p@ss"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["linger.ms"] == 20
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["partitioner"] == "murmur2_random"
    assert str(config["client.id"]).startswith("ticketland-vibe/")
    with pytest.raises(ConfigurationError, match="BOOTSTRAP_SERVERS"):
        tv.PublisherSettings.from_env({})
    with pytest.raises(ConfigurationError, match="KAFKA_CONFIG"):
        tv.PublisherSettings.from_env({**env, "TICKETLAND_VIBE_KAFKA_CONFIG": "{"})


def test_decode_rejects_an_unknown_content_type() -> None:
    with pytest.raises(InvalidMessage, match="content-type"):
        tv.decode("event", b"{}", "text/plain")
    with pytest.raises(InvalidMessage):
        tv.decode("ticket", b"{}", "application/json")


def test_send_many_refuses_what_is_not_a_prepared_message() -> None:
    settings = tv.PublisherSettings(bootstrap_servers=f"127.0.0.1:{closed_port()}")
    with tv.VibePublisher(settings) as publisher, pytest.raises(TypeError, match="item 0"):
        publisher.send_many([EXAMPLE_EVENT])  # type: ignore[list-item]


def test_demo_runs_on_the_embedded_mock_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    from ticketland_vibe._cli import main

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "6 messages published and read back" in out
    assert out.count('"content-type": "application/x-protobuf"') == 3
    assert "**Hidden**" in out
    assert "anna.petrova" not in out and "+79167654321" not in out


def test_a_prepare_only_publisher_connects_on_its_first_send(mock_bootstrap: str) -> None:
    settings = tv.PublisherSettings(bootstrap_servers=mock_bootstrap)
    with tv.VibePublisher(settings, connect=False) as publisher:
        message = publisher.prepare_order(EXAMPLE_ORDER)
        assert not publisher._connected
        assert publisher.flush(0) == 0
        publisher.publish_event(EXAMPLE_EVENT)
        assert publisher._connected
        assert publisher.send(message).key == b"ord-5001"


def test_a_prepare_only_publisher_can_close_without_ever_connecting() -> None:
    settings = tv.PublisherSettings(bootstrap_servers=f"127.0.0.1:{closed_port()}")
    publisher = tv.VibePublisher(settings, connect=False)
    publisher.prepare_event(EXAMPLE_EVENT)
    publisher.close()
    assert not publisher._connected
