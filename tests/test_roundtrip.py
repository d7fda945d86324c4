"""Property tests: model → bytes → model is the identity, in both encodings."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

import ticketland_vibe as tv
from tests.strategies import events, orders, refunds
from ticketland_vibe._encoding import protobuf_encoder
from ticketland_vibe._json import encode_json

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _both_ways(entity: str, model: BaseModel) -> None:
    encoded = protobuf_encoder(entity)(model)  # type: ignore[arg-type]
    assert tv.decode(entity, encoded, "application/x-protobuf") == model
    assert protobuf_encoder(entity)(model) == encoded  # type: ignore[arg-type]
    assert tv.decode(entity, encode_json(model), "application/json") == model


@FAST
@given(events())
def test_events_round_trip(event: tv.Event) -> None:
    _both_ways("event", event)


@FAST
@given(orders())
def test_orders_round_trip(order: tv.Order) -> None:
    _both_ways("order", order)


@FAST
@given(refunds())
def test_refunds_round_trip(refund: tv.Refund) -> None:
    _both_ways("refund", refund)
