"""Publish Ticketland's events, orders and refunds to Vibeapp over Kafka, by contract.

The front door is :func:`publish_event`, :func:`publish_order` and :func:`publish_refund`
(on a default publisher configured from the environment), or a :class:`VibePublisher` of
your own. Errors live in :mod:`ticketland_vibe.errors`.
"""

from __future__ import annotations

from ticketland_vibe import errors
from ticketland_vibe._api import (
    configure,
    default_publisher,
    publish_event,
    publish_order,
    publish_refund,
)
from ticketland_vibe._encoding import decode
from ticketland_vibe._headers import (
    APPLICATION_ID,
    CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    SCHEMA_VERSION,
)
from ticketland_vibe._instrumentation import EVENT_NAMES, Instrumentation
from ticketland_vibe._ledger import EventLedger, InMemoryEventLedger
from ticketland_vibe._logging import HIDDEN, hide_personal_data
from ticketland_vibe._message import Delivery, OutgoingMessage
from ticketland_vibe._models import (
    Currency,
    Customer,
    Event,
    EventCategory,
    EventStatus,
    Legals,
    LegalType,
    Order,
    Organizer,
    Refund,
    Ticket,
    Venue,
)
from ticketland_vibe._publisher import VibePublisher
from ticketland_vibe._settings import PublisherSettings
from ticketland_vibe._version import __version__
from ticketland_vibe.errors import (
    ConfigurationError,
    EventNotPublished,
    InvalidMessage,
    PublishError,
    VibeError,
)

__all__ = [
    "APPLICATION_ID",
    "CONTENT_TYPE",
    "EVENT_NAMES",
    "HIDDEN",
    "JSON_CONTENT_TYPE",
    "PROTOBUF_CONTENT_TYPE",
    "SCHEMA_VERSION",
    "ConfigurationError",
    "Currency",
    "Customer",
    "Delivery",
    "Event",
    "EventCategory",
    "EventLedger",
    "EventNotPublished",
    "EventStatus",
    "InMemoryEventLedger",
    "Instrumentation",
    "InvalidMessage",
    "LegalType",
    "Legals",
    "Order",
    "Organizer",
    "OutgoingMessage",
    "PublishError",
    "PublisherSettings",
    "Refund",
    "Ticket",
    "Venue",
    "VibeError",
    "VibePublisher",
    "__version__",
    "configure",
    "decode",
    "default_publisher",
    "errors",
    "hide_personal_data",
    "publish_event",
    "publish_order",
    "publish_refund",
]
