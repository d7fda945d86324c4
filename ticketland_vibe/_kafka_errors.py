"""The one place where confluent-kafka's errors become the library's own."""

from __future__ import annotations

from confluent_kafka import KafkaError

from ticketland_vibe.errors import (
    AuthenticationFailed,
    AuthorizationFailed,
    BrokerUnavailable,
    DeliveryTimeout,
    MessageTooLarge,
    ProducerFatalError,
    PublishError,
    QueueFull,
    TopicNotFound,
)

_BY_CODE: dict[int, type[PublishError]] = {
    KafkaError._MSG_TIMED_OUT: DeliveryTimeout,
    KafkaError._TIMED_OUT: DeliveryTimeout,
    KafkaError.REQUEST_TIMED_OUT: DeliveryTimeout,
    KafkaError._TRANSPORT: BrokerUnavailable,
    KafkaError._ALL_BROKERS_DOWN: BrokerUnavailable,
    KafkaError.NOT_ENOUGH_REPLICAS: BrokerUnavailable,
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND: BrokerUnavailable,
    KafkaError.LEADER_NOT_AVAILABLE: BrokerUnavailable,
    KafkaError.NOT_LEADER_FOR_PARTITION: BrokerUnavailable,
    KafkaError.NETWORK_EXCEPTION: BrokerUnavailable,
    KafkaError._QUEUE_FULL: QueueFull,
    KafkaError._AUTHENTICATION: AuthenticationFailed,
    KafkaError.SASL_AUTHENTICATION_FAILED: AuthenticationFailed,
    KafkaError._SSL: AuthenticationFailed,
    KafkaError.TOPIC_AUTHORIZATION_FAILED: AuthorizationFailed,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: AuthorizationFailed,
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: AuthorizationFailed,
    KafkaError.MSG_SIZE_TOO_LARGE: MessageTooLarge,
    KafkaError.RECORD_LIST_TOO_LARGE: MessageTooLarge,
    KafkaError.UNKNOWN_TOPIC_OR_PART: TopicNotFound,
    KafkaError._UNKNOWN_TOPIC: TopicNotFound,
    KafkaError._UNKNOWN_PARTITION: TopicNotFound,
    KafkaError._FATAL: ProducerFatalError,
}

# Codes that can never succeed by sending the same bytes again.
_PERMANENT = frozenset(
    {
        KafkaError.INVALID_RECORD,
        KafkaError.INVALID_MSG,
        KafkaError.POLICY_VIOLATION,
        KafkaError.INVALID_REQUIRED_ACKS,
        KafkaError._INVALID_ARG,
    }
)

AUTH_CODES = frozenset(
    {KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL}
)


def translate(
    error: KafkaError, *, topic: str | None = None, key: bytes | None = None
) -> PublishError:
    """The library's error for a librdkafka error, with an honest ``retriable`` flag."""
    code = error.code()
    cls = _BY_CODE.get(code)
    if error.fatal():
        cls = ProducerFatalError
    name = error.name()
    text = f"{name}: {error.str()}"
    if cls is not None:
        return cls(text, topic=topic, key=key, code=name)
    retriable = code not in _PERMANENT and bool(error.retriable())
    return PublishError(text, retriable=retriable, topic=topic, key=key, code=name)
