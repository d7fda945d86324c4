"""OpenTelemetry metrics and traces of a publisher; imported only when the API is installed.

Metrics hang off the instrumentation events; the publisher calls :class:`Tracing` around each
send, because a span must start before the message leaves (its ``traceparent`` header). Nothing
is recorded while the providers are the API's placeholders: with no SDK configured, a send only
checks, once per call, whether one has been since. No attribute carries a payload value; keys
are entity ids.

Instruments (meter ``ticketland_vibe``): the counters ``kafka.producer.record-send-count``
(delivered), ``record-error-count`` (failed for good), ``record-retry-count``,
``record-rejected-count`` and ``record-problem-count``; the histograms
``kafka.producer.delivery-latency`` (s) and ``record-size`` (bytes); and the gauges
``kafka.producer.queued-messages``, ``queued-bytes``, ``requests-in-flight`` and
``broker-rtt`` (s), read from librdkafka's statistics when the metrics are collected.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import (
    CallbackOptions,
    Meter,
    MeterProvider,
    NoOpMeterProvider,
    Observation,
)
from opentelemetry.trace import (
    NoOpTracerProvider,
    ProxyTracerProvider,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
)

from ticketland_vibe._headers import APPLICATION_ID, CONTENT_TYPE, CONTENT_TYPES
from ticketland_vibe._instrumentation import Instrumentation
from ticketland_vibe._message import OutgoingMessage
from ticketland_vibe._version import __version__
from ticketland_vibe.errors import InvalidMessage, PublishError

SCOPE = "ticketland_vibe"

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# Bucket boundaries advised to the SDK: delivery takes milliseconds to seconds; a message is
# from a few hundred bytes to max_message_bytes (1 MB by default).
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_SIZE_BUCKETS = (256, 512, 1024, 2048, 4096, 8192, 16384, 65536, 262144, 1048576)

_FORMATS = {content_type.encode(): name for name, content_type in CONTENT_TYPES.items()}

# ``tickets[2].event_id`` is counted as ``tickets[].event_id``: one series per field.
_INDEX = re.compile(r"\[\d+\]")

# Distinct attribute sets remembered per cache; beyond, attributes are built per message.
_CACHE_LIMIT = 1024


def is_placeholder(provider: object) -> bool:
    """Whether ``provider`` is one of the API's stand-ins used while no SDK is configured."""
    if isinstance(provider, NoOpMeterProvider | NoOpTracerProvider | ProxyTracerProvider):
        return True
    # The API's global proxy meter provider has no public class.
    return type(provider).__name__ == "_ProxyMeterProvider"


@dataclass(frozen=True, slots=True)
class _Series:
    """The attributes of every message of one entity, topic, application-id and format.

    Histograms leave out the application-id: each of their series is a dozen buckets, and the
    breakdown by sales channel is the counters' job.
    """

    key: tuple[str, str, str, str]
    attributes: dict[str, str]
    histogram_attributes: dict[str, str]
    span_name: str
    span_attributes: dict[str, str]


