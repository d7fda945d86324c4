"""Logging, hung off the instrumentation events: one key=value line per event, no personal data.

The library logs to the ``ticketland_vibe`` logger and adds only a ``NullHandler``: handlers
and levels are the application's (WARNING in production, INFO on staging). A line about a
message that was sent with tracing on ends with ``trace_id=… span_id=…`` of the send's span,
also set as the record's ``otelTraceID``/``otelSpanID`` (the names of OpenTelemetry's logging
instrumentation), and is written with that span current.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ticketland_vibe._instrumentation import Instrumentation
from ticketland_vibe._message import Delivery, OutgoingMessage, headers_dict
from ticketland_vibe.errors import InvalidMessage, PublishError

if TYPE_CHECKING:
    from opentelemetry.trace import Span

HIDDEN = "**Hidden**"

PERSONAL_FIELDS = ("email", "phone", "first_name", "last_name")

logger = logging.getLogger("ticketland_vibe")
logger.addHandler(logging.NullHandler())


def hide_personal_data(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an order's or refund's plain data with the customer's personal data hidden."""
    hidden = dict(payload)
    customer = hidden.get("customer")
    if isinstance(customer, Mapping):
        hidden["customer"] = {
            name: HIDDEN if name in PERSONAL_FIELDS else value for name, value in customer.items()
        }
    return hidden


def _headers_text(message: OutgoingMessage) -> str:
    return ",".join(f"{name}:{value}" for name, value in headers_dict(message.headers).items())


def _key_text(key: bytes | str | None) -> str:
    if isinstance(key, bytes):
        return key.decode(errors="replace")
    return "-" if key is None else key


def _expected_rejection(error: InvalidMessage) -> bool:
    """An order or refund refused only for want of the customer's phone: the contract sends
    only orders that have one, so this is no mapping error."""
    return all(
        problem.location == "customer.phone" and problem.kind in ("missing", "blank")
        for problem in error.problems
    )


class LoggingListener:
    """Writes the contract's log lines for each instrumentation event."""

    def __init__(self, target: logging.Logger = logger) -> None:
        self._logger = target

    def attach(self, instrumentation: Instrumentation) -> None:
        """Subscribe to every event that has a log line."""
        instrumentation.subscribe("message.rejected", self._rejected)
        instrumentation.subscribe("message.delivered", self._delivered)
        instrumentation.subscribe("message.retried", self._retried)
        instrumentation.subscribe("message.failed", self._failed)
        instrumentation.subscribe("producer.error", self._producer_error)
        instrumentation.subscribe("producer.replaced", self._producer_replaced)

    def _delivered(self, _name: str, payload: Mapping[str, Any]) -> None:
        if not self._logger.isEnabledFor(logging.INFO):
            return
        message: OutgoingMessage = payload["message"]
        delivery: Delivery = payload["delivery"]
        self._log(
            logging.INFO,
            "message delivered entity=%s topic=%s key=%s partition=%d offset=%d headers=%s",
            (
                message.entity,
                delivery.topic,
                _key_text(delivery.key),
                delivery.partition,
                delivery.offset,
                _headers_text(message),
            ),
            payload.get("span"),
        )

    def _rejected(self, _name: str, payload: Mapping[str, Any]) -> None:
        # A mapping error (the contract: ERROR with the traceback), unless the data simply has
        # no phone to send to: that is the contract's own filter, and only INFO.
        error: InvalidMessage = payload["error"]
        expected = _expected_rejection(error)
        self._logger.log(
            logging.INFO if expected else logging.ERROR,
            "message rejected entity=%s key=%s problems=%s",
            payload["entity"],
            _key_text(payload.get("key")),
            ",".join(
                f"{problem.location or '<root>'}:{problem.kind}" for problem in error.problems
            ),
            exc_info=None if expected else (type(error), error, error.__traceback__),
        )

    def _retried(self, _name: str, payload: Mapping[str, Any]) -> None:
        message: OutgoingMessage = payload["message"]
        error: PublishError = payload["error"]
        self._log(
            logging.WARNING,
            "message retry entity=%s topic=%s key=%s attempt=%d delay=%.2fs error=%s code=%s",
            (
                message.entity,
                message.topic,
                _key_text(message.key),
                payload["attempt"],
                payload["delay"],
                type(error).__name__,
                error.code,
            ),
            payload.get("span"),
        )

    def _failed(self, _name: str, payload: Mapping[str, Any]) -> None:
        message: OutgoingMessage = payload["message"]
        error: PublishError = payload["error"]
        self._log(
            logging.ERROR,
            "message failed entity=%s topic=%s key=%s headers=%s error=%s code=%s retriable=%s",
            (
                message.entity,
                message.topic,
                _key_text(message.key),
                _headers_text(message),
                type(error).__name__,
                error.code,
                error.retriable,
            ),
            payload.get("span"),
            exc_info=(type(error), error, error.__traceback__),
        )

    def _log(
        self,
        level: int,
        text: str,
        args: tuple[object, ...],
        span: Span | None,
        *,
        exc_info: Any = None,
    ) -> None:
        """One line; with the ids of ``span`` (and ``span`` current) when there is one."""
        if span is None:
            self._logger.log(level, text, *args, exc_info=exc_info)
            return
        if not self._logger.isEnabledFor(level):
            return
        from ticketland_vibe._telemetry import log_fields

        with log_fields(span) as (trace_id, span_id):
            text += " trace_id=%s span_id=%s"
            args = (*args, trace_id, span_id)
            try:
                self._logger.log(
                    level,
                    text,
                    *args,
                    exc_info=exc_info,
                    extra={"otelTraceID": trace_id, "otelSpanID": span_id},
                )
            except KeyError:
                # A log record factory (OpenTelemetry's logging instrumentation) has set these
                # fields already, from the current span: this one.
                self._logger.log(level, text, *args, exc_info=exc_info)

    def _producer_error(self, _name: str, payload: Mapping[str, Any]) -> None:
        level = logging.ERROR if payload["fatal"] else logging.WARNING
        self._logger.log(
            level,
            "producer error code=%s fatal=%s reason=%s",
            payload["code"],
            payload["fatal"],
            payload["reason"],
        )

    def _producer_replaced(self, _name: str, payload: Mapping[str, Any]) -> None:
        self._logger.error(
            "producer replaced reason=%s affected=%d", payload["reason"], payload["affected"]
        )
