"""Instrumentation: the publisher emits named events; logging and metrics subscribe to them.

Event names are stable (part of the public API):

- ``message.rejected``: ``entity``, ``key``, ``error`` (an ``InvalidMessage``).
- ``message.sent``: ``message`` (bytes handed to the producer; not yet delivered), ``span``.
- ``message.delivered``: ``message``, ``delivery``, ``latency`` (seconds from send), ``span``.
- ``message.retried``: ``message``, ``error``, ``attempt`` (the one that failed), ``delay``,
  ``span`` (of the failed attempt).
- ``message.failed``: ``message``, ``error`` (final; no more retries), ``span`` (of the last
  attempt).
- ``producer.error``: ``code``, ``reason``, ``fatal`` (from librdkafka's error callback).
- ``producer.replaced``: ``reason``, ``affected`` (messages reported failed by the old one).
- ``producer.statistics``: ``statistics`` (librdkafka's statistics, the JSON text as it came,
  every ``statistics.interval.ms``; parse it off the hot path).

``span`` is the OpenTelemetry span of sending the message when tracing is on, else None; it
has ended by the time ``message.delivered``, ``message.retried`` or ``message.failed`` arrive."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

Listener = Callable[[str, Mapping[str, Any]], None]

EVENT_NAMES = (
    "message.rejected",
    "message.sent",
    "message.delivered",
    "message.retried",
    "message.failed",
    "producer.error",
    "producer.replaced",
    "producer.statistics",
)

_logger = logging.getLogger("ticketland_vibe")


class Instrumentation:
    """A tiny publish/subscribe hub; a listener's own failure never disturbs publishing."""

    def __init__(self) -> None:
        self._listeners: dict[str, tuple[Listener, ...]] = {}
        self._lock = threading.Lock()

    def subscribe(self, name: str, listener: Listener) -> None:
        """Call ``listener(name, payload)`` on each event ``name`` (``"*"``: every event)."""
        names = EVENT_NAMES if name == "*" else (name,)
        for each in names:
            if each not in EVENT_NAMES:
                raise ValueError(f"unknown instrumentation event {each!r}")
        with self._lock:
            for each in names:
                self._listeners[each] = (*self._listeners.get(each, ()), listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        with self._lock:
            self._listeners = {
                name: tuple(each for each in listeners if each is not listener)
                for name, listeners in self._listeners.items()
            }

    def enabled(self, name: str) -> bool:
        """Whether anyone listens to ``name``: lets callers skip building a payload."""
        return bool(self._listeners.get(name))

    def emit(self, name: str, **payload: Any) -> None:
        """Tell every listener of ``name``."""
        for listener in self._listeners.get(name, ()):
            try:
                listener(name, payload)
            except Exception:
                _logger.exception("instrumentation listener failed event=%s", name)
