"""The cost of OpenTelemetry: JSON ``send_many`` throughput with metrics and tracing on, and off.

Run: ``.venv/bin/python benchmarks/bench_telemetry.py`` (starts the test suite's broker) or with
``--bootstrap-servers HOST:PORT``. Each variant is ``bench_core.py``'s variant (c): N orders of
3 tickets, prepared and sent with one ``send_many``, preparation included. Variants are
interleaved over ``--rounds``; medians and the per-round ratios to "off" are reported.

- off: the OpenTelemetry API installed, no SDK configured (the default of an application that
  has not set one up): nothing is recorded.
- on: an SDK meter provider (periodic reader, 5 s) and tracer provider (batch span processor,
  every span kept) with exporters that discard, so that the figure is the instrumentation's
  cost, not a collector's.
- metrics only, tracing only: the same providers, one at a time.
- on, 10 % sampled: as "on" with ``ParentBased(TraceIdRatioBased(0.1))``.
- on, do-nothing providers: providers whose instruments and spans do nothing (not the API's
  placeholders, so the library does all its own work): the library's share of the cost.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_core import kafka_bootstrap, make_orders, new_topic, settings_for
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

import ticketland_vibe as tv
from ticketland_vibe._examples import EXAMPLE_EVENT


class DiscardSpans(SpanExporter):
    """Counts the spans it is given, and drops them."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


class DiscardMetrics(MetricExporter):
    """Takes metrics and drops them."""

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def tracer_provider(spans: DiscardSpans, orders: int, ratio: float | None) -> TracerProvider:
    sampler = ParentBased(TraceIdRatioBased(ratio)) if ratio is not None else None
    provider = TracerProvider(sampler=sampler) if sampler is not None else TracerProvider()
    # A queue large enough for a whole run: a dropped span would make "on" look cheaper.
    provider.add_span_processor(
        BatchSpanProcessor(spans, max_queue_size=orders + 4096, schedule_delay_millis=1000)
    )
    return provider


def meter_provider() -> MeterProvider:
    reader = PeriodicExportingMetricReader(DiscardMetrics(), export_interval_millis=5000)
    return MeterProvider(metric_readers=[reader])


class BareMeterProvider(metrics.MeterProvider):
    """Hands out the API's no-op meter, without being the API's placeholder provider."""

    def get_meter(self, name: str, *args: Any, **kwargs: Any) -> metrics.Meter:
        return metrics.NoOpMeter(name)


class BareTracer(trace.Tracer):
    """Spans that record nothing but carry a fresh, sampled context (for the header)."""

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        context = trace.SpanContext(
            random.getrandbits(128),
            random.getrandbits(64),
            is_remote=False,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
        return trace.NonRecordingSpan(context)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return trace.use_span(self.start_span())


class BareTracerProvider(trace.TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return BareTracer()


Run = Callable[[str, list[dict[str, Any]]], float]


def variant(**providers: Any) -> Run:
    def run(bootstrap: str, orders: list[dict[str, Any]]) -> float:
        topic = new_topic(bootstrap)
        settings = settings_for(bootstrap, topic, "json")
        with tv.VibePublisher(settings, **providers) as publisher:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("-n", "--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only-on-off", action="store_true", help="skip the other variants")
    args = parser.parse_args()

    with kafka_bootstrap(args.bootstrap_servers) as bootstrap:
        orders = make_orders(args.orders)
        spans = DiscardSpans()
        sampled_spans = DiscardSpans()
        meters = meter_provider()
        tracers = tracer_provider(spans, args.orders, None)
        variants: dict[str, Run] = {
            "off": variant(),
            "on (metrics + tracing)": variant(meter_provider=meters, tracer_provider=tracers),
        }
        if not args.only_on_off:
            variants["metrics only"] = variant(meter_provider=meters)
            variants["tracing only"] = variant(tracer_provider=tracers)
            variants["on, tracing 10 % sampled"] = variant(
                meter_provider=meters,
                tracer_provider=tracer_provider(sampled_spans, args.orders, 0.1),
            )
            variants["on, do-nothing providers"] = variant(
                meter_provider=BareMeterProvider(), tracer_provider=BareTracerProvider()
            )
        rates: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, run in variants.items():
                rates[name].append(len(orders) / run(bootstrap, orders))

        tracers.force_flush()
        expected_spans = args.rounds * (args.orders + 1)
        if not args.only_on_off:
            expected_spans *= 2
        medians = {name: statistics.median(values) for name, values in rates.items()}
        off = rates["off"]
        print(f"{len(orders)} orders of 3 tickets, JSON send_many, {args.rounds} rounds\n")
        print("| variant | median msg/s | median ÷ off | per-round ÷ off (median) |")
        print("| --- | ---: | ---: | ---: |")
        for name, values in rates.items():
            ratios = [value / base for value, base in zip(values, off, strict=True)]
            print(
                f"| {name} | {medians[name]:,.0f} | {medians[name] / medians['off']:.2f} "
                f"| {statistics.median(ratios):.2f} |"
            )
        print("\nall rounds, msg/s (÷ off of the same round):")
        for name, values in rates.items():
            pairs = zip(values, off, strict=True)
            text = ", ".join(f"{value:,.0f} ({value / base:.2f})" for value, base in pairs)
            print(f"  {name}: {text}")
        print(f"\nspans exported: {spans.count} of {expected_spans} (none may be dropped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
