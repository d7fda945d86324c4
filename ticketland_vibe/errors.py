"""The library's exceptions, grouped by what the caller should do about them.

- :class:`InvalidMessage`: fix the data; retrying cannot help.
- :class:`PublishError` with ``retriable=True``: try again later (the broker or network failed).
- :class:`PublishError` with ``retriable=False``: something permanent (credentials, permissions,
  size); an operator must act.
- :class:`EventNotPublished`: an order waits for its events; send them, then the order.
- :class:`ConfigurationError`: fix the settings.

No exception of confluent-kafka or pydantic escapes the public API: they are translated here or
in the module that calls them, and kept as ``__cause__``. No message ever carries a customer's
personal data or a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthenticationFailed",
    "AuthorizationFailed",
    "BrokerUnavailable",
    "ConfigurationError",
    "DeliveryTimeout",
    "EventNotPublished",
    "InvalidMessage",
    "MessageTooLarge",
    "Problem",
    "ProducerFatalError",
    "PublishError",
    "QueueFull",
    "TopicNotFound",
    "VibeError",
]


class VibeError(Exception):
    """Base class of every exception this library raises."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a message: where (``tickets[2].event_id``), what kind, and why."""

    location: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.location or '<root>'}: {self.message}"


class InvalidMessage(VibeError, ValueError):
    """The data breaks the contract: nothing was sent; fix the data, never retry."""

    def __init__(self, entity: str, problems: Sequence[Problem], *, key: str | None = None):
        self.entity = entity
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.key = key
        listed = "; ".join(str(problem) for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {entity}: {count} {noun}: {listed}")

    @property
    def locations(self) -> tuple[str, ...]:
        """The locations of the problems, in order, e.g. ``("tickets[2].event_id",)``."""
        return tuple(problem.location for problem in self.problems)


class PublishError(VibeError):
    """A message was not delivered; ``retriable`` says whether trying again may succeed."""

    retriable: bool = True

    def __init__(
        self,
        message: str,
        *,
        retriable: bool | None = None,
        topic: str | None = None,
        key: bytes | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        if retriable is not None:
            self.retriable = retriable
        self.topic = topic
        self.key = key
        self.code = code


class DeliveryTimeout(PublishError):
    """The broker did not acknowledge the message within the delivery timeout."""

    retriable = True


class BrokerUnavailable(PublishError):
    """The brokers could not be reached or were not ready (leader election, too few replicas)."""

    retriable = True


class QueueFull(PublishError):
    """The producer's local queue stayed full for longer than the configured wait."""

    retriable = True


class ProducerFatalError(PublishError):
    """The idempotent producer hit a fatal error; it was replaced and the message may be resent."""

    retriable = True


class AuthenticationFailed(PublishError):
    """The broker rejected the credentials (SASL) or the TLS handshake failed."""

    retriable = False


class AuthorizationFailed(PublishError):
    """The credentials are valid but lack the permission to write to the topic."""

    retriable = False


class MessageTooLarge(PublishError):
    """The encoded message is larger than the producer or the broker accepts."""

    retriable = False


class TopicNotFound(PublishError):
    """The topic does not exist on the cluster (check the topic settings)."""

    retriable = False


class EventNotPublished(PublishError):
    """An order refers to events never delivered; the order was not sent (retry once they are)."""

    retriable = True

    def __init__(self, order_key: str, event_ids: Sequence[str], *, topic: str | None = None):
        self.order_key = order_key
        self.event_ids: tuple[str, ...] = tuple(event_ids)
        listed = ", ".join(self.event_ids)
        super().__init__(
            f"order {order_key} was not sent: its events were never delivered: {listed}; "
            "publish them first (publish_order(..., events=[...])) or change "
            "PublisherSettings.unknown_events",
            topic=topic,
            key=order_key.encode(),
            code="event_not_published",
        )


class ConfigurationError(VibeError, ValueError):
    """The settings are wrong or incomplete; fix the configuration."""
