"""The Protobuf codec: plain data to ``vibe.v1`` bytes and back, checked against the contract."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Error as ProtobufError
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from tests import contract
from ticketland_vibe._proto.vibe.v1 import customer_pb2, event_pb2, order_pb2, refund_pb2
from ticketland_vibe._protobuf import Entity, decode_protobuf, encode_protobuf
from ticketland_vibe.errors import InvalidMessage

STATUSES = contract.STATUSES
CATEGORIES = contract.CATEGORIES
LEGAL_TYPES = contract.LEGAL_TYPES
CURRENCIES = contract.CURRENCIES
FIELDS = {f"vibe.v1.{name}": fields for name, fields in contract.FIELDS.items()}

F = FieldDescriptor
TYPES = {
    "vibe.v1.Event": {
        "start_at": F.TYPE_INT64,
        "finish_at": F.TYPE_INT64,
        "offset": F.TYPE_DOUBLE,
        "status": F.TYPE_ENUM,
        "category": F.TYPE_ENUM,
    },
    "vibe.v1.Legals": {"type": F.TYPE_ENUM},
    "vibe.v1.Venue": {"lat": F.TYPE_DOUBLE, "lon": F.TYPE_DOUBLE},
    "vibe.v1.Ticket": {"price_nominal": F.TYPE_INT64, "currency": F.TYPE_ENUM},
}

FILES = [
    customer_pb2.DESCRIPTOR,
    event_pb2.DESCRIPTOR,
    order_pb2.DESCRIPTOR,
    refund_pb2.DESCRIPTOR,
]
MESSAGES: dict[str, type[Message]] = {
    "event": event_pb2.Event,
    "order": order_pb2.Order,
    "refund": refund_pb2.Refund,
}


def full_event() -> dict[str, Any]:
    """An event with every optional field set."""
    return {
        "id": "ev-1",
        "group_id": "series-7",
        "name": "Щелкунчик",
        "status": "active",
        "category": "ballet",
        "start_at": 1767196800000,
        "finish_at": 1767204000000,
        "offset": 3,
        "media": "https://ticketland.example/nutcracker.jpg",
        "description": "Ballet in two acts.",
        "organizer": {
            "id": "org-1",
            "name": "Bolshoi",
            "legals": {
                "name": "FGBUK Bolshoi Theatre",
                "type": "ru_ltd",
                "inn": "7707082071",
                "ogrn": "1027700143670",
                "address": "Teatralnaya pl. 1, Moscow",
            },
        },
        "venue": {
            "id": "v-1",
            "name": "Historic Stage",
            "address": "Teatralnaya pl. 1",
            "description": "Main hall",
            "zipcode": "125009",
            "city_name": "Moscow",
            "lat": 55.760221,
            "lon": 37.618561,
        },
    }


def minimal_event() -> dict[str, Any]:
    """An event with only the required fields."""
    return {
        "id": "ev-2",
        "name": "Open mic",
        "status": "paused",
        "category": "standup",
        "finish_at": 1767204000000,
        "offset": 5.5,
        "organizer": {"id": "org-2", "name": "Club"},
    }


def empty_event() -> dict[str, Any]:
    """An event whose optional fields are all present but empty ("" or 0)."""
    return {
        "id": "ev-3",
        "group_id": "",
        "name": "",
        "status": "finished",
        "category": "other",
        "start_at": 0,
        "finish_at": 0,
        "offset": 0,
        "media": "",
        "description": "",
        "organizer": {
            "id": "",
            "name": "",
            "legals": {"name": "", "inn": "", "ogrn": "", "address": ""},
        },
        "venue": {
            "id": "",
            "name": "",
            "address": "",
            "description": "",
            "zipcode": "",
            "city_name": "",
            "lat": 0.0,
            "lon": 0.0,
        },
    }


def ticket(index: int, /, **fields: Any) -> dict[str, Any]:
    """A ticket with the required fields and ``fields``."""
    return {
        "id": f"t-{index}",
        "event_id": "ev-1",
        "barcode": f"40012345{index}",
        "category": "Parterre",
        **fields,
    }


def full_order() -> dict[str, Any]:
    """An order of three tickets with every optional field set."""
    return {
        "id": "ord-1",
        "number": "TL-100500",
        "customer": {
            "email": "anna@example.com",
            "phone": "+79001234567",
            "first_name": "Anna",
            "last_name": "Pavlova",
        },
        "tickets": [
            ticket(
                index,
                number=str(index),
                series="AA",
                row="7",
                seat=str(10 + index),
                description="Stalls",
                price_nominal=450000,
                currency="RUB",
            )
            for index in range(3)
        ],
    }


def minimal_order() -> dict[str, Any]:
    """An order with only the required fields and no tickets."""
    return {
        "id": "ord-2",
        "number": "TL-2",
        "customer": {"email": "b@example.com", "phone": "+79000000000"},
        "tickets": [],
    }


def empty_order() -> dict[str, Any]:
    """An order whose optional fields are all present but empty ("" or 0)."""
    return {
        "id": "",
        "number": "",
        "customer": {"email": "", "phone": "", "first_name": "", "last_name": ""},
        "tickets": [
            ticket(
                0,
                number="",
                series="",
                row="",
                seat="",
                description="",
                price_nominal=0,
            ),
            ticket(1),
        ],
    }


def full_refund() -> dict[str, Any]:
    """A refund with every optional field set."""
    return {
        "customer": {
            "email": "anna@example.com",
            "phone": "+79001234567",
            "first_name": "Anna",
            "last_name": "Pavlova",
        },
        "ticket_ids": ["t-0", "t-2"],
    }


def minimal_refund() -> dict[str, Any]:
    """A refund with only the required fields."""
    return {"customer": {"email": "b@example.com", "phone": "+79000000000"}, "ticket_ids": []}


def empty_refund() -> dict[str, Any]:
    """A refund whose optional fields are present but empty."""
    return {
        "customer": {"email": "", "phone": "", "first_name": "", "last_name": ""},
        "ticket_ids": [""],
    }


EXAMPLES: list[tuple[Entity, dict[str, Any]]] = [
    ("event", full_event()),
    ("event", minimal_event()),
    ("event", empty_event()),
    ("order", full_order()),
    ("order", minimal_order()),
    ("order", empty_order()),
    ("refund", full_refund()),
    ("refund", minimal_refund()),
    ("refund", empty_refund()),
]
FULL = {"event": full_event, "order": full_order, "refund": full_refund}
EXAMPLE_IDS = [
    f"{entity}-{kind}"
    for entity in ("event", "order", "refund")
    for kind in ("full", "minimal", "empty")
]


def reversed_keys(value: Any) -> Any:
    """``value`` with the keys of every dict in it in reverse order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def assert_same_shape(decoded: Any, original: Any) -> None:
    """Equal, with the same keys at every level (so absent and empty are not confused)."""
    assert type(decoded) is type(original) or {type(decoded), type(original)} == {int, float}
    if isinstance(original, dict):
        assert set(decoded) == set(original)
        for key in original:
            assert_same_shape(decoded[key], original[key])
    elif isinstance(original, list):
        assert len(decoded) == len(original)
        for got, expected in zip(decoded, original, strict=True):
            assert_same_shape(got, expected)
    else:
        assert decoded == original


