"""Module-level ``publish_*`` functions, served by one process-wide default publisher."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ticketland_vibe._message import Delivery
from ticketland_vibe._models import Event, Order, Refund
from ticketland_vibe._publisher import VibePublisher
from ticketland_vibe._settings import PublisherSettings

_lock = threading.Lock()
_default: VibePublisher | None = None
_settings: PublisherSettings | None = None


def configure(settings: PublisherSettings) -> None:
    """Use ``settings`` for the default publisher (replacing, and closing, any earlier one)."""
    global _default, _settings
    with _lock:
        previous, _default, _settings = _default, None, settings
    if previous is not None:
        previous.close()


def default_publisher() -> VibePublisher:
    """The process-wide publisher, built on first use from ``configure`` or the environment."""
    global _default
    with _lock:
        if _default is None:
            settings = _settings if _settings is not None else PublisherSettings.from_env()
            _default = VibePublisher(settings)
        return _default


def publish_event(
    event: Event | Mapping[str, Any], *, application_id: str | None = None
) -> Delivery:
    """:meth:`VibePublisher.publish_event` on the default publisher."""
    return default_publisher().publish_event(event, application_id=application_id)


def publish_order(
    order: Order | Mapping[str, Any],
    *,
    application_id: str | None = None,
    events: Iterable[Event | Mapping[str, Any]] = (),
) -> Delivery:
    """:meth:`VibePublisher.publish_order` on the default publisher."""
    return default_publisher().publish_order(order, application_id=application_id, events=events)


def publish_refund(
    refund: Refund | Mapping[str, Any],
    *,
    refund_id: str | int,
    application_id: str | None = None,
) -> Delivery:
    """:meth:`VibePublisher.publish_refund` on the default publisher."""
    return default_publisher().publish_refund(
        refund, refund_id=refund_id, application_id=application_id
    )


@atexit.register
def _close_default() -> None:
    global _default
    with _lock:
        publisher, _default = _default, None
    if publisher is not None:
        publisher.close()
