"""The publisher: validate, encode, send through an idempotent producer, wait for delivery."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from pydantic import BaseModel
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from ticketland_vibe._encoding import ENCODERS
from ticketland_vibe._headers import CONTENT_TYPES, HeaderFactory
from ticketland_vibe._instrumentation import Instrumentation
from ticketland_vibe._kafka_errors import AUTH_CODES, translate
from ticketland_vibe._ledger import EventLedger, InMemoryEventLedger, fingerprint
from ticketland_vibe._logging import LoggingListener, logger
from ticketland_vibe._message import ENTITIES, Delivery, Entity, OutgoingMessage
from ticketland_vibe._models import Event, Order, Refund
from ticketland_vibe._settings import PublisherSettings
from ticketland_vibe._validation import validate_model
from ticketland_vibe.errors import (
    ConfigurationError,
    DeliveryTimeout,
    EventNotPublished,
    InvalidMessage,
    MessageTooLarge,
    Problem,
    ProducerFatalError,
    PublishError,
    QueueFull,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from ticketland_vibe._telemetry import SendSpan, Telemetry, Tracing

ModelT = TypeVar("ModelT", bound=BaseModel)

Result = Delivery | PublishError

_BROKER_TOO_LARGE = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE).name()

# While producing a batch, delivery reports are served after every this many messages.
_POLL_EVERY = 32

# Longest single wait inside librdkafka's poll while a caller waits for its reports.
_WAIT_SLICE = 0.01

# Seconds a caller waits for a delivery report beyond librdkafka's own message timeout.
_REPORT_MARGIN = 5.0

# librdkafka's statistics.interval.ms when OpenTelemetry metrics can be on (kafka_config wins).
STATISTICS_INTERVAL_MS = 15_000


class _Batch:
    """Counts the delivery reports still due for one dispatch.

    A report may be served by any thread that polls the producer; ``list.append`` is atomic,
    so counting needs no lock on this hot path.
    """

    __slots__ = ("_due", "_reports")

    def __init__(self, due: int) -> None:
        self._due = due
        self._reports: list[None] = []

    def report(self) -> None:
        self._reports.append(None)

    @property
    def done(self) -> bool:
        return len(self._reports) >= self._due


class _Pending:
    """One message handed to librdkafka, waiting for its delivery report.

    It is itself the message's delivery callback: one object per message rather than two,
    which matters for the garbage collector when many thousands are in flight.
    """

    __slots__ = (
        "batch",
        "deliver",
        "generation",
        "index",
        "message",
        "result",
        "sent_at",
        "trace",
    )

    def __init__(
        self,
        message: OutgoingMessage,
        batch: _Batch,
        index: int,
        deliver: Callable[[_Pending, KafkaError | None, Message], None],
    ) -> None:
        self.message = message
        self.batch = batch
        self.index = index
        self.deliver = deliver
        self.result: Result | None = None
        self.sent_at = 0.0
        self.generation = 0
        self.trace: SendSpan | None = None

    def __call__(self, error: KafkaError | None, msg: Message) -> None:
        self.deliver(self, error, msg)

    @property
    def span(self) -> Span | None:
        """The OpenTelemetry span of this send, while tracing is on."""
        return self.trace.span if self.trace is not None else None


class _RetryRound(Exception):
    """Raised inside a tenacity attempt when some messages of a call are worth retrying."""

    def __init__(
        self, failed: Sequence[tuple[OutgoingMessage, PublishError, Span | None]]
    ) -> None:
        super().__init__(f"{len(failed)} messages to retry")
        self.failed = failed


class VibePublisher:
    """Publishes events, orders and refunds to Vibeapp's topics; thread-safe.

    ``prepare_*`` validates and encodes (no I/O); ``send``/``send_many`` hand messages to an
    idempotent producer and return only after the broker acknowledged them (acks=all);
    ``publish_*`` do both. Use it as a context manager, or call :meth:`close`.

    ``connect=False`` defers the producer (and its connections) to the first send: for a
    process that only prepares messages, e.g. staging outbox rows in a web request.

    With OpenTelemetry installed, it reports metrics and a PRODUCER span per send to
    ``meter_provider``/``tracer_provider``, or by default to the global ones (nothing is
    recorded while no SDK is configured).
    """

    def __init__(
        self,
        settings: PublisherSettings,
        *,
        ledger: EventLedger | None = None,
        instrumentation: Instrumentation | None = None,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
        connect: bool = True,
    ) -> None:
        if not isinstance(settings, PublisherSettings):
            raise ConfigurationError("VibePublisher needs a PublisherSettings")
        self.settings = settings
        self.ledger: EventLedger = ledger if ledger is not None else InMemoryEventLedger()
        self.instrumentation = (
            instrumentation if instrumentation is not None else Instrumentation()
        )
        LoggingListener().attach(self.instrumentation)
        self._telemetry = _telemetry(
            self.instrumentation, meter_provider=meter_provider, tracer_provider=tracer_provider
        )

        encoder_of = ENCODERS[settings.message_format]
        self._encoders = {entity: encoder_of(entity) for entity in ENTITIES}
        self._topics = {entity: settings.topic_for(entity) for entity in ENTITIES}
        self._headers = HeaderFactory(
            content_type=CONTENT_TYPES[settings.message_format],
            schema_version=settings.schema_version,
        )

        self._lock = threading.Lock()
        self._generation = 0
        self._purge_reasons: dict[int, PublishError] = {}
        self._retired: list[Producer] = []
        self._connected = False
        self._closed = False
        self._dispatching = 0
        self._stop = threading.Event()
        self._poller = threading.Thread(
            target=self._poll_forever, name="ticketland-vibe-poller", daemon=True
        )
        if connect:
            self._connect()

    def _connect(self) -> None:
        """Create the producer and start serving its callbacks; once, on first need."""
        with self._lock:
            if self._connected:
                return
            self._producer: Producer = self._create_producer()
            # Read together, without a lock, on the hot path; replaced together under the lock.
            self._current: tuple[Producer, int] = (self._producer, self._generation)
            self._connected = True
        self._poller.start()

    # -- preparing ------------------------------------------------------------------------

    def prepare_event(
        self, event: Event | Mapping[str, Any], *, application_id: str | None = None
    ) -> OutgoingMessage:
        """Validate and encode an event; no I/O. Raises ``InvalidMessage``."""
        model = self._validate("event", Event, event)
        return self._build("event", model.id, model, application_id)

    def prepare_order(
        self, order: Order | Mapping[str, Any], *, application_id: str | None = None
    ) -> OutgoingMessage:
        """Validate and encode an order; no I/O. The event ledger is consulted when sending."""
        model = self._validate("order", Order, order)
        event_ids = tuple(dict.fromkeys([ticket.event_id for ticket in model.tickets]))
        return self._build("order", model.id, model, application_id, event_ids)

    def prepare_refund(
        self,
        refund: Refund | Mapping[str, Any],
        *,
        refund_id: str | int,
        application_id: str | None = None,
    ) -> OutgoingMessage:
        """Validate and encode a refund, keyed by ``refund_id``; no I/O."""
        key = _refund_key(refund_id)
        model = self._validate("refund", Refund, refund, key=key)
        return self._build("refund", key, model, application_id)

    def _validate(
        self, entity: Entity, model_cls: type[ModelT], data: object, *, key: str | None = None
    ) -> ModelT:
        try:
            return validate_model(model_cls, data)  # type: ignore[arg-type]
        except InvalidMessage as exc:
            if key is not None and exc.key is None:
                exc.key = key
            self._reject(entity, exc.key, exc)
            raise

    def _reject(self, entity: Entity, key: str | None, error: InvalidMessage) -> None:
        if self._telemetry is not None:
            self._telemetry.refresh()
        self.instrumentation.emit("message.rejected", entity=entity, key=key, error=error)

    def _build(
        self,
        entity: Entity,
        key: str,
        model: BaseModel,
        application_id: str | None,
        event_ids: tuple[str, ...] = (),
    ) -> OutgoingMessage:
        app = self.settings.application_id if application_id is None else application_id
        try:
            headers, headers_bytes = self._headers.headers(app)
        except ValueError:
            error = InvalidMessage(
                entity,
                [Problem("headers.application-id", "blank", "application_id must not be blank")],
                key=key,
            )
            try:
                raise error from None
            except InvalidMessage:
                # Raised first, so that the rejection is reported with its traceback.
                self._reject(entity, key, error)
                raise
        encoded_key = key.encode()
        value = self._encoders[entity](model)
        size = len(encoded_key) + len(value) + headers_bytes
        if size > self.settings.max_message_bytes:
            raise MessageTooLarge(
                f"{entity} {key} is {size} bytes encoded, more than max_message_bytes "
                f"({self.settings.max_message_bytes}); it was not sent",
                topic=self._topics[entity],
                key=encoded_key,
                code="too_large",
            )
        message = OutgoingMessage(
            entity, self._topics[entity], encoded_key, value, headers, event_ids
        )
        return message

    # -- publishing -----------------------------------------------------------------------

    def publish_event(
        self, event: Event | Mapping[str, Any], *, application_id: str | None = None
    ) -> Delivery:
        """Prepare and send an event; return once the broker acknowledged it."""
        return self.send(self.prepare_event(event, application_id=application_id))

    def publish_order(
        self,
        order: Order | Mapping[str, Any],
        *,
        application_id: str | None = None,
        events: Iterable[Event | Mapping[str, Any]] = (),
    ) -> Delivery:
        """Publish ``events`` not yet delivered with the same content, then the order.

        Everything is validated before anything is sent; the order goes out only after its
        events were acknowledged.
        """
        message = self.prepare_order(order, application_id=application_id)
        event_messages = [self.prepare_event(event) for event in events]

        if event_messages:
            ids = [event.key.decode() for event in event_messages]
            known = self.ledger.fingerprints(ids)
            changed = [
                event
                for event_id, event in zip(ids, event_messages, strict=True)
                if known.get(event_id) != fingerprint(event.value)
            ]
            for result in self.send_many(changed):
                if isinstance(result, PublishError):
                    raise result

        return self.send(message)

    def publish_refund(
        self,
        refund: Refund | Mapping[str, Any],
        *,
        refund_id: str | int,
        application_id: str | None = None,
    ) -> Delivery:
        """Prepare and send a refund; return once the broker acknowledged it."""
        return self.send(
            self.prepare_refund(refund, refund_id=refund_id, application_id=application_id)
        )

    def send(self, message: OutgoingMessage) -> Delivery:
        """Send one prepared message and wait for its delivery; raise its ``PublishError``."""
        result = self.send_many([message])[0]
        if isinstance(result, PublishError):
            raise result
        return result

    def send_many(self, messages: Iterable[OutgoingMessage]) -> list[Result]:
        """Send prepared messages, pipelined; one ``Delivery`` or ``PublishError`` each, in order.

        Retriable failures are retried (exponential backoff with jitter, bounded in attempts
        and time); an order whose events are in the same call is sent after they are
        delivered. Per-message failures are returned, not raised.
        """
        batch = list(messages)
        for index, message in enumerate(batch):
            if not isinstance(message, OutgoingMessage):
                raise TypeError(
                    f"send_many takes OutgoingMessage objects (from prepare_*); item {index} "
                    f"is a {type(message).__name__}"
                )
        if self._closed:
            raise ConfigurationError("the publisher is closed")
        if not self._connected:
            self._connect()
        if self._telemetry is not None:
            self._telemetry.refresh()
        results: list[Result | None] = [None] * len(batch)
        # The span of each message's latest attempt, while tracing is on.
        spans: list[Span | None] = [None] * len(batch)
        todo = list(range(len(batch)))

        settings = self.settings
        retrying = Retrying(
            stop=stop_after_attempt(settings.retry_attempts)
            | stop_after_delay(settings.retry_total_timeout),
            # Exponential from retry_initial_backoff, capped, plus up to one initial backoff of
            # jitter so that many callers failing together do not retry in step.
            wait=wait_exponential(
                multiplier=settings.retry_initial_backoff, max=settings.retry_max_backoff
            )
            + wait_random(0, settings.retry_initial_backoff),
            retry=retry_if_exception_type(_RetryRound),
            before_sleep=self._before_retry,
        )
        try:
            for attempt in retrying:
                with attempt:
                    outcomes, round_spans = self._round([batch[index] for index in todo])
                    for index, outcome, span in zip(todo, outcomes, round_spans, strict=True):
                        results[index] = outcome
                        spans[index] = span
                    todo = _worth_retrying(batch, todo, results)
                    if todo:
                        raise _RetryRound(
                            [
                                (batch[index], _error(results[index]), spans[index])
                                for index in todo
                            ]
                        )
        except RetryError:
            pass

        final: list[Result] = []
        for message, result, span in zip(batch, results, spans, strict=True):
            assert result is not None
            if isinstance(result, PublishError):
                self._report_failure(message, result, span)
            final.append(result)
        return final

    def flush(self, timeout: float = 30.0) -> int:
        """Wait up to ``timeout`` seconds for queued messages; return how many are left."""
        if not self._connected:
            return 0
        remaining: int = self._producer.flush(timeout)
        return remaining

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to ``timeout`` seconds), then release the producer."""
        if self._closed:
            return
        self._closed = True
        remaining = self.flush(timeout)
        if remaining:
            logger.error("publisher closed with undelivered messages count=%d", remaining)
        self._stop.set()
        if self._connected:
            self._poller.join(timeout=5.0)
        if self._telemetry is not None:
            self._telemetry.close()

    def __enter__(self) -> VibePublisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"VibePublisher(bootstrap_servers={self.settings.bootstrap_servers!r}, "
            f"format={self.settings.message_format!r})"
        )

    # -- one round of sending -------------------------------------------------------------

    def _round(self, batch: list[OutgoingMessage]) -> tuple[list[Result], list[Span | None]]:
        """Send ``batch`` once: events and independent messages first, then dependent orders.

        Returns the outcomes and, while tracing is on, the span of each message's send.
        """
        out: list[Result | None] = [None] * len(batch)
        spans: list[Span | None] = [None] * len(batch)
        in_batch = {message.key.decode() for message in batch if message.entity == "event"}
        needed = {event_id for message in batch for event_id in message.event_ids}
        known = set(self.ledger.fingerprints(needed)) if needed else set()

        first: list[int] = []
        deferred: list[int] = []
        for index, message in enumerate(batch):
            missing = [event_id for event_id in message.event_ids if event_id not in known]
            if not missing:
                first.append(index)
            elif all(event_id in in_batch for event_id in missing):
                deferred.append(index)
            elif self.settings.unknown_events == "send":
                logger.warning(
                    "order sent before its events key=%s missing_events=%s",
                    message.key.decode(),
                    ",".join(missing),
                )
                first.append(index)
            else:
                out[index] = EventNotPublished(message.key.decode(), missing, topic=message.topic)

        self._dispatch(batch, first, out, spans)
        if deferred:
            known = set(self.ledger.fingerprints(needed))
            ready = []
            for index in deferred:
                message = batch[index]
                missing = [event_id for event_id in message.event_ids if event_id not in known]
                if missing:
                    out[index] = EventNotPublished(
                        message.key.decode(), missing, topic=message.topic
                    )
                else:
                    ready.append(index)
            self._dispatch(batch, ready, out, spans)
        return [_result(outcome) for outcome in out], spans

    def _dispatch(
        self,
        batch: list[OutgoingMessage],
        indexes: list[int],
        out: list[Result | None],
        spans: list[Span | None],
    ) -> None:
        """Hand the messages to librdkafka, wait for every report, record delivered events."""
        if not indexes:
            return
        with self._lock:
            self._dispatching += 1
        try:
            self._dispatch_and_wait(batch, indexes, out, spans)
        finally:
            with self._lock:
                self._dispatching -= 1

    def _dispatch_and_wait(
        self,
        batch: list[OutgoingMessage],
        indexes: list[int],
        out: list[Result | None],
        spans: list[Span | None],
    ) -> None:
        tracing = self._telemetry.tracing if self._telemetry is not None else None
        waiting = _Batch(len(indexes))
        deliver = self._on_delivery
        pendings: list[_Pending] = []
        for position, index in enumerate(indexes):
            if position % _POLL_EVERY == _POLL_EVERY - 1:
                # Serve the reports that arrived meanwhile, a few at a time: cheaper than
                # after every message, and the local queue does not fill up with them.
                self._current[0].poll(0)
            pending = _Pending(batch[index], waiting, index, deliver)
            error = self._produce(pending, tracing)
            if tracing is not None:
                spans[index] = pending.span
            if error is None:
                pendings.append(pending)
            else:
                out[index] = error
                if pending.trace is not None:
                    pending.trace.failed(error)
                waiting.report()

        # The dispatching thread serves delivery reports itself (no hand-off to the poller
        # thread on the hot path); a report served by another thread counts just the same.
        give_up_at = time.monotonic() + self.settings.delivery_timeout + _REPORT_MARGIN
        while not waiting.done:
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                break
            self._producer.poll(min(remaining, _WAIT_SLICE))
        delivered_events = []
        for pending in pendings:
            index = pending.index
            result = pending.result
            if result is None:
                message = pending.message
                result = DeliveryTimeout(
                    f"no delivery report within {self.settings.delivery_timeout:g}s",
                    topic=message.topic,
                    key=message.key,
                    code="no_report",
                )
                if pending.trace is not None:
                    pending.trace.failed(result)
            elif pending.message.entity == "event" and isinstance(result, Delivery):
                delivered_events.append(
                    (pending.message.key.decode(), fingerprint(pending.message.value))
                )
            out[index] = result
        if delivered_events:
            self.ledger.record(delivered_events)

        if len(pendings) > 1:
            # The broker refuses a whole record batch when one message in it is too large for
            # the topic: send each refused message alone, in order, to find the real culprit.
            for pending in pendings:
                outcome = out[pending.index]
                if isinstance(outcome, MessageTooLarge) and outcome.code == _BROKER_TOO_LARGE:
                    self._dispatch(batch, [pending.index], out, spans)

    def _produce(self, pending: _Pending, tracing: Tracing | None) -> PublishError | None:
        """Hand one message to librdkafka, waiting (bounded) for room in a full queue.

        With tracing on, the send's span starts here and its context goes out as headers;
        the stored message is not changed.
        """
        message = pending.message
        headers: list[tuple[str, str | bytes | None]] = list(message.headers)
        if tracing is not None:
            pending.trace = tracing.start(message, headers)
        give_up_at: float | None = None
        replaced = False
        while True:
            producer, generation = self._current
            pending.generation = generation
            pending.sent_at = time.monotonic()
            try:
                producer.produce(
                    message.topic,
                    value=message.value,
                    key=message.key,
                    headers=headers,
                    on_delivery=pending,
                )
            except BufferError:
                now = time.monotonic()
                if give_up_at is None:
                    give_up_at = now + self.settings.queue_full_timeout
                if now >= give_up_at:
                    return QueueFull(
                        f"the local queue stayed full for {self.settings.queue_full_timeout:g}s",
                        topic=message.topic,
                        key=message.key,
                        code="_QUEUE_FULL",
                    )
                producer.poll(_WAIT_SLICE)
                continue
            except KafkaException as exc:
                error = translate(exc.args[0], topic=message.topic, key=message.key)
                error.__cause__ = exc
                if isinstance(error, ProducerFatalError) and not replaced:
                    self._replace_producer(generation, str(error))
                    replaced = True
                    continue
                return error
            if self.instrumentation.enabled("message.sent"):
                self.instrumentation.emit("message.sent", message=message, span=pending.span)
            return None

    # -- librdkafka callbacks (on the poller thread) --------------------------------------

    def _on_delivery(self, pending: _Pending, error: KafkaError | None, msg: Message) -> None:
        message = pending.message
        if error is None:
            latency = time.monotonic() - pending.sent_at
            timestamp_type, timestamp = msg.timestamp()
            delivery = Delivery(
                message.topic,
                msg.partition() or 0,
                msg.offset() or 0,
                message.key,
                timestamp if timestamp_type else None,
            )
            pending.result = delivery
            if pending.trace is not None:
                pending.trace.delivered(delivery.partition, delivery.offset)
            self.instrumentation.emit(
                "message.delivered",
                message=message,
                delivery=delivery,
                latency=latency,
                span=pending.span,
            )
        else:
            code = error.code()
            reason = self._purge_reasons.get(pending.generation)
            if reason is not None and code in (
                KafkaError._PURGE_QUEUE,
                KafkaError._PURGE_INFLIGHT,
            ):
                pending.result = type(reason)(
                    str(reason), topic=message.topic, key=message.key, code=reason.code
                )
            else:
                pending.result = translate(error, topic=message.topic, key=message.key)
            if pending.trace is not None:
                pending.trace.failed(pending.result)
            if error.fatal():
                self._replace_producer(pending.generation, error.str())
        pending.batch.report()

    def _on_error(self, error: KafkaError) -> None:
        self.instrumentation.emit(
            "producer.error", code=error.name(), reason=error.str(), fatal=error.fatal()
        )
        if error.fatal():
            self._replace_producer(self._generation, error.str())
        elif error.code() in AUTH_CODES:
            # Credentials or TLS trust are wrong: fail what waits now instead of letting it
            # time out; nothing that is queued has reached the broker.
            with self._lock:
                generation, producer = self._generation, self._producer
            self._purge_reasons[generation] = translate(error)
            producer.purge(in_queue=True, in_flight=False, blocking=False)

    def _replace_producer(self, generation: int, reason: str) -> None:
        """After a fatal idempotence error: a new producer; the old one's messages fail."""
        with self._lock:
            if generation != self._generation or self._closed:
                return
            old = self._producer
            self._purge_reasons[generation] = ProducerFatalError(
                f"the idempotent producer failed fatally and was replaced: {reason}",
                code="_FATAL",
            )
            self._producer = self._create_producer()
            self._generation += 1
            self._current = (self._producer, self._generation)
            self._retired.append(old)
        affected = len(old)
        old.purge(in_queue=True, in_flight=True, blocking=False)
        self.instrumentation.emit("producer.replaced", reason=reason, affected=affected)

    def _on_statistics(self, statistics: str) -> None:
        self.instrumentation.emit("producer.statistics", statistics=statistics)

    def _create_producer(self) -> Producer:
        config: dict[str, Any] = dict(self.settings.producer_config())
        if self._telemetry is not None and self._telemetry.wants_statistics:
            config.setdefault("statistics.interval.ms", STATISTICS_INTERVAL_MS)
        config["error_cb"] = self._on_error
        config["stats_cb"] = self._on_statistics
        config["logger"] = logger
        try:
            return Producer(config)
        except KafkaException as exc:
            raise ConfigurationError(
                f"the producer rejected its configuration: {exc.args[0].str()}"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"the producer rejected its configuration: {exc}") from None

    def _poll_forever(self) -> None:
        """Serve delivery reports and error callbacks until the publisher is closed."""
        while not self._stop.is_set():
            if self._dispatching:
                # Callers waiting for deliveries poll the producer themselves.
                self._stop.wait(_WAIT_SLICE * 5)
            else:
                self._producer.poll(_WAIT_SLICE * 5)
            if self._retired:
                for old in list(self._retired):
                    old.poll(0)
                    if len(old) == 0:
                        self._retired.remove(old)

    # -- reporting ------------------------------------------------------------------------

    def _before_retry(self, state: RetryCallState) -> None:
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        if not isinstance(failure, _RetryRound):
            return
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        for message, error, span in failure.failed:
            self.instrumentation.emit(
                "message.retried",
                message=message,
                error=error,
                attempt=state.attempt_number,
                delay=delay,
                span=span,
            )

    def _report_failure(
        self, message: OutgoingMessage, error: PublishError, span: Span | None
    ) -> None:
        if error.__traceback__ is None:
            try:
                raise error
            except PublishError:
                pass
        self.instrumentation.emit("message.failed", message=message, error=error, span=span)


