"""Throughput of the publish path against a real broker, compared with hand-written code.

Run: ``.venv/bin/python benchmarks/bench_core.py`` (starts the test suite's broker) or with
``--bootstrap-servers HOST:PORT``. Each variant sends the same N orders of 3 tickets with the
same producer settings; variants are interleaved over ``--rounds`` and medians reported.

(a) raw confluent-kafka produce of pre-encoded bytes; (b) hand-written pydantic validate +
``model_dump_json`` + produce; (c) the library's JSON ``send_many`` of prepared messages,
preparation included; (d) the same in Protobuf; (e) ``publish_order`` one at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

import ticketland_vibe as tv
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER


@contextlib.contextmanager
def kafka_bootstrap(bootstrap: str | None) -> Iterator[str]:
    """The given cluster's address, or that of a test-harness broker started for the run."""
    if bootstrap is not None:
        yield bootstrap
        return
    from tests.harness.broker import KafkaBroker

    broker = KafkaBroker(Path(tempfile.mkdtemp(prefix="bench-broker-")))
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.close()


def make_orders(count: int) -> list[dict[str, Any]]:
    """``count`` distinct valid orders of 3 tickets for the example event."""
    template = copy.deepcopy(EXAMPLE_ORDER)
    template["tickets"].append({**template["tickets"][1], "id": "x", "seat": "14"})
    orders = []
    for index in range(count):
        order = copy.deepcopy(template)
        order["id"] = f"ord-{index}"
        order["number"] = f"TL-{index:08d}"
        for position, ticket in enumerate(order["tickets"]):
            ticket["id"] = f"tk-{index}-{position}"
        orders.append(order)
    return orders


def new_topic(bootstrap: str) -> str:
    topic = f"bench-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(
        30
    )
    time.sleep(0.5)
    return topic


def settings_for(bootstrap: str, topic: str, message_format: str) -> tv.PublisherSettings:
    return tv.PublisherSettings(
        bootstrap_servers=bootstrap,
        events_topic=topic,
        orders_topic=topic,
        message_format=message_format,  # type: ignore[arg-type]
    )


def produce_all(producer: Producer, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    headers = [
        ("content-type", b"application/json"),
        ("schema-version", b"1.0"),
        ("application-id", b"ticketland"),
    ]
    failures = 0

    def report(error: Any, _msg: Any) -> None:
        nonlocal failures
        if error is not None:
            failures += 1

    for key, value in items:
        while True:
            try:
                producer.produce(topic, value=value, key=key, headers=headers, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(120)
    if failures:
        raise SystemExit(f"{failures} deliveries failed")


def warm_producer(settings: tv.PublisherSettings, topic: str) -> Producer:
    """A producer that has its idempotent producer id and the topic's metadata already, as
    the library's publisher has after the event it sends first."""
    producer = Producer(settings.producer_config())
    produce_all(producer, topic, [(b"warm-up", b"{}")])
    return producer


def variant_raw(bootstrap: str, orders: list[dict[str, Any]]) -> float:
    topic = new_topic(bootstrap)
    settings = settings_for(bootstrap, topic, "json")
    encoded = [
        (
            order["id"].encode(),
            tv.Order.model_validate(order).model_dump_json(exclude_none=True).encode(),
        )
        for order in orders
    ]
    producer = warm_producer(settings, topic)
    start = time.perf_counter()
    produce_all(producer, topic, encoded)
    return time.perf_counter() - start


def variant_hand_written(bootstrap: str, orders: list[dict[str, Any]]) -> float:
    topic = new_topic(bootstrap)
    settings = settings_for(bootstrap, topic, "json")
    producer = warm_producer(settings, topic)
    start = time.perf_counter()
    items = []
    for order in orders:
        model = tv.Order.model_validate(order)
        items.append((model.id.encode(), model.model_dump_json(exclude_none=True).encode()))
    produce_all(producer, topic, items)
    return time.perf_counter() - start


def variant_library(message_format: str) -> Callable[[str, list[dict[str, Any]]], float]:
    def run(bootstrap: str, orders: list[dict[str, Any]]) -> float:
        topic = new_topic(bootstrap)
        with tv.VibePublisher(settings_for(bootstrap, topic, message_format)) as publisher:
            publisher.publish_event(EXAMPLE_EVENT)
            start = time.perf_counter()
            messages = [publisher.prepare_order(order) for order in orders]
            results = publisher.send_many(messages)
            elapsed = time.perf_counter() - start
        failed = [result for result in results if not isinstance(result, tv.Delivery)]
        if failed:
            raise SystemExit(f"{len(failed)} deliveries failed: {failed[0]!r}")
        return elapsed

    return run


def one_at_a_time(bootstrap: str, orders: list[dict[str, Any]]) -> tuple[float, list[float]]:
    topic = new_topic(bootstrap)
    latencies = []
    with tv.VibePublisher(settings_for(bootstrap, topic, "json")) as publisher:
        publisher.publish_event(EXAMPLE_EVENT)
        start = time.perf_counter()
        for order in orders:
            began = time.perf_counter()
            publisher.publish_order(order)
            latencies.append(time.perf_counter() - began)
        elapsed = time.perf_counter() - start
    return elapsed, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("-n", "--orders", type=int, default=20_000)
    parser.add_argument("--one-at-a-time", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with kafka_bootstrap(args.bootstrap_servers) as bootstrap:
        orders = make_orders(args.orders)
        variants: dict[str, Callable[[str, list[dict[str, Any]]], float]] = {
            "(a) raw produce of pre-encoded bytes": variant_raw,
            "(b) hand-written validate + dump + produce": variant_hand_written,
            "(c) library JSON send_many (prepare included)": variant_library("json"),
            "(d) library Protobuf send_many (prepare included)": variant_library("protobuf"),
        }
        rates: dict[str, list[float]] = {name: [] for name in variants}
        memory: dict[str, int] = {}
        for _ in range(args.rounds):
            for name, run in variants.items():
                rates[name].append(len(orders) / run(bootstrap, orders))
                memory[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        elapsed, latencies = one_at_a_time(bootstrap, orders[: args.one_at_a_time])
        memory["(e)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        medians = {name: statistics.median(values) for name, values in rates.items()}
        raw, hand = medians[next(iter(variants))], medians[list(variants)[1]]
        print(f"{len(orders)} orders of 3 tickets, {args.rounds} rounds, medians\n")
        print("| variant | msg/s | ÷ (b) | ÷ (a) | peak RSS after, MiB |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, rate in medians.items():
            print(
                f"| {name} | {rate:,.0f} | {rate / hand:.2f} | {rate / raw:.2f} "
                f"| {memory[name] / 1024:.0f} |"
            )
        rate_e = len(latencies) / elapsed
        print(
            f"| (e) publish_order one at a time ({len(latencies)}) | {rate_e:,.0f} "
            f"| {rate_e / hand:.3f} | {rate_e / raw:.3f} | {memory['(e)'] / 1024:.0f} |"
        )
        print(
            f"\n(e) latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
        )
        print("all rounds, msg/s:")
        for name, values in rates.items():
            print(f"  {name}: {', '.join(f'{value:,.0f}' for value in values)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