class _Describer:
    """Builds and caches the attributes of a message's series (the key is added per message)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, tuple[tuple[str, bytes], ...]], _Series] = {}

    def __call__(self, message: OutgoingMessage) -> _Series:
        cache_key = (message.entity, message.topic, message.headers)
        series = self._cache.get(cache_key)
        if series is None:
            series = self._describe(message)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[cache_key] = series
        return series

    @staticmethod
    def _describe(message: OutgoingMessage) -> _Series:
        application_id = (message.header(APPLICATION_ID) or b"").decode(errors="replace")
        content_type = message.header(CONTENT_TYPE) or b""
        message_format = _FORMATS.get(content_type, content_type.decode(errors="replace"))
        histogram_attributes = {
            "entity": message.entity,
            "topic": message.topic,
            "format": message_format,
        }
        span_attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": message.topic,
            "application-id": application_id,
            "entity": message.entity,
        }
        return _Series(
            (message.entity, message.topic, application_id, message_format),
            {"application-id": application_id, **histogram_attributes},
            histogram_attributes,
            f"send {message.topic}",
            span_attributes,
        )


# -- traces ---------------------------------------------------------------------------------


# Serialises ending a send's span: its delivery report and a caller giving up may race.
_END_LOCK = threading.Lock()


class SendSpan:
    """The span of sending one message, ended once: by its delivery report or by giving up."""

    __slots__ = ("_open", "span")

    def __init__(self, span: Span) -> None:
        self.span = span
        self._open = True

    def delivered(self, partition: int, offset: int) -> None:
        """End the span with where the broker wrote the message."""
        if self._close():
            self.span.set_attributes(
                {
                    "messaging.destination.partition.id": str(partition),
                    "messaging.kafka.offset": offset,
                }
            )
            self.span.end()

    def failed(self, error: PublishError) -> None:
        """End the span with the error that stopped this attempt."""
        if self._close():
            self.span.set_attribute("error.type", type(error).__name__)
            self.span.set_status(Status(StatusCode.ERROR, str(error)))
            self.span.end()

    def _close(self) -> bool:
        with _END_LOCK:
            was_open, self._open = self._open, False
        return was_open


class Tracing:
    """One PRODUCER span per message sent, its context in a W3C ``traceparent`` header."""

    def __init__(self, tracer: Tracer, describe: _Describer) -> None:
        self._tracer = tracer
        self._describe = describe

    def start(
        self, message: OutgoingMessage, headers: list[tuple[str, str | bytes | None]]
    ) -> SendSpan:
        """Start the span of sending ``message`` (a child of the current span); add its headers."""
        series = self._describe(message)
        attributes = dict(series.span_attributes)
        attributes["messaging.kafka.message.key"] = message.key.decode(errors="replace")
        span = self._tracer.start_span(
            series.span_name, kind=SpanKind.PRODUCER, attributes=attributes
        )
        context = span.get_span_context()
        if context.is_valid:
            headers.append(
                (
                    TRACEPARENT,
                    f"00-{context.trace_id:032x}-{context.span_id:016x}-"
                    f"{context.trace_flags:02x}".encode(),
                )
            )
            if context.trace_state:
                headers.append((TRACESTATE, context.trace_state.to_header().encode()))
        return SendSpan(span)


@contextlib.contextmanager
def log_fields(span: Span) -> Iterator[tuple[str, str]]:
    """The trace and span ids of ``span`` in hex, with ``span`` current meanwhile.

    Handlers that take the trace from the current context (the SDK's ``LoggingHandler``,
    OpenTelemetry's logging instrumentation) then tie the log line to the same span.
    """
    context = span.get_span_context()
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield f"{context.trace_id:032x}", f"{context.span_id:016x}"
    finally:
        otel_context.detach(token)


# -- metrics --------------------------------------------------------------------------------


class _Tally:
    """Cumulative counts by attribute set, read by an observable counter when collected.

    Counting here costs a dictionary update; the SDK's own counter would cost microseconds on
    the hot path for each message.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, ...], int] = {}
        self._attributes: dict[tuple[str, ...], dict[str, str]] = {}

    def add(self, key: tuple[str, ...], attributes: Mapping[str, str]) -> None:
        with self._lock:
            count = self._counts.get(key)
            if count is None:
                self._attributes[key] = dict(attributes)
                count = 0
            self._counts[key] = count + 1

    def observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            counts = list(self._counts.items())
        return [Observation(count, self._attributes[key]) for key, count in counts]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What the gauges report from one librdkafka statistics object."""

    attributes: dict[str, str]
    queued_messages: int
    queued_bytes: int
    requests_in_flight: int
    rtts: tuple[tuple[dict[str, str | int], float], ...]


def parse_statistics(raw: str) -> _Snapshot | None:
    """The gauges' values in librdkafka's statistics JSON (see its STATISTICS.md), or None.

    In flight: the brokers' ``waitresp_cnt``, requests sent and awaiting a response. Round
    trip: each known broker's average ``rtt`` over the last window, in seconds (librdkafka
    reports microseconds); a broker without samples in the window is left out.
    """
    try:
        data = json.loads(raw)
        brokers = data.get("brokers") or {}
        rtts = []
        for broker in brokers.values():
            rtt = broker.get("rtt") or {}
            if broker.get("nodeid", -1) < 0 or not rtt.get("cnt"):
                continue
            host, _, port = str(broker.get("nodename", "")).rpartition(":")
            address: dict[str, str | int] = {"server.address": host.strip("[]")}
            if port.isdigit():
                address["server.port"] = int(port)
            rtts.append((address, rtt["avg"] / 1_000_000))
        return _Snapshot(
            {"messaging.client.id": str(data["name"])},
            int(data["msg_cnt"]),
            int(data["msg_size"]),
            sum(int(broker.get("waitresp_cnt", 0)) for broker in brokers.values()),
            tuple(rtts),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class _Statistics:
    """A publisher's latest librdkafka statistics, kept raw; parsed only when collected."""

    def __init__(self) -> None:
        self._raw: str | None = None
        self._parsed: tuple[str | None, _Snapshot | None] = (None, None)

    def update(self, _name: str, payload: Mapping[str, Any]) -> None:
        self._raw = payload["statistics"]

    def snapshot(self) -> _Snapshot | None:
        raw = self._raw
        parsed_raw, snapshot = self._parsed
        if raw is not parsed_raw:
            snapshot = parse_statistics(raw) if raw is not None else None
            self._parsed = (raw, snapshot)
        return snapshot


