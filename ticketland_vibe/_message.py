"""What goes out (``OutgoingMessage``) and what comes back (``Delivery``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

from ticketland_vibe.errors import InvalidMessage, Problem

Entity = Literal["event", "order", "refund"]
ENTITIES: tuple[Entity, ...] = ("event", "order", "refund")

Header = tuple[str, bytes]


class OutgoingMessage(NamedTuple):
    """A validated, encoded message, ready to send: no I/O happened to make it.

    ``event_ids`` lists, for an order, the events its tickets belong to: the publisher checks
    them against the event ledger when sending. ``to_dict``/``from_dict`` turn it into plain,
    JSON-safe data and back, so it can be stored (an outbox row) and sent by another process.
    An immutable record (a named tuple: cheap to make, and of no concern to the garbage
    collector when thousands wait in a batch).
    """

    entity: Entity
    topic: str
    key: bytes
    value: bytes
    headers: tuple[Header, ...]
    event_ids: tuple[str, ...] = ()

    def header(self, name: str) -> bytes | None:
        """The value of header ``name``, or None."""
        for header_name, value in self.headers:
            if header_name == name:
                return value
        return None

    def __repr__(self) -> str:
        # The value holds personal data: only its size is shown.
        headers = ", ".join(
            f"{name}={value.decode(errors='replace')}" for name, value in self.headers
        )
        return (
            f"OutgoingMessage(entity={self.entity!r}, topic={self.topic!r}, key={self.key!r}, "
            f"headers=[{headers}], value=<{len(self.value)} bytes>)"
        )

    @property
    def size(self) -> int:
        """Bytes the message occupies: key, value and headers."""
        return (
            len(self.key)
            + len(self.value)
            + sum(len(name) + len(value) for name, value in self.headers)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, list, dict only) that :meth:`from_dict` turns back into this."""
        return {
            "entity": self.entity,
            "topic": self.topic,
            "key": self.key.decode(),
            "value": base64.b64encode(self.value).decode("ascii"),
            "headers": [[name, value.decode()] for name, value in self.headers],
            "event_ids": list(self.event_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutgoingMessage:
        """The message that :meth:`to_dict` described; bad data is an ``InvalidMessage``."""
        try:
            entity = data["entity"]
            if entity not in ENTITIES:
                raise ValueError("entity must be event, order or refund")
            headers = tuple((str(name), str(value).encode()) for name, value in data["headers"])
            return cls(
                entity=entity,
                topic=str(data["topic"]),
                key=str(data["key"]).encode(),
                value=base64.b64decode(data["value"], validate=True),
                headers=headers,
                event_ids=tuple(str(event_id) for event_id in data.get("event_ids", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problem = Problem("", "outgoing_message", f"not a stored message: {exc!s}")
            raise InvalidMessage("message", [problem]) from None


class Delivery(NamedTuple):
    """The broker's acknowledgement of one message: where it was written, and when."""

    topic: str
    partition: int
    offset: int
    key: bytes
    timestamp: int | None
    """Broker or create time of the message, Unix milliseconds, when the broker reported one."""


def headers_dict(headers: Sequence[tuple[str, str | bytes | None]]) -> dict[str, str]:
    """Headers as a ``{name: text}`` mapping, for logs and displays."""
    return {
        name: value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")
        for name, value in headers
    }
