"""OpenTelemetry metrics, spans and trace-linked logs, on librdkafka's mock cluster or offline.

The SDK's providers are given to each publisher (``meter_provider=``, ``tracer_provider=``);
no test here sets the global ones: the tests of the global path run in a subprocess.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, SpanKind, StatusCode

import ticketland_vibe as tv
from tests.harness.network import closed_port
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER
from ticketland_vibe._telemetry import parse_statistics
from ticketland_vibe.errors import DeliveryTimeout, InvalidMessage

ROOT = Path(__file__).resolve().parents[1]

PERSONAL_VALUES = ("anna.petrova@example.com", "+79167654321", "9167654321", "Анна", "Петрова")

TRACE_FIELDS = " trace_id={trace:032x} span_id={span:016x}"


@dataclass
class Otel:
    """SDK providers with in-memory readers, for one test."""

    reader: InMemoryMetricReader
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    tracer_provider: TracerProvider

    @property
    def providers(self) -> dict[str, Any]:
        return {"meter_provider": self.meter_provider, "tracer_provider": self.tracer_provider}

    def points(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Every data point collected now, by metric name: (attributes, point)."""
        found: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(
                        (dict(point.attributes or {}), point) for point in metric.data.data_points
                    )
        return found

    def spans(self) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]

    def spans_by_key(self) -> dict[str, ReadableSpan]:
        """The PRODUCER spans by the message key they carry."""
        return {str((s.attributes or {})["messaging.kafka.message.key"]): s for s in self.spans()}


def sdk_providers() -> Iterator[Otel]:
    """The SDK's providers with in-memory readers, shut down afterwards."""
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Otel(reader, meter_provider, exporter, tracer_provider)
    meter_provider.shutdown()
    tracer_provider.shutdown()


@pytest.fixture
def otel() -> Iterator[Otel]:
    yield from sdk_providers()


def value_of(points: dict[str, list[tuple[dict[str, Any], Any]]], name: str, **match: Any) -> Any:
    """The sum of a counter's values (or a histogram's counts) over points matching ``match``."""
    total = 0
    for attributes, point in points.get(name, []):
        if all(attributes.get(key.replace("_", "-")) == want for key, want in match.items()):
            total += point.count if hasattr(point, "count") else point.value
    return total


def all_attribute_values(otel: Otel) -> list[str]:
    """Every attribute value of every metric point and span: none may be personal."""
    values = [str(v) for points in otel.points().values() for a, _ in points for v in a.values()]
    for span in otel.exporter.get_finished_spans():
        values += [str(value) for value in (span.attributes or {}).values()]
        values.append(span.status.description or "")
    return values


def offline_settings(**extra: Any) -> tv.PublisherSettings:
    return tv.PublisherSettings(bootstrap_servers=f"127.0.0.1:{closed_port()}", **extra)


# -- switched off -------------------------------------------------------------------------


