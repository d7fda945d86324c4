"""The golden examples in schemas/examples: committed bytes, decoded both ways."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ticketland_vibe as tv
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER, EXAMPLE_REFUND

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "schemas" / "examples"
CASES = [
    ("event", tv.Event, EXAMPLE_EVENT),
    ("order", tv.Order, EXAMPLE_ORDER),
    ("refund", tv.Refund, EXAMPLE_REFUND),
]


def test_committed_examples_match_the_library() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_examples.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("entity", "model_cls", "data"), CASES)
def test_json_and_protobuf_examples_decode_to_the_same_model(
    entity: str, model_cls: type[tv.Event | tv.Order | tv.Refund], data: dict[str, object]
) -> None:
    expected = model_cls.model_validate(data)
    from_json = tv.decode(entity, (EXAMPLES / f"{entity}.json").read_bytes(), "application/json")
    from_protobuf = tv.decode(
        model_cls, (EXAMPLES / f"{entity}.pb").read_bytes(), "application/x-protobuf"
    )
    assert from_json == expected
    assert from_protobuf == expected
    assert from_json.model_dump(exclude_none=True) == from_protobuf.model_dump(exclude_none=True)


@pytest.mark.parametrize("message_format", ["json", "protobuf"])
def test_prepared_messages_carry_the_golden_bytes(message_format: str) -> None:
    settings = tv.PublisherSettings(
        bootstrap_servers="127.0.0.1:1",
        message_format=message_format,  # type: ignore[arg-type]
    )
    suffix = {"json": "json", "protobuf": "pb"}[message_format]
    with tv.VibePublisher(settings) as publisher:
        prepared = {
            "event": publisher.prepare_event(EXAMPLE_EVENT),
            "order": publisher.prepare_order(EXAMPLE_ORDER),
            "refund": publisher.prepare_refund(EXAMPLE_REFUND, refund_id="ref-9001"),
        }
        publisher.close(timeout=0)
    for entity, message in prepared.items():
        assert message.value == (EXAMPLES / f"{entity}.{suffix}").read_bytes(), entity
