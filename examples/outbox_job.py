"""An outbox job on SQLite: the order and its messages are saved in one transaction, and a
relay delivers the messages to Kafka afterwards.

Run ``python examples/outbox_job.py`` (an embedded librdkafka mock cluster) or with
``--bootstrap-servers HOST:PORT`` (a real cluster; the other settings come from the
``TICKETLAND_VIBE_*`` variables). ``--database FILE`` keeps the SQLite file; by default it is
a temporary one. Needs the ``outbox`` extra: ``pip install "ticketland-vibe[outbox]"``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from confluent_kafka.admin import AdminClient

import ticketland_vibe as tv
from ticketland_vibe.outbox import (
    PENDING,
    OutboxRelay,
    RelayResult,
    SqlEventLedger,
    create_tables,
    outbox_table,
    stage_many,
)

# The application's own table; the outbox tables live beside it in the same database.
shop = sa.MetaData()
shop_orders = sa.Table(
    "shop_orders",
    shop,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
)

EVENT: dict[str, Any] = {
    "id": "ev-1001",
    "name": "Щелкунчик",
    "status": "active",
    "category": "ballet",
    "finish_at": 1805137200000,
    "offset": 3,
    "organizer": {"id": "org-7", "name": "Театр балета"},
}


def make_order(order_id: str, number: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "number": number,
        "customer": {"email": "anna@example.com", "phone": "+7 900 123-45-67"},
        "tickets": [
            {"id": f"{order_id}-t1", "event_id": "ev-1001", "barcode": "4601234567890",
             "category": "Партер"},
        ],
    }  # fmt: skip


class PaymentDeclined(Exception):
    """The business change failed: its transaction is rolled back, and the staged rows too."""


def sqlite_engine(path: Path) -> sa.Engine:
    """SQLite in WAL mode with a busy timeout, so the application and the relay get along."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


def save_order(
    engine: sa.Engine, publisher: tv.VibePublisher, order: dict[str, Any], *, declined: bool
) -> None:
    """Save the order and stage its event and itself, all in one transaction."""
    # Validate and encode first: invalid data raises here and never enters the outbox.
    messages = [publisher.prepare_event(EVENT), publisher.prepare_order(order)]
    with engine.begin() as connection:
        connection.execute(
            sa.insert(shop_orders).values(id=order["id"], number=order["number"], status="paid")
        )
        stage_many(connection, messages)
        if declined:
            raise PaymentDeclined(order["id"])


def relay_all(relay: OutboxRelay, timeout: float = 60.0) -> RelayResult:
    """Run the relay until nothing is pending (a real job would call ``run_forever``)."""
    total = RelayResult()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = relay.run_once()
        total += result
        if result.claimed == 0:
            with relay.engine.connect() as connection:
                pending = connection.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox_table)
                    .where(outbox_table.c.status == PENDING)
                ).scalar_one()
            if pending == 0:
                break
            time.sleep(0.2)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", help="a real cluster (default: embedded mock)")
    parser.add_argument("--database", type=Path, help="SQLite file (default: a temporary one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")

    mock: AdminClient | None = None
    if args.bootstrap_servers is None:
        # The mock cluster lives as long as the client that created it.
        mock = AdminClient({"test.mock.num.brokers": 1})
        brokers = mock.list_topics(timeout=10).brokers.values()
        bootstrap = ",".join(f"{broker.host}:{broker.port}" for broker in brokers)
        settings = tv.PublisherSettings(bootstrap_servers=bootstrap)
        print(f"embedded mock cluster at {bootstrap}")
    else:
        settings = tv.PublisherSettings.from_env(bootstrap_servers=args.bootstrap_servers)
        print(f"cluster at {args.bootstrap_servers}")

    database = args.database or Path(tempfile.mkdtemp(prefix="outbox-job-")) / "shop.db"
    engine = sqlite_engine(database)
    shop.create_all(engine)
    create_tables(engine)
    print(f"database: {database}")

    # The relay's publisher keeps its event ledger in the database: orders go after events.
    with tv.VibePublisher(settings, ledger=SqlEventLedger(engine)) as publisher:
        save_order(engine, publisher, make_order("ord-5001", "TL-1"), declined=False)
        print("order ord-5001 saved: event and order staged in the same transaction")
        try:
            save_order(engine, publisher, make_order("ord-5002", "TL-2"), declined=True)
        except PaymentDeclined:
            print("order ord-5002 declined: rolled back: nothing staged")

        result = relay_all(OutboxRelay(engine, publisher))
        print(
            f"relay: claimed={result.claimed} sent={result.sent} "
            f"retried={result.retried} dead={result.dead}"
        )

    table = outbox_table
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table).order_by(table.c.id)).all()
        saved = connection.execute(sa.select(shop_orders.c.id)).scalars().all()
    print(f"shop_orders: {', '.join(saved)}")
    for row in rows:
        print(
            f"  outbox #{row.id}: {row.entity} {row.key} -> {row.status} "
            f"topic={row.topic} partition={row.partition} offset={row.offset}"
        )
    engine.dispose()
    del mock
    return 0 if rows and all(row.status == "sent" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
