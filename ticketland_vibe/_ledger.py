"""The event ledger: which events were delivered, by id and content.

The contract wants an event to reach Vibeapp before any order with a ticket for it. The
publisher records every delivered event here; an order is sent only when all of its events are
known, and an unchanged event is not sent again by ``publish_order(..., events=...)``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Iterable, Mapping
from typing import Protocol, runtime_checkable


def fingerprint(value: bytes) -> str:
    """A short, stable digest of an encoded event: equal content, equal fingerprint."""
    return hashlib.blake2b(value, digest_size=16).hexdigest()


@runtime_checkable
class EventLedger(Protocol):
    """Remembers delivered events; implementations must be safe to use from several threads."""

    def fingerprints(self, event_ids: Collection[str]) -> Mapping[str, str]:
        """The fingerprint last delivered for each of ``event_ids`` that was ever delivered."""
        ...

    def record(self, entries: Iterable[tuple[str, str]]) -> None:
        """Remember that each ``(event_id, fingerprint)`` was delivered."""
        ...


class InMemoryEventLedger:
    """The default ledger: a dictionary for this process' lifetime.

    A new process starts empty, so orders need their events passed again
    (``publish_order(order, events=[...])``); the outbox ships a persistent ledger.
    """

    def __init__(self) -> None:
        self._delivered: dict[str, str] = {}
        self._lock = threading.Lock()

    def fingerprints(self, event_ids: Collection[str]) -> Mapping[str, str]:
        with self._lock:
            return {
                event_id: self._delivered[event_id]
                for event_id in event_ids
                if event_id in self._delivered
            }

    def record(self, entries: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            self._delivered.update(entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._delivered)
