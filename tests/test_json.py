"""The JSON payloads: exact bytes, absent fields omitted, deterministic, decoded back intact."""

from __future__ import annotations

import json
import traceback
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.strategies import events, orders, refunds
from ticketland_vibe._json import decode_json, encode_json
from ticketland_vibe._models import Customer, Event, Order, Refund, Ticket
from ticketland_vibe._validation import validate_model
from ticketland_vibe.errors import InvalidMessage

EVENT: dict[str, Any] = {
    "id": 1001,
    "name": "Лебединое озеро",
    "status": "active",
    "category": "ballet",
    "start_at": 1_746_115_200_000,
    "finish_at": 1_746_126_000_000,
    "offset": 3,
    "description": "Балет в двух действиях — «классика»",
    "organizer": {
        "id": "org-7",
        "name": "Большой театр",
        "legals": {"type": "ru_ltd", "inn": "7707083893", "ogrn": "1027700132195"},
    },
    "venue": {"id": "v-1", "name": "Историческая сцена", "city_name": "Москва", "lat": 55.76,
              "lon": 37.6186},
}  # fmt: skip

EVENT_JSON = (
    '{"id":"1001","name":"Лебединое озеро","status":"active","category":"ballet",'
    '"start_at":1746115200000,"finish_at":1746126000000,"offset":3,'
    '"description":"Балет в двух действиях — «классика»",'
    '"organizer":{"id":"org-7","name":"Большой театр",'
    '"legals":{"type":"ru_ltd","inn":"7707083893","ogrn":"1027700132195"}},'
    '"venue":{"id":"v-1","name":"Историческая сцена","city_name":"Москва","lat":55.76,'
    '"lon":37.6186}}'
).encode()

ORDER: dict[str, Any] = {
    "id": "ord-1",
    "number": "TL-0001",
    "customer": {"email": "ivan@example.ru", "phone": "+7 900 123-45-67", "first_name": "Иван"},
    "tickets": [
        {"id": 1, "event_id": 1001, "barcode": "4600000000001", "row": "5", "seat": "12",
         "category": "Партер", "price_nominal": 350000, "currency": "RUB"},
        {"id": 2, "event_id": 1001, "barcode": "4600000000002", "category": "Балкон"},
    ],
}  # fmt: skip

ORDER_JSON = (
    '{"id":"ord-1","number":"TL-0001",'
    '"customer":{"email":"ivan@example.ru","phone":"+79001234567","first_name":"Иван"},'
    '"tickets":[{"id":"1","event_id":"1001","barcode":"4600000000001","row":"5","seat":"12",'
    '"category":"Партер","price_nominal":350000,"currency":"RUB"},'
    '{"id":"2","event_id":"1001","barcode":"4600000000002","category":"Балкон"}]}'
).encode()

REFUND: dict[str, Any] = {
    "customer": {"email": "ivan@example.ru", "phone": "+79001234567", "last_name": "Петров"},
    "ticket_ids": [1, "2"],
}
REFUND_JSON = (
    '{"customer":{"email":"ivan@example.ru","phone":"+79001234567","last_name":"Петров"},'
    '"ticket_ids":["1","2"]}'
).encode()

EXAMPLES: list[tuple[type[BaseModel], dict[str, Any], bytes]] = [
    (Event, EVENT, EVENT_JSON),
    (Order, ORDER, ORDER_JSON),
    (Refund, REFUND, REFUND_JSON),
]
IDS = ["event", "order", "refund"]


@pytest.mark.parametrize(("model_cls", "data", "expected"), EXAMPLES, ids=IDS)
def test_exact_bytes(model_cls: type[BaseModel], data: dict[str, Any], expected: bytes) -> None:
    assert encode_json(validate_model(model_cls, data)) == expected


@pytest.mark.parametrize(("model_cls", "data", "expected"), EXAMPLES, ids=IDS)
def test_decode_of_encode_is_the_model(
    model_cls: type[BaseModel], data: dict[str, Any], expected: bytes
) -> None:
    model = validate_model(model_cls, data)
    assert decode_json(model_cls, encode_json(model)) == model
    assert decode_json(model_cls, expected) == model


@pytest.mark.parametrize(("model_cls", "data", "expected"), EXAMPLES, ids=IDS)
def test_compact_utf8_without_null(
    model_cls: type[BaseModel], data: dict[str, Any], expected: bytes
) -> None:
    encoded = encode_json(validate_model(model_cls, data))
    assert b"null" not in encoded
    assert b"\\u" not in encoded
    assert any(word.encode() in encoded for word in ("Лебединое", "Иван", "Петров"))
    assert b'": ' not in encoded
    assert b", " not in encoded.replace("действиях — ".encode(), b"")
    compact = json.dumps(json.loads(encoded), ensure_ascii=False, separators=(",", ":"))
    assert encoded == compact.encode()


def test_no_spaces_at_all_when_the_values_have_none() -> None:
    customer = Customer.model_validate({"email": "a@b.ru", "phone": "+79001234567"})
    ticket = Ticket.model_validate({"id": "t", "event_id": "e", "barcode": "1", "category": "A"})
    order = Order(id="o", number="1", customer=customer, tickets=(ticket,))
    assert b" " not in encode_json(order)
    assert b"\n" not in encode_json(order)