class _Instruments:
    """The instruments of one meter provider, shared by every publisher that reports to it.

    An SDK meter returns the first instrument of a name to later registrations, so counts and
    statistics sources live here, not in a publisher: closing one does not reset a counter.
    """

    def __init__(self, meter: Meter) -> None:
        self.sent = _Tally()
        self.errors = _Tally()
        self.retries = _Tally()
        self.rejected = _Tally()
        self.problems = _Tally()
        self.sources: weakref.WeakSet[_Statistics] = weakref.WeakSet()

        def counter(name: str, tally: _Tally, unit: str, description: str) -> None:
            meter.create_observable_counter(
                f"kafka.producer.{name}", [tally.observe], unit, description
            )

        counter(
            "record-send-count",
            self.sent,
            "{message}",
            "Messages the broker acknowledged (acks=all).",
        )
        counter(
            "record-error-count",
            self.errors,
            "{message}",
            "Messages that failed for good: no retry left, or not retriable.",
        )
        counter(
            "record-retry-count",
            self.retries,
            "{message}",
            "Library-level retries of messages after a retriable failure.",
        )
        counter(
            "record-rejected-count",
            self.rejected,
            "{message}",
            "Messages refused by validation (invalid data); nothing was sent.",
        )
        counter(
            "record-problem-count",
            self.problems,
            "{problem}",
            "Problems found in refused messages, by field location and kind.",
        )
        self.latency = _histogram(
            meter,
            "kafka.producer.delivery-latency",
            "s",
            "Time from handing a message to the producer to its delivery report.",
            _LATENCY_BUCKETS,
        )
        self.size = _histogram(
            meter,
            "kafka.producer.record-size",
            "By",
            "Encoded size of a delivered message's value (the payload).",
            _SIZE_BUCKETS,
        )

        def gauge(name: str, read: Callable[[_Snapshot], int], unit: str, text: str) -> None:
            def observe(_options: CallbackOptions) -> Iterable[Observation]:
                return [Observation(read(each), each.attributes) for each in self._snapshots()]

            meter.create_observable_gauge(f"kafka.producer.{name}", [observe], unit, text)

        gauge(
            "queued-messages",
            lambda each: each.queued_messages,
            "{message}",
            "Messages in the producer's local queues, not yet acknowledged (msg_cnt).",
        )
        gauge(
            "queued-bytes",
            lambda each: each.queued_bytes,
            "By",
            "Bytes of the messages in the producer's local queues (msg_size).",
        )
        gauge(
            "requests-in-flight",
            lambda each: each.requests_in_flight,
            "{request}",
            "Requests sent to the brokers and awaiting a response (waitresp_cnt).",
        )
        meter.create_observable_gauge(
            "kafka.producer.broker-rtt",
            [self._observe_rtt],
            "s",
            "Average round-trip time to each broker over librdkafka's last window.",
        )

    def _snapshots(self) -> list[_Snapshot]:
        return [
            snapshot
            for source in list(self.sources)
            if (snapshot := source.snapshot()) is not None
        ]

    def _observe_rtt(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(seconds, {**snapshot.attributes, **address})
            for snapshot in self._snapshots()
            for address, seconds in snapshot.rtts
        ]