@pytest.mark.parametrize(("entity", "data"), EXAMPLES, ids=EXAMPLE_IDS)
def test_round_trip_keeps_the_data(entity: Entity, data: dict[str, Any]) -> None:
    decoded = decode_protobuf(entity, encode_protobuf(entity, data))

    assert decoded == data
    assert_same_shape(decoded, data)


def test_round_trip_keeps_empty_and_absent_apart() -> None:
    empty = decode_protobuf("event", encode_protobuf("event", empty_event()))
    minimal = decode_protobuf("event", encode_protobuf("event", minimal_event()))

    assert empty["group_id"] == ""
    assert empty["start_at"] == 0
    assert empty["venue"]["lat"] == 0.0
    assert empty["organizer"]["legals"] == {"name": "", "inn": "", "ogrn": "", "address": ""}
    for absent in ("group_id", "start_at", "media", "description", "venue"):
        assert absent not in minimal
    assert "legals" not in minimal["organizer"]


def test_present_empty_strings_are_on_the_wire() -> None:
    message = order_pb2.Order.FromString(encode_protobuf("order", empty_order()))

    assert message.customer.HasField("first_name")
    assert message.tickets[0].HasField("row")
    assert message.tickets[0].HasField("price_nominal")
    assert not message.tickets[1].HasField("row")
    assert not message.tickets[1].HasField("currency")


