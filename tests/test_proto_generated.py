"""The committed generated code matches the schemas, and the schemas keep presence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor

from ticketland_vibe._proto.vibe.v1 import customer_pb2, event_pb2, order_pb2, refund_pb2

ROOT = Path(__file__).resolve().parent.parent

# The fields the contract marks optional (may be absent), by message.
OPTIONAL = {
    "Event": ["group_id", "start_at", "media", "description", "venue"],
    "Organizer": ["legals"],
    "Legals": ["name", "type", "inn", "ogrn", "address"],
    "Venue": ["address", "description", "zipcode", "city_name", "lat", "lon"],
    "Customer": ["first_name", "last_name"],
    "Order": [],
    "Ticket": ["number", "series", "row", "seat", "description", "price_nominal", "currency"],
    "Refund": [],
}

MODULES = [customer_pb2, event_pb2, order_pb2, refund_pb2]


def messages() -> dict[str, Descriptor]:
    """Every top-level message of the vibe.v1 files by name."""
    return {
        name: message
        for module in MODULES
        for name, message in module.DESCRIPTOR.message_types_by_name.items()
    }


def test_committed_code_is_what_the_generator_makes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_proto.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, f"generated code is stale:\n{result.stdout}{result.stderr}"


def test_generated_modules_live_in_the_package() -> None:
    for module in MODULES:
        assert module.__name__.startswith("ticketland_vibe._proto.vibe.v1.")
        for name in module.DESCRIPTOR.message_types_by_name:
            assert getattr(module, name).__module__ == module.__name__


def test_optional_fields_are_listed_for_every_message() -> None:
    assert sorted(messages()) == sorted(OPTIONAL)


@pytest.mark.parametrize("message", sorted(OPTIONAL))
def test_every_optional_field_keeps_presence(message: str) -> None:
    descriptor = messages()[message]

    for name in OPTIONAL[message]:
        assert descriptor.fields_by_name[name].has_presence, f"{message}.{name}"


@pytest.mark.parametrize("message", sorted(OPTIONAL))
def test_only_optional_fields_are_marked_optional(message: str) -> None:
    descriptor = messages()[message]

    marked = [
        field.name
        for field in descriptor.fields
        if field.has_presence and field.message_type is None
    ]

    assert marked == [
        name for name in OPTIONAL[message] if descriptor.fields_by_name[name].message_type is None
    ]
