"""The ``ticketland-vibe`` command: ``demo`` publishes examples and reads them back."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from ticketland_vibe._encoding import decode
from ticketland_vibe._examples import (
    EXAMPLE_EVENT,
    EXAMPLE_ORDER,
    EXAMPLE_REFUND,
    EXAMPLE_REFUND_ID,
)
from ticketland_vibe._logging import hide_personal_data
from ticketland_vibe._message import Delivery, headers_dict
from ticketland_vibe._publisher import VibePublisher
from ticketland_vibe._settings import MessageFormat, PublisherSettings
from ticketland_vibe._version import __version__
from ticketland_vibe.errors import VibeError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="ticketland-vibe", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="publish an example event, order and refund in JSON and Protobuf, read them back",
    )
    demo.add_argument(
        "--bootstrap-servers",
        help="a real cluster (other settings from TICKETLAND_VIBE_* variables); "
        "default: an embedded librdkafka mock cluster",
    )
    demo.add_argument("--verbose", action="store_true", help="show the library's INFO log lines")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        return _demo(args.bootstrap_servers)
    except (VibeError, KafkaException) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1


def _demo(bootstrap_servers: str | None) -> int:
    mock: AdminClient | None = None
    if bootstrap_servers is None:
        # The mock cluster lives as long as the client that created it.
        mock = AdminClient({"test.mock.num.brokers": 1})
        brokers = mock.list_topics(timeout=10).brokers.values()
        bootstrap_servers = ",".join(f"{broker.host}:{broker.port}" for broker in brokers)
        print(f"embedded mock cluster at {bootstrap_servers}")
        base = PublisherSettings(bootstrap_servers=bootstrap_servers)
    else:
        base = PublisherSettings.from_env(bootstrap_servers=bootstrap_servers)
        print(f"cluster at {bootstrap_servers}")

    deliveries: list[tuple[str, Delivery]] = []
    formats: tuple[MessageFormat, ...] = ("json", "protobuf")
    for message_format in formats:
        settings = base.model_copy(update={"message_format": message_format})
        with VibePublisher(settings) as publisher:
            event = publisher.publish_event(EXAMPLE_EVENT)
            order = publisher.publish_order(EXAMPLE_ORDER, events=[EXAMPLE_EVENT])
            refund = publisher.publish_refund(EXAMPLE_REFUND, refund_id=EXAMPLE_REFUND_ID)
        deliveries += [("event", event), ("order", order), ("refund", refund)]

    _read_back(base, deliveries)
    del mock
    return 0


def _read_back(settings: PublisherSettings, deliveries: list[tuple[str, Delivery]]) -> None:
    """Read each delivered message with a separate consumer and print what Vibeapp sees."""
    config: dict[str, Any] = {
        key: value
        for key, value in settings.producer_config().items()
        if key.startswith(("bootstrap.", "security.", "sasl.", "ssl."))
    }
    config.update(
        {
            "group.id": "ticketland-vibe-demo",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer = Consumer(config)
    try:
        for entity, delivery in deliveries:
            consumer.assign([TopicPartition(delivery.topic, delivery.partition, delivery.offset)])
            msg = consumer.poll(15.0)
            if msg is None or msg.error():
                raise SystemExit(f"could not read back {entity} at {delivery}")
            raw_headers = msg.headers() or []
            if isinstance(raw_headers, dict):
                raw_headers = list(raw_headers.items())
            headers = headers_dict(raw_headers)
            model = decode(entity, msg.value() or b"", headers.get("content-type", ""))
            payload = hide_personal_data(model.model_dump(mode="json", exclude_none=True))
            print(
                f"\n{entity}: topic={msg.topic()} partition={msg.partition()} "
                f"offset={msg.offset()} key={(msg.key() or b'').decode()}"
            )
            print(f"  headers: {json.dumps(headers, ensure_ascii=False)}")
            print(f"  payload: {json.dumps(payload, ensure_ascii=False)}")
    finally:
        consumer.close()
    print(f"\n{len(deliveries)} messages published and read back")