def test_decode_gives_offset_as_a_number() -> None:
    decoded = decode_protobuf("event", encode_protobuf("event", full_event()))

    assert decoded["offset"] == 3
    assert isinstance(decoded["offset"], float)


@pytest.mark.parametrize(("entity", "data"), EXAMPLES, ids=EXAMPLE_IDS)
def test_encoding_is_deterministic(entity: Entity, data: dict[str, Any]) -> None:
    first = encode_protobuf(entity, data)

    assert encode_protobuf(entity, copy.deepcopy(data)) == first
    assert encode_protobuf(entity, reversed_keys(data)) == first


def test_encoding_ignores_keys_outside_the_contract() -> None:
    data = {**minimal_event(), "internal_note": "not for Vibeapp"}

    assert encode_protobuf("event", data) == encode_protobuf("event", minimal_event())


text = st.text(max_size=12)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
number = st.one_of(st.integers(-14, 14), st.floats(allow_nan=False, allow_infinity=False))


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts in which each of ``fields`` may be absent."""
    return st.fixed_dictionaries({}, optional=fields)


def with_required(
    required: dict[str, st.SearchStrategy[Any]], **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with every key of ``required`` and any of ``fields``."""
    return st.fixed_dictionaries(required, optional=fields)


customers = with_required({"email": text, "phone": text}, first_name=text, last_name=text)
tickets = with_required(
    {"id": text, "event_id": text, "barcode": text, "category": text},
    number=text,
    series=text,
    row=text,
    seat=text,
    description=text,
    price_nominal=int64,
    currency=st.sampled_from(CURRENCIES),
)
orders = st.fixed_dictionaries(
    {"id": text, "number": text, "customer": customers, "tickets": st.lists(tickets, max_size=4)}
)
events = with_required(
    {
        "id": text,
        "name": text,
        "status": st.sampled_from(STATUSES),
        "category": st.sampled_from(CATEGORIES),
        "finish_at": int64,
        "offset": number,
        "organizer": with_required(
            {"id": text, "name": text},
            legals=optional(
                name=text,
                type=st.sampled_from(LEGAL_TYPES),
                inn=text,
                ogrn=text,
                address=text,
            ),
        ),
    },
    group_id=text,
    start_at=int64,
    media=text,
    description=text,
    venue=with_required(
        {"id": text, "name": text},
        address=text,
        description=text,
        zipcode=text,
        city_name=text,
        lat=number,
        lon=number,
    ),
)
refunds = st.fixed_dictionaries({"customer": customers, "ticket_ids": st.lists(text)})


@given(data=events)
def test_any_event_survives_a_round_trip(data: dict[str, Any]) -> None:
    assert_same_shape(decode_protobuf("event", encode_protobuf("event", data)), data)


@given(data=orders)
def test_any_order_survives_a_round_trip(data: dict[str, Any]) -> None:
    assert_same_shape(decode_protobuf("order", encode_protobuf("order", data)), data)


@given(data=refunds)
def test_any_refund_survives_a_round_trip(data: dict[str, Any]) -> None:
    assert_same_shape(decode_protobuf("refund", encode_protobuf("refund", data)), data)


