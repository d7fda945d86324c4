"""Every invalid input of the validation table, published to the real broker: nothing is sent."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import ticketland_vibe as tv
from tests.harness.broker import KafkaBroker
from tests.test_validation import BASES, INVALID, _changed, event_data
from ticketland_vibe.errors import InvalidMessage

pytestmark = pytest.mark.kafka


def publish(publisher: tv.VibePublisher, model_cls: type, data: dict[str, Any]) -> None:
    if model_cls is tv.Event:
        publisher.publish_event(data)
    elif model_cls is tv.Order:
        publisher.publish_order(data, events=[event_data()])
    else:
        publisher.publish_refund(data, refund_id="ref-invalid")


def test_nothing_reaches_the_topics_and_no_personal_value_is_logged(
    kafka_broker: KafkaBroker, caplog: pytest.LogCaptureFixture
) -> None:
    topics = {
        "events_topic": kafka_broker.create_topic("invalid-events"),
        "orders_topic": kafka_broker.create_topic("invalid-orders"),
        "refunds_topic": kafka_broker.create_topic("invalid-refunds"),
    }
    settings = tv.PublisherSettings(bootstrap_servers=kafka_broker.bootstrap, **topics)
    texts: list[str] = []
    personal: list[str] = []
    with caplog.at_level(logging.DEBUG, "ticketland_vibe"), tv.VibePublisher(settings) as pub:
        for model_cls, path, value, location, _kind in INVALID:
            data: dict[str, Any] = _changed(BASES[model_cls](), path, value)
            if path.startswith("customer.") and isinstance(value, str) and len(value) > 3:
                personal.append(value)
            with pytest.raises(InvalidMessage) as caught:
                publish(pub, model_cls, data)
            assert location in caught.value.locations, (path, caught.value)
            texts += [str(caught.value), repr(caught.value)]

    assert len(personal) >= 10
    assert caplog.text.count("message rejected") == len(INVALID)
    # The messages' own example ("e.g. +79001234567") is not the customer's number.
    everything = (caplog.text + "\n".join(texts)).replace("+79001234567", "")
    for value in personal:
        assert value not in everything
    for topic in topics.values():
        assert kafka_broker.message_count(topic) == 0
