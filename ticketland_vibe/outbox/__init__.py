"""The transactional outbox: stage messages with the business change, relay them to Kafka.

In the business transaction, :func:`stage` (or :func:`stage_many`) writes prepared messages
into the outbox table on the caller's own connection; an :class:`OutboxRelay` in another
process sends them with ``VibePublisher.send_many`` and marks each row sent once the broker
acknowledged it. Needs the ``outbox`` extra: ``pip install "ticketland-vibe[outbox]"``.
"""

from __future__ import annotations

try:
    import sqlalchemy as _sqlalchemy
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "ticketland_vibe.outbox needs SQLAlchemy 2: install the extra with "
        "pip install 'ticketland-vibe[outbox]'",
        name=exc.name,
    ) from exc

if not _sqlalchemy.__version__.startswith("2."):  # pragma: no cover
    raise ImportError(
        f"ticketland_vibe.outbox needs SQLAlchemy 2, not {_sqlalchemy.__version__}: "
        "pip install 'ticketland-vibe[outbox]'"
    )

from ticketland_vibe.outbox._ledger import SqlEventLedger
from ticketland_vibe.outbox._maintenance import RequeueResult, purge_sent, requeue_dead
from ticketland_vibe.outbox._relay import MessageSender, OutboxRelay, RelayResult
from ticketland_vibe.outbox._staging import stage, stage_many
from ticketland_vibe.outbox._tables import (
    DEAD,
    LEDGER_TABLE,
    OUTBOX_TABLE,
    PENDING,
    SENT,
    STATUSES,
    create_tables,
    event_ledger_table,
    metadata,
    outbox_table,
)

__all__ = [
    "DEAD",
    "LEDGER_TABLE",
    "OUTBOX_TABLE",
    "PENDING",
    "SENT",
    "STATUSES",
    "MessageSender",
    "OutboxRelay",
    "RelayResult",
    "RequeueResult",
    "SqlEventLedger",
    "create_tables",
    "event_ledger_table",
    "metadata",
    "outbox_table",
    "purge_sent",
    "requeue_dead",
    "stage",
    "stage_many",
]