def event_with(**fields: Any) -> dict[str, Any]:
    """The minimal event with ``fields`` replaced."""
    return {**minimal_event(), **fields}


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_maps_both_ways(status: str) -> None:
    encoded = encode_protobuf("event", event_with(status=status))

    number = event_pb2.Event.FromString(encoded).status
    assert event_pb2.EventStatus.Name(number) == f"EVENT_STATUS_{status.upper()}"
    assert decode_protobuf("event", encoded)["status"] == status


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_maps_both_ways(category: str) -> None:
    encoded = encode_protobuf("event", event_with(category=category))

    number = event_pb2.Event.FromString(encoded).category
    assert event_pb2.EventCategory.Name(number) == f"EVENT_CATEGORY_{category.upper()}"
    assert decode_protobuf("event", encoded)["category"] == category


@pytest.mark.parametrize("legal_type", LEGAL_TYPES)
def test_every_legal_type_maps_both_ways(legal_type: str) -> None:
    organizer = {"id": "o", "name": "n", "legals": {"type": legal_type}}
    encoded = encode_protobuf("event", event_with(organizer=organizer))

    number = event_pb2.Event.FromString(encoded).organizer.legals.type
    assert event_pb2.LegalType.Name(number) == f"LEGAL_TYPE_{legal_type.upper()}"
    assert decode_protobuf("event", encoded)["organizer"]["legals"]["type"] == legal_type


@pytest.mark.parametrize("currency", CURRENCIES)
def test_every_currency_maps_both_ways(currency: str) -> None:
    data = {**minimal_order(), "tickets": [ticket(0, currency=currency)]}
    encoded = encode_protobuf("order", data)

    number = order_pb2.Order.FromString(encoded).tickets[0].currency
    assert order_pb2.Currency.Name(number) == f"CURRENCY_{currency}"
    assert decode_protobuf("order", encoded)["tickets"][0]["currency"] == currency


@pytest.mark.parametrize(
    ("enum", "prefix", "contract"),
    [
        (event_pb2.EventStatus.DESCRIPTOR, "EVENT_STATUS_", STATUSES),
        (event_pb2.EventCategory.DESCRIPTOR, "EVENT_CATEGORY_", CATEGORIES),
        (event_pb2.LegalType.DESCRIPTOR, "LEGAL_TYPE_", LEGAL_TYPES),
        (order_pb2.Currency.DESCRIPTOR, "CURRENCY_", CURRENCIES),
    ],
)
def test_enums_hold_exactly_the_contract_values(
    enum: EnumDescriptor, prefix: str, contract: list[str]
) -> None:
    names = [value.name for value in enum.values if value.number != 0]

    assert names == [prefix + value.upper() for value in contract]


def all_enums() -> list[EnumDescriptor]:
    """Every enum of the vibe.v1 files, top-level or nested."""
    found: list[EnumDescriptor] = []

    def visit(message: Descriptor) -> None:
        found.extend(message.enum_types)
        for nested in message.nested_types:
            visit(nested)

    for file in FILES:
        found.extend(file.enum_types_by_name.values())
        for message in file.message_types_by_name.values():
            visit(message)
    return found


@pytest.mark.parametrize("enum", all_enums(), ids=lambda enum: enum.name)
def test_every_enum_starts_with_unspecified_and_uses_its_prefix(enum: EnumDescriptor) -> None:
    prefix = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum.name).upper() + "_"

    assert enum.values_by_number[0].name == f"{prefix}UNSPECIFIED"
    for value in enum.values:
        assert value.name.startswith(prefix)


def test_the_enums_are_the_contracts() -> None:
    names = sorted(enum.full_name for enum in all_enums())

    assert names == [
        "vibe.v1.Currency",
        "vibe.v1.EventCategory",
        "vibe.v1.EventStatus",
        "vibe.v1.LegalType",
    ]