def test_absent_fields_are_omitted() -> None:
    ticket = Ticket.model_validate({"id": "t", "event_id": "e", "barcode": "1", "category": "A"})
    assert json.loads(encode_json(ticket)) == {
        "id": "t",
        "event_id": "e",
        "barcode": "1",
        "category": "A",
    }
    # An explicit None is absent too; an empty string is present.
    ticket = Ticket.model_validate(
        {"id": "t", "event_id": "e", "barcode": "1", "category": "A", "row": None, "seat": ""}
    )
    assert (
        encode_json(ticket) == b'{"id":"t","event_id":"e","barcode":"1","seat":"","category":"A"}'
    )


@pytest.mark.parametrize(
    ("offset", "written"), [(3, b"3"), (3.0, b"3"), (0, b"0"), (5.5, b"5.5"), (5.75, b"5.75"),
                            (-3.5, b"-3.5"), (-12, b"-12"), (14.0, b"14")],
)  # fmt: skip
def test_offset_is_written_as_an_integer_when_integral(offset: float, written: bytes) -> None:
    event = validate_model(Event, {**EVENT, "offset": offset})
    assert b'"offset":' + written + b"," in encode_json(event)


def test_field_order_is_the_models_whatever_the_input_order() -> None:
    reordered = dict(reversed(list(ORDER.items())))
    reordered["customer"] = dict(reversed(list(ORDER["customer"].items())))
    assert encode_json(validate_model(Order, reordered)) == ORDER_JSON
    model = validate_model(Order, ORDER)
    assert encode_json(model) == encode_json(model) == encode_json(validate_model(Order, ORDER))


def test_numbers_stay_numbers() -> None:
    decoded = json.loads(encode_json(validate_model(Event, EVENT)))
    assert isinstance(decoded["start_at"], int)
    assert isinstance(decoded["offset"], int)
    assert isinstance(decoded["venue"]["lat"], float)
    ticket = json.loads(ORDER_JSON)["tickets"][0]
    assert isinstance(ticket["price_nominal"], int)


@pytest.mark.parametrize(
    ("value", "location", "kind"),
    [
        (b"", "", "json_invalid"),
        (b"{", "", "json_invalid"),
        (b"\xff\xfe", "", "json_invalid"),
        (b"[]", "", "model_type"),
        (b'"ord-1"', "", "model_type"),
        (b'{"id":"ord-1","number":"1","customer":{"email":"a@b.ru","phone":"+79001234567"},'
         b'"tickets":[]}', "tickets", "too_short"),
        (b'{"id":"ord-1","number":"1","customer":{"email":"a@b.ru","phone":"+79001234567"},'
         b'"tickets":[{"id":"t","event_id":null,"barcode":"1","category":"A"}]}',
         "tickets[0].event_id", "id_type"),
    ],
)  # fmt: skip
def test_decoding_bad_json_is_an_invalid_message(value: bytes, location: str, kind: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_json(Order, value)
    assert caught.value.entity == "order"
    assert (caught.value.problems[0].location, caught.value.problems[0].kind) == (location, kind)


def test_decoding_reads_the_key_of_an_invalid_payload() -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_json(Event, b'{"id":1001,"name":""}')
    assert caught.value.key == "1001"
    assert "name" in caught.value.locations


def test_decoding_accepts_the_consumers_leniencies_only() -> None:
    # Integer ids are accepted from JSON as from Python; a float timestamp is not.
    event = decode_json(Event, EVENT_JSON.replace(b'"id":"1001"', b'"id":1001'))
    assert event.id == "1001"
    with pytest.raises(InvalidMessage):
        decode_json(Event, EVENT_JSON.replace(b"1746115200000", b"1746115200000.0"))


def test_decoding_something_not_bytes_is_an_invalid_message() -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_json(Order, None)  # type: ignore[arg-type]
    assert caught.value.problems[0].kind == "json_type"


@pytest.mark.parametrize("field", [{"id": 5}, {"price_nominal": "+79001234567"}])
def test_a_model_built_without_validation_is_not_encoded(field: dict[str, object]) -> None:
    fields = {"id": "t", "event_id": "e", "barcode": "1", "category": "A", **field}
    broken = Ticket.model_construct(**fields)  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage) as caught:
        encode_json(broken)
    assert caught.value.problems[0].kind == "not_serializable"
    assert caught.value.__cause__ is None
    assert "+79001234567" not in "".join(traceback.format_exception(caught.value))


def _has_null(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_null(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_null(item) for item in value)
    return value is None


def _round_trip(model: BaseModel) -> None:
    encoded = encode_json(model)
    assert not _has_null(json.loads(encoded))
    assert decode_json(type(model), encoded) == model
    assert encode_json(decode_json(type(model), encoded)) == encoded


@settings(max_examples=200, deadline=None)
@given(st.one_of(events(), orders(), refunds()))
def test_model_to_json_to_model_is_the_identity(model: BaseModel) -> None:
    _round_trip(model)


@settings(max_examples=100, deadline=None)
@given(events())
def test_absent_optional_fields_are_never_in_the_json(event: Event) -> None:
    decoded = json.loads(encode_json(event))
    for name in Event.model_fields:
        assert (name in decoded) == (getattr(event, name) is not None)
    assert None not in decoded.values()


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=60),
        st.sampled_from([EVENT_JSON, ORDER_JSON, REFUND_JSON]).flatmap(
            lambda payload: st.integers(0, len(payload) - 1).map(
                lambda cut: payload[:cut] + payload[cut + 1 :]
            )
        ),
    ),
    st.sampled_from([Event, Order, Refund]),
)
def test_decoding_any_bytes_raises_only_invalid_message(
    value: bytes, model_cls: type[BaseModel]
) -> None:
    try:
        decode_json(model_cls, value)
    except InvalidMessage as error:
        problems = error.problems
    else:
        return
    assert problems