def _telemetry(
    instrumentation: Instrumentation,
    *,
    meter_provider: MeterProvider | None,
    tracer_provider: TracerProvider | None,
) -> Telemetry | None:
    """The publisher's OpenTelemetry reporting, or None when the API is not installed."""
    try:
        from ticketland_vibe._telemetry import Telemetry
    except ImportError as exc:
        if not (exc.name or "").startswith("opentelemetry"):
            raise
        return None
    return Telemetry(
        instrumentation, meter_provider=meter_provider, tracer_provider=tracer_provider
    )


def _refund_key(refund_id: object) -> str:
    if isinstance(refund_id, bool) or not isinstance(refund_id, str | int):
        raise InvalidMessage(
            "refund", [Problem("refund_id", "type", "refund_id must be a string or an integer")]
        )
    key = str(refund_id)
    if not key.strip():
        raise InvalidMessage("refund", [Problem("refund_id", "blank", "refund_id is blank")])
    return key


def _result(outcome: Result | None) -> Result:
    assert outcome is not None
    return outcome


def _error(outcome: Result | None) -> PublishError:
    assert isinstance(outcome, PublishError)
    return outcome


def _worth_retrying(
    batch: list[OutgoingMessage], todo: list[int], results: list[Result | None]
) -> list[int]:
    """Indexes to send again: retriable broker failures, and orders waiting on those events."""
    again = [
        index
        for index in todo
        if isinstance(results[index], PublishError)
        and not isinstance(results[index], EventNotPublished)
        and _error(results[index]).retriable
    ]
    waiting_on = {batch[index].key.decode() for index in again if batch[index].entity == "event"}
    for index in todo:
        result = results[index]
        if isinstance(result, EventNotPublished) and waiting_on.intersection(result.event_ids):
            again.append(index)
    return sorted(again)


__all__ = ["VibePublisher"]