def all_messages() -> dict[str, Descriptor]:
    """Every message of the vibe.v1 files by full name."""
    return {
        message.full_name: message
        for file in FILES
        for message in file.message_types_by_name.values()
    }


def test_every_file_is_in_package_vibe_v1() -> None:
    assert {file.package for file in FILES} == {"vibe.v1"}
    assert sorted(file.name for file in FILES) == [
        "vibe/v1/customer.proto",
        "vibe/v1/event.proto",
        "vibe/v1/order.proto",
        "vibe/v1/refund.proto",
    ]


def test_the_messages_are_the_contracts() -> None:
    assert sorted(all_messages()) == sorted(FIELDS)


@pytest.mark.parametrize("message", sorted(FIELDS))
def test_field_names_are_the_json_names(message: str) -> None:
    descriptor = all_messages()[message]

    assert [field.name for field in descriptor.fields] == FIELDS[message]


@pytest.mark.parametrize("message", sorted(FIELDS))
def test_field_types_follow_the_contract(message: str) -> None:
    descriptor = all_messages()[message]

    for field in descriptor.fields:
        expected = TYPES.get(message, {}).get(field.name)
        if expected is not None:
            assert field.type == expected, field.name
        elif field.message_type is None:
            assert field.type == F.TYPE_STRING, field.name


def test_repeated_fields_are_the_contracts_arrays() -> None:
    repeated = sorted(
        f"{message.name}.{field.name}"
        for message in all_messages().values()
        for field in message.fields
        if field.is_repeated
    )

    assert repeated == ["Order.tickets", "Refund.ticket_ids"]


UNDECODABLE = {
    "corrupt": b"\xff\xff\xff",
    "truncated": b"\x0a\x05ab",
    "bad utf-8": b"\x0a\x02\xff\xfe",
    "field number zero": b"\x00",
    "stray end of group": b"\x0c",
    "value missing": b"\x08",
}


@pytest.mark.parametrize("entity", ["event", "order", "refund"])
@pytest.mark.parametrize("value", UNDECODABLE.values(), ids=UNDECODABLE.keys())
def test_undecodable_bytes_raise_invalid_message(entity: Entity, value: bytes) -> None:
    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf(entity, value)

    assert type(raised.value) is InvalidMessage
    assert not isinstance(raised.value, ProtobufError)
    assert raised.value.entity == entity
    assert [(p.location, p.kind) for p in raised.value.problems] == [("", "protobuf_decode")]


def test_a_str_instead_of_bytes_raises_invalid_message() -> None:
    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf("order", "not bytes")  # type: ignore[arg-type]

    assert raised.value.problems[0].kind == "protobuf_decode"


def serialized(entity: Entity, data: dict[str, Any], **changes: Any) -> bytes:
    """The bytes of ``data`` after the message's fields are overwritten with ``changes``."""
    message = MESSAGES[entity].FromString(encode_protobuf(entity, data))
    for name, value in changes.items():
        setattr(message, name, value)
    return message.SerializeToString()


@pytest.mark.parametrize("field", ["status", "category"])
@pytest.mark.parametrize("number", [0, 99])
def test_an_unspecified_or_unknown_required_enum_is_invalid(field: str, number: int) -> None:
    value = serialized("event", minimal_event(), **{field: number})

    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf("event", value)

    assert raised.value.locations == (field,)
    assert raised.value.problems[0].kind == "enum"


def test_both_bad_enums_are_reported_together() -> None:
    value = serialized("event", minimal_event(), status=0, category=0)

    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf("event", value)

    assert raised.value.locations == ("status", "category")


def test_an_unknown_currency_is_located_at_its_ticket() -> None:
    message = order_pb2.Order.FromString(encode_protobuf("order", full_order()))
    message.tickets[1].currency = 42  # type: ignore[assignment]

    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf("order", message.SerializeToString())

    assert raised.value.locations == ("tickets[1].currency",)


