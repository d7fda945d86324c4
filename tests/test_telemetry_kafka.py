"""OpenTelemetry against the real broker: counters, histograms, spans and ``traceparent``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.trace import NonRecordingSpan, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import ticketland_vibe as tv
from tests.harness.broker import KafkaBroker
from tests.test_publish_kafka import order_with
from tests.test_telemetry import (
    PERSONAL_VALUES,
    TRACE_FIELDS,
    Otel,
    all_attribute_values,
    sdk_providers,
    value_of,
)
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_REFUND

pytestmark = pytest.mark.kafka

APPLICATIONS = ("ticketland", "bank-app")
ENTITIES = ("event", "order", "refund")
PER_ENTITY = 10


@pytest.fixture
def otel() -> Iterator[Otel]:
    yield from sdk_providers()


def w3c_traceparent(span: object) -> str:
    """The header OpenTelemetry's own W3C propagator writes for ``span``'s context."""
    carrier: dict[str, str] = {}
    context = span.get_span_context()  # type: ignore[attr-defined]
    TraceContextTextMapPropagator().inject(
        carrier, context=set_span_in_context(NonRecordingSpan(context))
    )
    return carrier["traceparent"]


def test_counters_histograms_spans_logs_and_traceparent_of_every_message(
    kafka_broker: KafkaBroker, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    topics = {
        entity: kafka_broker.create_topic(f"telemetry-{entity}s", partitions=2)
        for entity in ENTITIES
    }
    settings = tv.PublisherSettings(
        bootstrap_servers=kafka_broker.bootstrap,
        events_topic=topics["event"],
        orders_topic=topics["order"],
        refunds_topic=topics["refund"],
        kafka_config={"statistics.interval.ms": 200},
    )
    tracer = otel.tracer_provider.get_tracer("test")
    sizes: dict[str, int] = dict.fromkeys(ENTITIES, 0)
    prepared: list[tv.OutgoingMessage] = []
    deliveries: list[tv.Delivery] = []
    with (
        caplog.at_level(logging.INFO, "ticketland_vibe"),
        tv.VibePublisher(settings, **otel.providers) as publisher,
        tracer.start_as_current_span("relay") as relay,
    ):
        for app in APPLICATIONS:
            ids = [f"{app}-{index}" for index in range(PER_ENTITY)]
            messages = [
                *(
                    publisher.prepare_event({**EXAMPLE_EVENT, "id": f"ev-{i}"}, application_id=app)
                    for i in ids
                ),
                *(
                    publisher.prepare_order(order_with(f"ord-{i}", f"ev-{i}"), application_id=app)
                    for i in ids
                ),
                *(
                    publisher.prepare_refund(
                        EXAMPLE_REFUND, refund_id=f"ref-{i}", application_id=app
                    )
                    for i in ids
                ),
            ]
            results = publisher.send_many(messages)
            assert all(isinstance(result, tv.Delivery) for result in results), results
            deliveries += [result for result in results if isinstance(result, tv.Delivery)]
            prepared += messages
        # librdkafka's statistics come every 200 ms; one whose window saw round trips is needed
        # (an idle window has none), so the assertions read that very collection.
        deadline = time.monotonic() + 10
        points = otel.points()
        while time.monotonic() < deadline and not points.get("kafka.producer.broker-rtt"):
            time.sleep(0.05)
            points = otel.points()
    for message in prepared:
        sizes[message.entity] += len(message.value)

    # The counters: one series per application-id, entity, topic and format.
    for app in APPLICATIONS:
        for entity in ENTITIES:
            match = {"application_id": app, "entity": entity, "topic": topics[entity]}
            assert value_of(points, "kafka.producer.record-send-count", **match) == PER_ENTITY
    assert {frozenset(a) for a, _ in points["kafka.producer.record-send-count"]} == {
        frozenset({"application-id", "entity", "topic", "format"})
    }
    assert {a["format"] for a, _ in points["kafka.producer.record-send-count"]} == {"json"}
    assert value_of(points, "kafka.producer.record-error-count") == 0
    assert value_of(points, "kafka.producer.record-retry-count") == 0

    # The histograms, by entity, topic and format.
    for entity in ENTITIES:
        match = {"entity": entity, "topic": topics[entity], "format": "json"}
        ((_, latency),) = [
            (a, p)
            for a, p in points["kafka.producer.delivery-latency"]
            if a == match  # no application-id: the counters have it
        ]
        assert latency.count == len(APPLICATIONS) * PER_ENTITY
        assert 0 < latency.min <= latency.max < 30
        ((_, size),) = [(a, p) for a, p in points["kafka.producer.record-size"] if a == match]
        assert size.count == len(APPLICATIONS) * PER_ENTITY
        assert size.sum == sizes[entity]

    # The gauges, from librdkafka's statistics.
    ((_, queued),) = points["kafka.producer.queued-messages"]
    assert 0 <= queued.value <= len(prepared)  # a snapshot: it may be taken while sending
    assert points["kafka.producer.requests-in-flight"]
    rtts = points["kafka.producer.broker-rtt"]
    assert rtts and all(a["server.address"] == "127.0.0.1" and p.value > 0 for a, p in rtts)

    # One PRODUCER span per message, a child of the caller's span, ended with its offset.
    spans = otel.spans_by_key()
    assert len(spans) == len(prepared) == len(APPLICATIONS) * len(ENTITIES) * PER_ENTITY
    relay_context = relay.get_span_context()
    for message, delivery in zip(prepared, deliveries, strict=True):
        span = spans[message.key.decode()]
        assert span.name == f"send {message.topic}"
        assert span.parent is not None and span.parent.span_id == relay_context.span_id
        assert span.context is not None and span.context.trace_id == relay_context.trace_id
        assert dict(span.attributes or {}) == {
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": message.topic,
            "messaging.kafka.message.key": message.key.decode(),
            "messaging.destination.partition.id": str(delivery.partition),
            "messaging.kafka.offset": delivery.offset,
            "application-id": (message.header("application-id") or b"").decode(),
            "entity": message.entity,
        }

    # On the wire: the three headers as they were, then the send's traceparent.
    for entity in ENTITIES:
        consumed = kafka_broker.consume(topics[entity], len(APPLICATIONS) * PER_ENTITY, 30)
        assert len(consumed) == len(APPLICATIONS) * PER_ENTITY
        for received in consumed:
            key = (received.key() or b"").decode()
            message = next(each for each in prepared if each.key.decode() == key)
            headers = received.headers() or []
            assert isinstance(headers, list)
            assert headers[:3] == list(message.headers)
            assert headers[3:] == [("traceparent", w3c_traceparent(spans[key]).encode())]
    assert all(len(message.headers) == 3 for message in prepared)

    # One INFO line per delivered message, tied to its span; nothing personal anywhere.
    delivered = [r for r in caplog.records if r.getMessage().startswith("message delivered")]
    assert len(delivered) == len(prepared)
    for record in delivered:
        key = record.getMessage().split(" key=", 1)[1].split(" ", 1)[0]
        context = spans[key].get_span_context()
        assert context is not None
        fields = TRACE_FIELDS.format(trace=context.trace_id, span=context.span_id)
        assert record.getMessage().endswith(fields)
        assert record.__dict__["otelSpanID"] == f"{context.span_id:016x}"
    texts = [caplog.text, *all_attribute_values(otel)]
    for value in PERSONAL_VALUES:
        assert not [text for text in texts if value in text]


@pytest.mark.slow
def test_a_broker_outage_moves_the_retry_and_error_counters(
    kafka_broker_factory: Callable[..., KafkaBroker], otel: Otel
) -> None:
    broker = kafka_broker_factory()
    topic = broker.create_topic("telemetry-outage")
    settings = tv.PublisherSettings(
        bootstrap_servers=broker.bootstrap,
        events_topic=topic,
        delivery_timeout=1.5,
        retry_attempts=3,
        retry_initial_backoff=0.2,
        retry_max_backoff=0.5,
    )
    with tv.VibePublisher(settings, **otel.providers) as publisher:
        publisher.publish_event(EXAMPLE_EVENT)
        broker.stop()
        with pytest.raises(tv.PublishError) as caught:
            publisher.publish_event({**EXAMPLE_EVENT, "id": "ev-outage"})
        publisher.close(timeout=1)

    assert caught.value.retriable
    points = otel.points()
    match = {"application_id": "ticketland", "entity": "event", "topic": topic}
    assert value_of(points, "kafka.producer.record-send-count", **match) == 1
    assert value_of(points, "kafka.producer.record-retry-count", **match) == 2
    assert value_of(points, "kafka.producer.record-error-count", **match) == 1
    ((errors, _),) = points["kafka.producer.record-error-count"]
    assert errors["error.type"] == type(caught.value).__name__
    spans = otel.spans()
    assert [span.status.is_ok for span in spans] == [True, False, False, False]