def test_without_a_configured_sdk_nothing_is_recorded_and_the_log_line_is_unchanged(
    mock_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = tv.PublisherSettings(bootstrap_servers=mock_bootstrap)
    with caplog.at_level(logging.INFO, "ticketland_vibe"), tv.VibePublisher(settings) as pub:
        assert pub._telemetry is not None and pub._telemetry.tracing is None
        delivery = pub.publish_event(EXAMPLE_EVENT)
    line = next(r.getMessage() for r in caplog.records if "message delivered" in r.getMessage())
    assert line.endswith(
        f"partition={delivery.partition} offset={delivery.offset} headers=content-type:"
        "application/json,schema-version:1.0,application-id:ticketland"
    )
    assert not any(hasattr(record, "otelTraceID") for record in caplog.records)


def test_explicit_no_op_providers_switch_metrics_tracing_and_statistics_off(
    mock_bootstrap: str,
) -> None:
    settings = tv.PublisherSettings(bootstrap_servers=mock_bootstrap)
    statistics: list[str] = []
    with tv.VibePublisher(
        settings, meter_provider=NoOpMeterProvider(), tracer_provider=NoOpTracerProvider()
    ) as publisher:
        publisher.instrumentation.subscribe(
            "producer.statistics", lambda _n, payload: statistics.append(payload["statistics"])
        )
        assert publisher._telemetry is not None
        assert publisher._telemetry.tracing is None
        assert not publisher._telemetry.wants_statistics
        publisher.publish_event(EXAMPLE_EVENT)
    assert statistics == []


# -- rejections -----------------------------------------------------------------------------


def test_rejections_are_counted_by_entity_and_field_without_any_value(otel: Otel) -> None:
    bad_order = {
        **EXAMPLE_ORDER,
        "customer": {**EXAMPLE_ORDER["customer"], "email": "anna.petrova@", "phone": "8916"},
        "tickets": [{**ticket, "event_id": " "} for ticket in EXAMPLE_ORDER["tickets"]],
    }
    with tv.VibePublisher(offline_settings(), **otel.providers) as publisher:
        for _ in range(2):
            with pytest.raises(InvalidMessage):
                publisher.prepare_order(bad_order)
        with pytest.raises(InvalidMessage):
            publisher.prepare_event({**EXAMPLE_EVENT, "category": "opera"})
        publisher.close(timeout=0)

    points = otel.points()
    assert value_of(points, "kafka.producer.record-rejected-count", entity="order") == 2
    assert value_of(points, "kafka.producer.record-rejected-count", entity="event") == 1
    problems = {
        (attributes["entity"], attributes["location"]): point.value
        for attributes, point in points["kafka.producer.record-problem-count"]
    }
    assert problems[("order", "tickets[].event_id")] == 4
    assert problems[("order", "customer.email")] == 2
    assert problems[("order", "customer.phone")] == 2
    assert problems[("event", "category")] == 1
    values = all_attribute_values(otel)
    for value in (*PERSONAL_VALUES, "anna.petrova@", "8916", "opera"):
        assert value not in values


def test_a_missing_phone_is_info_and_other_invalid_data_is_an_error_with_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    no_phone = {**EXAMPLE_ORDER, "customer": {"email": "anna.petrova@example.com"}}
    bad_email = {**EXAMPLE_ORDER, "customer": {**EXAMPLE_ORDER["customer"], "email": "anna@"}}
    with (
        caplog.at_level(logging.INFO, "ticketland_vibe"),
        tv.VibePublisher(offline_settings()) as pub,
    ):
        for order in (no_phone, bad_email):
            with pytest.raises(InvalidMessage):
                pub.prepare_order(order)
        with pytest.raises(InvalidMessage):
            pub.prepare_event(EXAMPLE_EVENT, application_id=" ")
        pub.close(timeout=0)

    rejected = [r for r in caplog.records if r.getMessage().startswith("message rejected")]
    assert [(r.levelno, r.exc_info is not None) for r in rejected] == [
        (logging.INFO, False),
        (logging.ERROR, True),
        (logging.ERROR, True),
    ]
    assert rejected[1].getMessage().endswith("problems=customer.email:email_format")
    text = "\n".join(logging.Formatter().format(record) for record in caplog.records)
    assert "Traceback" in text and "InvalidMessage" in text
    for value in (*PERSONAL_VALUES, "anna@"):
        assert value not in text


# -- failures -------------------------------------------------------------------------------


def test_a_failed_send_counts_a_retry_and_an_error_and_its_spans_and_logs_say_why(
    otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    settings = offline_settings(
        delivery_timeout=0.5, retry_attempts=2, retry_initial_backoff=0.05, retry_max_backoff=0.1
    )
    with (
        caplog.at_level(logging.WARNING, "ticketland_vibe"),
        tv.VibePublisher(settings, **otel.providers) as publisher,
    ):
        with pytest.raises(DeliveryTimeout):
            publisher.publish_event(EXAMPLE_EVENT)
        publisher.close(timeout=0)

    points = otel.points()
    match = {"application_id": "ticketland", "entity": "event", "topic": "events"}
    error_type = {"error.type": "DeliveryTimeout"}
    retries = points["kafka.producer.record-retry-count"]
    assert [(a, p.value) for a, p in retries] == [({**a, **error_type}, 1) for a, _ in retries]
    assert value_of(points, "kafka.producer.record-retry-count", **match) == 1
    assert value_of(points, "kafka.producer.record-error-count", **match) == 1
    assert value_of(points, "kafka.producer.record-send-count") == 0

    spans = otel.spans()
    assert [span.name for span in spans] == ["send events", "send events"]
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes is not None and span.attributes["error.type"] == "DeliveryTimeout"
        assert "messaging.kafka.offset" not in span.attributes
    lines = {
        r.getMessage().split(" ", 2)[1]: r for r in caplog.records if r.name == "ticketland_vibe"
    }
    for word, span in (("retry", spans[0]), ("failed", spans[1])):
        context = span.get_span_context()
        assert context is not None
        record = lines[word]
        fields = TRACE_FIELDS.format(trace=context.trace_id, span=context.span_id)
        assert record.getMessage().endswith(fields)
        assert record.__dict__["otelTraceID"] == f"{context.trace_id:032x}"
        assert record.__dict__["otelSpanID"] == f"{context.span_id:016x}"
    assert lines["failed"].levelno == logging.ERROR and lines["failed"].exc_info


# -- the mock cluster ---------------------------------------------------------------------


def test_delivered_lines_carry_the_span_and_a_record_factory_sees_it_current(
    mock_bootstrap: str, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenTelemetry's logging instrumentation sets ``otelTraceID`` in a record factory, from
    the current span; the library's own fields must then neither clash nor differ."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = trace.get_current_span().get_span_context()
        record.otelTraceID = f"{context.trace_id:032x}"
        record.otelSpanID = f"{context.span_id:016x}"
        return record

    settings = tv.PublisherSettings(bootstrap_servers=mock_bootstrap)
    logging.setLogRecordFactory(factory)
    try:
        with (
            caplog.at_level(logging.INFO, "ticketland_vibe"),
            tv.VibePublisher(settings, **otel.providers) as publisher,
        ):
            deliveries = [
                publisher.publish_event({**EXAMPLE_EVENT, "id": f"ev-{i}"}) for i in range(3)
            ]
    finally:
        logging.setLogRecordFactory(previous)

    spans = otel.spans_by_key()
    delivered = [r for r in caplog.records if r.getMessage().startswith("message delivered")]
    assert len(delivered) == 3
    assert not [r for r in caplog.records if "listener failed" in r.getMessage()]
    for delivery, record in zip(deliveries, delivered, strict=True):
        context = spans[delivery.key.decode()].get_span_context()
        assert context is not None
        assert record.getMessage().endswith(
            "application-id:ticketland"
            + TRACE_FIELDS.format(trace=context.trace_id, span=context.span_id)
        )
        assert record.__dict__["otelTraceID"] == f"{context.trace_id:032x}"
        assert record.__dict__["otelSpanID"] == f"{context.span_id:016x}"


def test_statistics_feed_the_gauges_until_the_publisher_is_closed(
    mock_bootstrap: str, otel: Otel
) -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers=mock_bootstrap, kafka_config={"statistics.interval.ms": 100}
    )
    with tv.VibePublisher(settings, **otel.providers) as publisher:
        publisher.publish_event(EXAMPLE_EVENT)
        deadline = time.monotonic() + 10
        points = otel.points()
        while "kafka.producer.queued-messages" not in points and time.monotonic() < deadline:
            time.sleep(0.05)
            points = otel.points()
    for name in ("queued-messages", "queued-bytes", "requests-in-flight"):
        ((attributes, point),) = points[f"kafka.producer.{name}"]
        assert attributes["messaging.client.id"].startswith("ticketland-vibe/")
        assert point.value >= 0
    after = otel.points()
    assert not after.get("kafka.producer.queued-messages")


def test_statistics_are_parsed_from_librdkafkas_json() -> None:
    raw = json.dumps(
        {
            "name": "ticketland-vibe/0.1.0#producer-3",
            "msg_cnt": 7,
            "msg_size": 7000,
            "brokers": {
                "kafka-1:9091/bootstrap": {
                    "nodeid": -1,
                    "nodename": "kafka-1:9091",
                    "waitresp_cnt": 0,
                    "rtt": {"avg": 0, "cnt": 0},
                },
                "kafka-1:9091/1": {
                    "nodeid": 1,
                    "nodename": "kafka-1:9091",
                    "waitresp_cnt": 2,
                    "rtt": {"avg": 2500, "cnt": 12},
                },
                "kafka-2:9091/2": {
                    "nodeid": 2,
                    "nodename": "kafka-2:9091",
                    "waitresp_cnt": 1,
                    "rtt": {"avg": 0, "cnt": 0},
                },
            },
        }
    )
    snapshot = parse_statistics(raw)
    assert snapshot is not None
    assert snapshot.attributes == {"messaging.client.id": "ticketland-vibe/0.1.0#producer-3"}
    assert (snapshot.queued_messages, snapshot.queued_bytes) == (7, 7000)
    assert snapshot.requests_in_flight == 3
    assert snapshot.rtts == (({"server.address": "kafka-1", "server.port": 9091}, 0.0025),)
    assert parse_statistics("{not json") is None
    assert parse_statistics('{"name": "x"}') is None


# -- the global providers, and none at all (in a subprocess) --------------------------------

MOCK_CLUSTER = """
import json, sys
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
import ticketland_vibe as tv
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER

holder = AdminClient({"test.mock.num.brokers": 1})
bootstrap = ",".join(f"{b.host}:{b.port}" for b in holder.list_topics(timeout=10).brokers.values())
settings = tv.PublisherSettings(bootstrap_servers=bootstrap)

def read_back(topic, count):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    found = []
    for _ in range(100):
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            found.append([[name, value.decode()] for name, value in message.headers()])
        if len(found) == count:
            break
    consumer.close()
    return found
"""

NO_OPENTELEMETRY = """
import sys

class BlockOpenTelemetry:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, BlockOpenTelemetry())
"""


def run_python(code: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_publishing_works_without_opentelemetry_installed() -> None:
    script = """
import logging
lines = []
class Keep(logging.Handler):
    def emit(self, record):
        lines.append(record.getMessage())
logging.getLogger("ticketland_vibe").addHandler(Keep())
logging.getLogger("ticketland_vibe").setLevel(logging.INFO)
with tv.VibePublisher(settings) as publisher:
    telemetry = publisher._telemetry
    publisher.publish_event(EXAMPLE_EVENT)
    publisher.publish_order(EXAMPLE_ORDER)
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
print(json.dumps({"telemetry": repr(telemetry), "loaded": loaded, "lines": lines,
                  "headers": read_back("orders", 1)}))
"""
    result = run_python(NO_OPENTELEMETRY + MOCK_CLUSTER + script)
    assert result["telemetry"] == "None"
    assert result["loaded"] == []
    assert result["headers"] == [
        [
            ["content-type", "application/json"],
            ["schema-version", "1.0"],
            ["application-id", "ticketland"],
        ]
    ]
    delivered = [line for line in result["lines"] if line.startswith("message delivered")]
    assert len(delivered) == 2
    assert all("trace_id=" not in line for line in delivered)


def test_a_global_sdk_configured_after_the_publisher_was_made_takes_effect() -> None:
    script = """
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

with tv.VibePublisher(settings) as publisher:
    before = publisher.publish_event(EXAMPLE_EVENT)
    tracing_before = publisher._telemetry.tracing is not None
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    publisher.publish_event({**EXAMPLE_EVENT, "id": "ev-2"})
spans = exporter.get_finished_spans()
sent = [point.value for metric in reader.get_metrics_data().resource_metrics[0]
        .scope_metrics[0].metrics if metric.name == "kafka.producer.record-send-count"
        for point in metric.data.data_points]
context = spans[0].get_span_context()
print(json.dumps({"tracing_before": tracing_before, "spans": [s.name for s in spans],
                  "sent": sent, "headers": read_back("events", 2),
                  "traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-"
                                 f"{context.trace_flags:02x}"}))
"""
    result = run_python(MOCK_CLUSTER + script)
    assert result["tracing_before"] is False
    assert result["spans"] == ["send events"]
    assert result["sent"] == [1]
    # Two partitions may come back in either order: the second event is the traced one.
    first, second = sorted(result["headers"], key=len)
    assert [name for name, _ in first] == ["content-type", "schema-version", "application-id"]
    assert second[:3] == first
    assert second[3:] == [["traceparent", result["traceparent"]]]