def test_an_unknown_legal_type_is_invalid() -> None:
    message = event_pb2.Event.FromString(encode_protobuf("event", full_event()))
    message.organizer.legals.type = 9  # type: ignore[assignment]

    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf("event", message.SerializeToString())

    assert raised.value.locations == ("organizer.legals.type",)


def test_an_unspecified_optional_enum_reads_as_absent() -> None:
    message = order_pb2.Order.FromString(encode_protobuf("order", full_order()))
    message.tickets[0].currency = order_pb2.CURRENCY_UNSPECIFIED
    event = event_pb2.Event.FromString(encode_protobuf("event", full_event()))
    event.organizer.legals.type = event_pb2.LEGAL_TYPE_UNSPECIFIED

    order = decode_protobuf("order", message.SerializeToString())
    decoded_event = decode_protobuf("event", event.SerializeToString())

    assert "currency" not in order["tickets"][0]
    assert order["tickets"][1]["currency"] == "RUB"
    assert "type" not in decoded_event["organizer"]["legals"]


@pytest.mark.parametrize(
    ("entity", "missing"),
    [("event", "organizer"), ("order", "customer"), ("refund", "customer")],
)
def test_a_missing_required_message_is_invalid(entity: Entity, missing: str) -> None:
    message = MESSAGES[entity].FromString(encode_protobuf(entity, FULL[entity]()))
    message.ClearField(missing)

    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf(entity, message.SerializeToString())

    assert raised.value.locations == (missing,)
    assert raised.value.problems[0].kind == "missing"


def test_an_empty_payload_is_an_incomplete_event() -> None:
    with pytest.raises(InvalidMessage) as raised:
        decode_protobuf("event", b"")

    assert raised.value.locations == ("status", "category", "organizer")


def test_unknown_fields_are_ignored() -> None:
    value = encode_protobuf("refund", full_refund()) + b"\xa0\x06\x01"  # field 100, varint 1

    assert decode_protobuf("refund", value) == full_refund()


@pytest.mark.parametrize(
    ("entity", "data", "location"),
    [
        ("event", event_with(status="on_sale"), "status"),
        ("event", event_with(category="Ballet"), "category"),
        (
            "event",
            event_with(organizer={"id": "o", "name": "n", "legals": {"type": "llc"}}),
            "organizer.legals.type",
        ),
        (
            "order",
            {**minimal_order(), "tickets": [ticket(0), ticket(1, currency="rub")]},
            "tickets[1].currency",
        ),
    ],
)
def test_encoding_an_unknown_enum_string_is_invalid(
    entity: Entity, data: dict[str, Any], location: str
) -> None:
    with pytest.raises(InvalidMessage) as raised:
        encode_protobuf(entity, data)

    assert raised.value.locations == (location,)
    assert raised.value.problems[0].kind == "enum"


@pytest.mark.parametrize(
    "data",
    [
        {**minimal_refund(), "ticket_ids": [1]},
        event_with(finish_at=2**64),
        event_with(name="\ud800"),
        event_with(organizer="not an object"),
    ],
    ids=["wrong type", "out of range", "surrogate", "not an object"],
)
def test_unencodable_data_raises_invalid_message(data: dict[str, Any]) -> None:
    entity: Entity = "refund" if "ticket_ids" in data else "event"

    with pytest.raises(InvalidMessage) as raised:
        encode_protobuf(entity, data)

    assert raised.value.problems[0].kind == "protobuf_encode"
    assert "\ud800" not in str(raised.value)


def test_encoding_without_a_required_field_is_invalid() -> None:
    data = minimal_order()
    del data["customer"]["phone"]

    with pytest.raises(InvalidMessage) as raised:
        encode_protobuf("order", data)

    assert raised.value.problems[0].kind == "missing"
    assert "phone" in raised.value.problems[0].message


def test_an_unknown_entity_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown entity"):
        encode_protobuf("ticket", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown entity"):
        decode_protobuf("ticket", b"")  # type: ignore[arg-type]
