"""The outbox relay against a real broker, from PostgreSQL and from SQLite.

Run: ``.venv/bin/python benchmarks/bench_outbox.py`` (starts the test suite's broker and a
PostgreSQL server) or with ``--bootstrap-servers HOST:PORT`` / ``--postgres-url URL``.

(1) Throughput: ``--rows`` orders (3 tickets each, one event) are staged first, then one relay
(``OutboxRelay`` defaults: batches of 500) drains the outbox; rows per second from the first
claim to the last recorded outcome, median of ``--rounds``.

(2) Latency: a writer process commits one order per transaction at a steady ``--rate`` rows/s
for ``--seconds`` while the relay runs (``run_forever``); the figure is the time from the
writer's commit to the broker's acknowledgement of that row (delivery report), p50 and p99,
after ``--warmup`` seconds (the relay was idle before the first row: those rows wait up to
``poll_interval`` and are reported apart).
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

import ticketland_vibe as tv
from tests.outbox_support import counts, drain, engine_for
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER
from ticketland_vibe.outbox import (
    OutboxRelay,
    RelayResult,
    SqlEventLedger,
    create_tables,
    metadata,
    stage,
    stage_many,
)


def make_order(order_id: str) -> dict[str, Any]:
    """A valid order of 3 tickets for the example event."""
    order = copy.deepcopy(EXAMPLE_ORDER)
    order["tickets"].append({**order["tickets"][1], "id": "x", "seat": "14"})
    order["id"] = order_id
    order["number"] = f"TL-{order_id}"
    for position, ticket in enumerate(order["tickets"]):
        ticket["id"] = f"{order_id}-{position}"
    return order


def new_topics(bootstrap: str) -> dict[str, str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = {
        "events_topic": f"bench-events-{uuid.uuid4().hex[:8]}",
        "orders_topic": f"bench-orders-{uuid.uuid4().hex[:8]}",
    }
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=3, replication_factor=1) for name in topics.values()]
    )
    for future in futures.values():
        future.result(30)
    time.sleep(0.5)
    return topics


def fresh_database(kind: str, postgres: Any, work: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{work / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    if isinstance(postgres, str):
        engine = sa.create_engine(postgres)
        metadata.drop_all(engine)
        engine.dispose()
        return postgres
    url: str = postgres.create_database()
    return url


def settings_for(bootstrap: str, topics: Mapping[str, str]) -> tv.PublisherSettings:
    return tv.PublisherSettings(bootstrap_servers=bootstrap, **topics)


# -- (1) throughput -------------------------------------------------------------------------


def throughput(url: str, bootstrap: str, rows: int, sync: str) -> tuple[float, float]:
    """(rows staged per second, rows relayed per second) for one fresh outbox."""
    engine = engine_for(url, synchronous=sync)
    create_tables(engine)
    topics = new_topics(bootstrap)
    with tv.VibePublisher(settings_for(bootstrap, topics), ledger=SqlEventLedger(engine)) as pub:
        messages = [pub.prepare_order(make_order(f"ord-{index}")) for index in range(rows)]
        started = time.perf_counter()
        with engine.begin() as connection:
            stage(connection, pub.prepare_event(EXAMPLE_EVENT))
        for start in range(0, rows, 500):
            with engine.begin() as connection:
                stage_many(connection, messages[start : start + 500])
        staged = (rows + 1) / (time.perf_counter() - started)

        relay = OutboxRelay(engine, pub)
        started = time.perf_counter()
        total = drain(relay, timeout=600)
        relayed = total.sent / (time.perf_counter() - started)
    if total.sent != rows + 1 or counts(engine) != {"sent": rows + 1}:
        raise SystemExit(f"throughput run did not send everything: {total}")
    engine.dispose()
    return staged, relayed


# -- (2) latency ----------------------------------------------------------------------------


def writer(
    url: str,
    bootstrap: str,
    topics: dict[str, str],
    rate: float,
    seconds: float,
    sync: str,
    results: Any,
) -> None:
    """In its own process: commit one staged order per transaction at ``rate`` per second."""
    engine = engine_for(url, synchronous=sync)
    count = int(rate * seconds)
    with tv.VibePublisher(settings_for(bootstrap, topics)) as pub:
        messages = [pub.prepare_order(make_order(f"lat-{index}")) for index in range(count)]
    committed: list[tuple[str, float]] = []
    results.put("ready")
    start = time.time() + 0.5
    for index, message in enumerate(messages):
        delay = start + index / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        with engine.begin() as connection:
            stage(connection, message)
        committed.append((message.key.decode(), time.time()))
    results.put(committed)
    engine.dispose()


def latency(
    url: str,
    bootstrap: str,
    rate: float,
    seconds: float,
    poll_interval: float,
    sync: str,
    warmup: float,
) -> dict[str, float]:
    engine = engine_for(url, synchronous=sync)
    create_tables(engine)
    topics = new_topics(bootstrap)
    acknowledged: dict[str, float] = {}

    def on_delivery(_name: str, payload: Mapping[str, Any]) -> None:
        acknowledged[payload["delivery"].key.decode()] = time.time()

    with tv.VibePublisher(settings_for(bootstrap, topics), ledger=SqlEventLedger(engine)) as pub:
        with engine.begin() as connection:
            stage(connection, pub.prepare_event(EXAMPLE_EVENT))
        pub.instrumentation.subscribe("message.delivered", on_delivery)
        relay = OutboxRelay(engine, pub, poll_interval=poll_interval)
        totals: list[RelayResult] = []
        worker = threading.Thread(target=lambda: totals.append(relay.run_forever()))
        worker.start()

        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        process = context.Process(
            target=writer, args=(url, bootstrap, topics, rate, seconds, sync, results)
        )
        process.start()
        try:
            if results.get(timeout=120) != "ready":
                raise SystemExit("writer failed")
            committed: list[tuple[str, float]] = results.get(timeout=seconds + 120)
            process.join(timeout=30)
            deadline = time.monotonic() + 60
            while len(acknowledged) < len(committed) + 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            relay.stop()
            worker.join(timeout=120)
            if process.is_alive():
                process.kill()
    missing = [key for key, _ in committed if key not in acknowledged]
    if missing:
        raise SystemExit(f"{len(missing)} rows were not acknowledged")
    # The relay was idle (polling every poll_interval) until the writer began: the first rows
    # measure that, not the steady flow.
    steady_from = committed[0][1] + warmup
    delays = sorted(acknowledged[key] - at for key, at in committed if at >= steady_from)
    first = max(acknowledged[key] - at for key, at in committed if at < steady_from)
    span = committed[-1][1] - committed[0][1]
    engine.dispose()
    return {
        "rows": len(delays),
        "first": first,
        "rate": (len(committed) - 1) / span if span > 0 else 0.0,
        "p50": percentile(delays, 0.50),
        "p99": percentile(delays, 0.99),
        "max": delays[-1],
    }


def label(kind: str, sync: str) -> str:
    return "PostgreSQL" if kind == "postgres" else f"SQLite (WAL, synchronous={sync})"


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--postgres-url", help="a database whose outbox tables may be dropped")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted")
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument(
        "--sqlite-synchronous",
        nargs="+",
        default=["FULL", "NORMAL"],
        choices=["FULL", "NORMAL"],
        help="SQLite's PRAGMA synchronous (WAL mode): FULL syncs every commit",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    broker = server = None
    bootstrap = args.bootstrap_servers
    postgres: Any = args.postgres_url
    try:
        if bootstrap is None:
            from tests.harness.broker import KafkaBroker

            broker = KafkaBroker(Path(tempfile.mkdtemp(prefix="bench-broker-")))
            broker.start()
            bootstrap = broker.bootstrap
        if postgres is None:
            from tests.harness.postgres import PostgresServer

            server = PostgresServer()
            server.start()
            postgres = server

        variants = [("postgres", "FULL")] + [("sqlite", sync) for sync in args.sqlite_synchronous]
        print(f"(1) throughput: {args.rows} orders of 3 tickets, {args.rounds} rounds, medians\n")
        print("| database | staged, rows/s | relayed, rows/s | all rounds, relayed |")
        print("| --- | ---: | ---: | --- |")
        for kind, sync in variants:
            runs = [
                throughput(fresh_database(kind, postgres, work), bootstrap, args.rows, sync)
                for _ in range(args.rounds)
            ]
            staged = statistics.median(run[0] for run in runs)
            relayed = statistics.median(run[1] for run in runs)
            each = ", ".join(f"{run[1]:,.0f}" for run in runs)
            print(f"| {label(kind, sync)} | {staged:,.0f} | {relayed:,.0f} | {each} |")

        print(
            f"\n(2) commit → acknowledgement at {args.rate:g} rows/s for {args.seconds:g} s "
            f"(one row per transaction), poll_interval {args.poll_interval:g} s; the first "
            f"{args.warmup:g} s (the relay waking from idle) reported apart\n"
        )
        print(
            "| database | rows | achieved rows/s | p50, ms | p99, ms | max, ms "
            "| max in the first seconds, ms |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind, sync in variants:
            figures = latency(
                fresh_database(kind, postgres, work),
                bootstrap,
                args.rate,
                args.seconds,
                args.poll_interval,
                sync,
                args.warmup,
            )
            print(
                f"| {label(kind, sync)} | {figures['rows']:,.0f} | {figures['rate']:,.0f} "
                f"| {figures['p50'] * 1000:.0f} | {figures['p99'] * 1000:.0f} "
                f"| {figures['max'] * 1000:.0f} | {figures['first'] * 1000:.0f} |"
            )
    finally:
        if server is not None:
            server.close()
        if broker is not None:
            broker.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