def _histogram(
    meter: Meter, name: str, unit: str, description: str, buckets: tuple[float, ...]
) -> Any:
    try:
        return meter.create_histogram(
            name, unit, description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # an API older than 1.30 takes no advice: the SDK's (or a View's) apply
        return meter.create_histogram(name, unit, description)


_SHARED: weakref.WeakKeyDictionary[MeterProvider, _Instruments] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _instruments_of(provider: MeterProvider) -> _Instruments:
    with _SHARED_LOCK:
        instruments = _SHARED.get(provider)
        if instruments is None:
            instruments = _Instruments(provider.get_meter(SCOPE, __version__))
            _SHARED[provider] = instruments
        return instruments


class _Metrics:
    """Records one publisher's instrumentation events on the shared instruments."""

    def __init__(self, instruments: _Instruments, describe: _Describer) -> None:
        self._instruments = instruments
        self._describe = describe
        self.statistics = _Statistics()

    def attach(self, instrumentation: Instrumentation) -> None:
        instrumentation.subscribe("message.delivered", self._delivered)
        instrumentation.subscribe("message.retried", self._retried)
        instrumentation.subscribe("message.failed", self._failed)
        instrumentation.subscribe("message.rejected", self._rejected)
        instrumentation.subscribe("producer.statistics", self.statistics.update)
        self._instruments.sources.add(self.statistics)

    def detach(self) -> None:
        self._instruments.sources.discard(self.statistics)

    def _delivered(self, _name: str, payload: Mapping[str, Any]) -> None:
        message: OutgoingMessage = payload["message"]
        series = self._describe(message)
        instruments = self._instruments
        instruments.sent.add(series.key, series.attributes)
        instruments.latency.record(payload["latency"], series.histogram_attributes)
        instruments.size.record(len(message.value), series.histogram_attributes)

    def _retried(self, _name: str, payload: Mapping[str, Any]) -> None:
        self._count_error(self._instruments.retries, payload)

    def _failed(self, _name: str, payload: Mapping[str, Any]) -> None:
        self._count_error(self._instruments.errors, payload)

    def _count_error(self, tally: _Tally, payload: Mapping[str, Any]) -> None:
        series = self._describe(payload["message"])
        error_type = type(payload["error"]).__name__
        tally.add((*series.key, error_type), {**series.attributes, "error.type": error_type})

    def _rejected(self, _name: str, payload: Mapping[str, Any]) -> None:
        error: InvalidMessage = payload["error"]
        entity = str(payload["entity"])
        instruments = self._instruments
        instruments.rejected.add((entity,), {"entity": entity})
        for problem in error.problems:
            location = _INDEX.sub("[]", problem.location) or "<root>"
            instruments.problems.add(
                (entity, location, problem.kind),
                {"entity": entity, "location": location, "kind": problem.kind},
            )


# -- the publisher's view -------------------------------------------------------------------


class Telemetry:
    """A publisher's metrics and tracing, from given providers or the global ones.

    A provider that is the API's placeholder (no SDK configured yet) is looked up again at
    each :meth:`refresh`, so an SDK configured after the publisher was made still takes effect;
    an explicit ``NoOpMeterProvider``/``NoOpTracerProvider`` switches that signal off.
    """

    def __init__(
        self,
        instrumentation: Instrumentation,
        *,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._instrumentation = instrumentation
        self._describe = _Describer()
        self._lock = threading.Lock()
        self._metrics: _Metrics | None = None
        self.tracing: Tracing | None = None
        """Set once tracing is on: the publisher starts a span per send through it."""

        self._meter_provider = meter_provider
        self._tracer_provider = tracer_provider
        self._await_meter = not isinstance(meter_provider, NoOpMeterProvider)
        self._await_tracer = not isinstance(tracer_provider, NoOpTracerProvider)
        self.wants_statistics = self._await_meter
        """Whether librdkafka's statistics may be read: metrics are not explicitly off."""
        self.refresh()

    def refresh(self) -> None:
        """Switch on what a configured provider allows; cheap once everything is resolved."""
        if not (self._await_meter or self._await_tracer):
            return
        with self._lock:
            if self._await_meter:
                meter_provider = self._resolve(self._meter_provider, metrics.get_meter_provider)
                if meter_provider is not None:
                    self._metrics = _Metrics(_instruments_of(meter_provider), self._describe)
                    self._metrics.attach(self._instrumentation)
                    self._await_meter = False
            if self._await_tracer:
                tracer_provider = self._resolve(self._tracer_provider, trace.get_tracer_provider)
                if tracer_provider is not None:
                    tracer = tracer_provider.get_tracer(SCOPE, __version__)
                    self.tracing = Tracing(tracer, self._describe)
                    self._await_tracer = False

    @staticmethod
    def _resolve(given: Any, global_provider: Callable[[], Any]) -> Any:
        """The provider to use now, or None while there is only a placeholder."""
        provider = given if given is not None and not is_placeholder(given) else global_provider()
        return None if is_placeholder(provider) else provider

    def close(self) -> None:
        """Stop reporting this publisher's statistics (counts stay: they are cumulative)."""
        if self._metrics is not None:
            self._metrics.detach()
