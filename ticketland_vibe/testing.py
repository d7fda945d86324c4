"""An in-memory broker for testing code that publishes, without Kafka.

``memory_publisher()`` returns a real :class:`~ticketland_vibe.VibePublisher` (the same
validation, encoding, headers, ledger, retries and logging) whose producer hands messages to an
:class:`InMemoryBroker` instead of the network::

    from ticketland_vibe.testing import memory_publisher

    publisher, broker = memory_publisher()
    publisher.publish_order(order, events=[event])
    assert [record.key for record in broker.records("orders")] == [b"ord-1"]

Failures can be injected with :meth:`InMemoryBroker.fail_next` to test a caller's handling of
retriable and permanent errors.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError

from ticketland_vibe._encoding import decode
from ticketland_vibe._message import Header
from ticketland_vibe._publisher import VibePublisher
from ticketland_vibe._settings import PublisherSettings

__all__ = ["InMemoryBroker", "Record", "memory_publisher", "murmur2_partition"]

DeliveryCallback = Callable[[KafkaError | None, Any], None]


@dataclass(frozen=True, slots=True)
class Record:
    """One message as the in-memory broker stored it."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: tuple[Header, ...]
    timestamp: int

    def header(self, name: str) -> bytes | None:
        """The value of header ``name``, or None."""
        return next((value for key, value in self.headers if key == name), None)


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The partition the Java client (and ``murmur2_random``) picks for ``key``."""
    seed, m = 0x9747B28C, 0x5BD1E995
    length = len(key)
    h = (seed ^ length) & 0xFFFFFFFF
    whole = length - length % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(key[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = key[whole:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


class _Report:
    """What the delivery callback receives: the parts of confluent-kafka's Message it reads."""

    __slots__ = ("_record",)

    def __init__(self, record: Record) -> None:
        self._record = record

    def topic(self) -> str:
        return self._record.topic

    def partition(self) -> int:
        return self._record.partition

    def offset(self) -> int:
        return self._record.offset

    def key(self) -> bytes:
        return self._record.key

    def value(self) -> bytes:
        return self._record.value

    def timestamp(self) -> tuple[int, int]:
        return (1, self._record.timestamp)  # TIMESTAMP_CREATE_TIME


class InMemoryBroker:
    """Topics in memory; stores what the publisher sends and acknowledges it on poll."""

    def __init__(self, *, partitions: int = 1) -> None:
        self.partitions = partitions
        self._lock = threading.Lock()
        self._topics: dict[str, list[Record]] = {}
        self._failures: deque[KafkaError] = deque()

    def records(self, topic: str) -> list[Record]:
        """Everything stored in ``topic``, in the order it was written."""
        with self._lock:
            return list(self._topics.get(topic, ()))

    def decoded(self, entity: str, topic: str) -> list[Any]:
        """The models a consumer would read from ``topic`` (``entity``: event, order, refund)."""
        return [
            decode(entity, record.value, (record.header("content-type") or b"").decode())
            for record in self.records(topic)
        ]

    def fail_next(
        self, count: int = 1, code: int = KafkaError._MSG_TIMED_OUT, *, fatal: bool = False
    ) -> None:
        """Make the next ``count`` deliveries fail with librdkafka error ``code``.

        ``fatal=True`` reports it as a fatal (idempotent producer) error.
        """
        with self._lock:
            self._failures.extend(KafkaError(code, fatal=fatal) for _ in range(count))

    def _store(self, topic: str, key: bytes, value: bytes, headers: list[Header]) -> Record:
        with self._lock:
            stored = self._topics.setdefault(topic, [])
            partition = murmur2_partition(key, self.partitions)
            offset = sum(1 for record in stored if record.partition == partition)
            record = Record(
                topic, partition, offset, key, value, tuple(headers), int(time.time() * 1000)
            )
            stored.append(record)
            return record

    def _next_failure(self) -> KafkaError | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None


class _MemoryProducer:
    """Stands in for confluent-kafka's Producer: the calls the publisher makes, no network."""

    def __init__(self, broker: InMemoryBroker) -> None:
        self._broker = broker
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, bytes, bytes, list[Header], DeliveryCallback]] = deque()

    def produce(
        self,
        topic: str,
        value: bytes,
        key: bytes,
        headers: list[Header],
        on_delivery: DeliveryCallback,
    ) -> None:
        with self._lock:
            self._queue.append((topic, key, value, list(headers), on_delivery))

    def poll(self, timeout: float = 0) -> int:
        served = 0
        while True:
            with self._lock:
                if not self._queue:
                    break
                topic, key, value, headers, callback = self._queue.popleft()
            failure = self._broker._next_failure()
            if failure is not None:
                callback(failure, None)
            else:
                callback(None, _Report(self._broker._store(topic, key, value, headers)))
            served += 1
        if not served and timeout:
            time.sleep(min(timeout, 0.001))
        return served

    def flush(self, timeout: float = 0) -> int:
        self.poll(0)
        return len(self)

    def purge(self, *_args: Any, **_kwargs: Any) -> None:
        with self._lock:
            purged, self._queue = list(self._queue), deque()
        for _topic, _key, _value, _headers, callback in purged:
            callback(KafkaError(KafkaError._PURGE_QUEUE), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


class _MemoryPublisher(VibePublisher):
    """A VibePublisher whose producer is an in-memory one."""

    def __init__(self, settings: PublisherSettings, broker: InMemoryBroker, **kw: Any) -> None:
        self._memory_broker = broker
        super().__init__(settings, **kw)

    def _create_producer(self) -> Any:
        return _MemoryProducer(self._memory_broker)


def memory_publisher(
    settings: PublisherSettings | None = None,
    *,
    broker: InMemoryBroker | None = None,
    **publisher_options: Any,
) -> tuple[VibePublisher, InMemoryBroker]:
    """A publisher wired to an in-memory broker (made here unless given), and that broker.

    ``settings`` default to ``bootstrap_servers="memory"`` with fast retries; other keywords
    go to :class:`~ticketland_vibe.VibePublisher` (``ledger=``, ``instrumentation=``).
    """
    if settings is None:
        settings = PublisherSettings(
            bootstrap_servers="memory",
            retry_initial_backoff=0.01,
            retry_max_backoff=0.05,
        )
    broker = broker if broker is not None else InMemoryBroker()
    return _MemoryPublisher(settings, broker, **publisher_options), broker
