"""A relay in a process of its own, for the tests that kill it or send it SIGTERM.

``python -m tests.outbox_runner --url URL --bootstrap HOST:PORT --events-topic T
--orders-topic T [--batch-size N] [--hold SECONDS]`` runs ``OutboxRelay.run_forever`` with
the default signal handling. ``--hold`` waits that long after each ``send_many`` returned,
before the outcomes are recorded: the window in which a crash means duplicates. Prints the
relay's log lines (DEBUG ``outbox claimed count=N first_id=A last_id=B`` says what a batch
holds) and ``runner delivered count=N`` once a batch's ``send_many`` returned, on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterable

import ticketland_vibe as tv
from tests.outbox_support import engine_for
from ticketland_vibe.outbox import OutboxRelay, SqlEventLedger


class HoldingPublisher(tv.VibePublisher):
    """A publisher that pauses after each ``send_many`` (the messages are delivered by then)."""

    hold = 0.0

    def send_many(
        self, messages: Iterable[tv.OutgoingMessage]
    ) -> list[tv.Delivery | tv.PublishError]:
        results = super().send_many(messages)
        print(f"runner delivered count={len(results)}", flush=True)
        time.sleep(self.hold)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.outbox_runner")
    parser.add_argument("--url", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--events-topic", required=True)
    parser.add_argument("--orders-topic", required=True)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--hold", type=float, default=0.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout, level=logging.WARNING, format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("ticketland_vibe.outbox").setLevel(logging.DEBUG)

    engine = engine_for(args.url)
    settings = tv.PublisherSettings(
        bootstrap_servers=args.bootstrap,
        events_topic=args.events_topic,
        orders_topic=args.orders_topic,
    )
    HoldingPublisher.hold = args.hold
    with HoldingPublisher(settings, ledger=SqlEventLedger(engine)) as publisher:
        relay = OutboxRelay(engine, publisher, batch_size=args.batch_size, poll_interval=0.1)
        print("runner ready", flush=True)
        total = relay.run_forever()
    print(f"runner stopped claimed={total.claimed} sent={total.sent}", flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
