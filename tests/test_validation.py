"""validate_model: contract violations become one InvalidMessage listing every located problem."""

from __future__ import annotations

import copy
import math
import traceback
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from ticketland_vibe._models import Customer, Event, Order, Refund, Ticket
from ticketland_vibe._validation import problems_of, validate_model
from ticketland_vibe.errors import InvalidMessage

MOSCOW = timezone(timedelta(hours=3))
DROP = object()  # a value for _changed: remove the field


def event_data() -> dict[str, Any]:
    return {
        "id": "ev-1",
        "name": "Лебединое озеро",
        "status": "active",
        "category": "ballet",
        "start_at": 1_746_115_200_000,
        "finish_at": 1_746_126_000_000,
        "offset": 3,
        "media": "https://img.ticketland.example/swan-lake.jpg",
        "organizer": {
            "id": "org-1",
            "name": "Большой театр",
            "legals": {
                "name": "ФГБУК «ГАБТ России»",
                "type": "ru_ltd",
                "inn": "7707083893",
                "ogrn": "1027700132195",
            },
        },
        "venue": {"id": "v-1", "name": "Историческая сцена", "lat": 55.76, "lon": 37.6186},
    }


def _ticket(number: int) -> dict[str, Any]:
    return {
        "id": f"t-{number}",
        "event_id": "ev-1",
        "barcode": f"460000000000{number}",
        "category": "Партер",
        "price_nominal": 350_000,
        "currency": "RUB",
    }


def order_data() -> dict[str, Any]:
    return {
        "id": "ord-1",
        "number": "TL-0001",
        "customer": {
            "email": "ivan.petrov@example.ru",
            "phone": "+79001234567",
            "first_name": "Иван",
            "last_name": "Петров",
        },
        "tickets": [_ticket(number) for number in range(4)],
    }


def refund_data() -> dict[str, Any]:
    return {
        "customer": {"email": "ivan.petrov@example.ru", "phone": "+79001234567"},
        "ticket_ids": ["t-0", "t-1", "t-2"],
    }


BASES = {Event: event_data, Order: order_data, Refund: refund_data}


def _changed(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A deep copy of ``data`` with the field at the dotted ``path`` set (or dropped)."""
    changed = copy.deepcopy(data)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is DROP:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return changed


# (model, dotted path, new value, expected location, expected kind)
INVALID: list[tuple[type[BaseModel], str, object, str, str]] = [
    # event: ids and text
    (Event, "id", DROP, "id", "missing"),
    (Event, "id", "   ", "id", "blank"),
    (Event, "id", True, "id", "id_type"),
    (Event, "id", 17.0, "id", "id_type"),
    (Event, "group_id", "", "group_id", "blank"),
    (Event, "name", "", "name", "blank"),
    (Event, "name", " \t\n ", "name", "blank"),
    (Event, "name", 42, "name", "string_type"),
    (Event, "status", "open", "status", "enum"),
    (Event, "category", "opera", "category", "enum"),
    # event: times
    (Event, "start_at", 1_746_115_200, "start_at", "seconds_not_milliseconds"),
    (Event, "start_at", -1, "start_at", "timestamp_negative"),
    (Event, "start_at", True, "start_at", "timestamp_type"),
    (Event, "start_at", 1.7461152e12, "start_at", "timestamp_type"),
    (Event, "start_at", "1746115200000", "start_at", "timestamp_type"),
    (Event, "start_at", datetime(2025, 5, 1, 19), "start_at", "timezone_required"),
    (Event, "start_at", datetime(1970, 1, 2, tzinfo=timezone.utc), "start_at", "timestamp_range"),
    (Event, "finish_at", 1_746_126_000_000_000, "finish_at", "timestamp_range"),
    (Event, "finish_at", 1_746_115_199_999, "finish_at", "finish_before_start"),
    (Event, "finish_at", DROP, "finish_at", "missing"),
    (Event, "finish_at", None, "finish_at", "timestamp_type"),
    # event: offset, media
    (Event, "offset", 5.7, "offset", "multiple_of"),
    (Event, "offset", 14.25, "offset", "less_than_equal"),
    (Event, "offset", -12.5, "offset", "greater_than_equal"),
    (Event, "offset", "3", "offset", "float_type"),
    (Event, "offset", True, "offset", "float_type"),
    (Event, "offset", math.nan, "offset", "finite_number"),
    (Event, "media", "ftp://img.example/a.jpg", "media", "url_format"),
    (Event, "media", "img.example/a.jpg", "media", "url_format"),
    (Event, "media", "https://img.example/a b.jpg", "media", "url_format"),
    # event: organizer, legals, venue
    (Event, "organizer", "Большой театр", "organizer", "model_type"),
    (Event, "organizer.id", DROP, "organizer.id", "missing"),
    (Event, "organizer.legals.inn", "7707083894", "organizer.legals.inn", "inn_checksum"),
    (Event, "organizer.legals.inn", "500100732258", "organizer.legals.inn", "inn_checksum"),
    (Event, "organizer.legals.inn", "77070838931", "organizer.legals.inn", "inn_format"),
    (Event, "organizer.legals.inn", "77070838 3", "organizer.legals.inn", "inn_format"),
    (Event, "organizer.legals.ogrn", "1027700132196", "organizer.legals.ogrn", "ogrn_checksum"),
    (Event, "organizer.legals.ogrn", "304500116000158", "organizer.legals.ogrn", "ogrn_checksum"),
    (Event, "organizer.legals.ogrn", "10277001321", "organizer.legals.ogrn", "ogrn_format"),
    (Event, "organizer.legals.type", "llc", "organizer.legals.type", "enum"),
    (Event, "venue.lat", 90.5, "venue.lat", "less_than_equal"),
    (Event, "venue.lon", -180.5, "venue.lon", "greater_than_equal"),
    (Event, "venue.lat", "55.76", "venue.lat", "float_type"),
    (Event, "venue.name", DROP, "venue.name", "missing"),
    (Event, "colour", "red", "colour", "extra_forbidden"),
    # order
    (Order, "tickets", [], "tickets", "too_short"),
    (Order, "tickets", {"id": "t-0"}, "tickets", "tuple_type"),
    (Order, "tickets.2.event_id", DROP, "tickets[2].event_id", "missing"),
    (Order, "tickets.2.id", "t-0", "tickets[2].id", "duplicate_ticket_id"),
    (Order, "tickets.3.id", 3.5, "tickets[3].id", "id_type"),
    (Order, "tickets.1.barcode", "  ", "tickets[1].barcode", "blank"),
    (Order, "tickets.0.price_nominal", -1, "tickets[0].price_nominal", "greater_than_equal"),
    (Order, "tickets.0.price_nominal", 350.5, "tickets[0].price_nominal", "int_type"),
    (Order, "tickets.0.price_nominal", True, "tickets[0].price_nominal", "int_type"),
    (Order, "tickets.0.price_nominal", "350000", "tickets[0].price_nominal", "int_type"),
    (Order, "tickets.0.price_nominal", 2**53, "tickets[0].price_nominal", "less_than_equal"),
    (Order, "tickets.0.currency", "rub", "tickets[0].currency", "enum"),
    (Order, "tickets.0.seat", 12, "tickets[0].seat", "string_type"),
    (Order, "customer", DROP, "customer", "missing"),
    (Order, "customer.phone", "89001234567", "customer.phone", "phone_country_code"),
    (Order, "customer.phone", "007 900 123-45-67", "customer.phone", "phone_country_code"),
    (Order, "customer.phone", "+0 900 123 45 67", "customer.phone", "phone_format"),
    (Order, "customer.phone", "+7900123", "customer.phone", "phone_format"),
    (Order, "customer.phone", "+7 900 123 45 67 890 12", "customer.phone", "phone_format"),
    (Order, "customer.phone", "+7 900 CALL NOW", "customer.phone", "phone_format"),
    (Order, "customer.email", "ivan.petrov.example.ru", "customer.email", "email_format"),
    (Order, "customer.email", "ivan@petrov@example.ru", "customer.email", "email_format"),
    (Order, "customer.email", "ivan@localhost", "customer.email", "email_format"),
    (Order, "customer.email", "ivan@example..ru", "customer.email", "email_format"),
    (Order, "customer.email", "@example.ru", "customer.email", "email_format"),
    (Order, "customer.email", "ivan petrov@example.ru", "customer.email", "email_format"),
    (Order, "customer.email", "i" * 250 + "@x.ru", "customer.email", "string_too_long"),
    (Order, "customer.first_name", ["Иван"], "customer.first_name", "string_type"),
    (Order, "customer.phone", DROP, "customer.phone", "missing"),
    # refund
    (Refund, "ticket_ids", [], "ticket_ids", "too_short"),
    (Refund, "ticket_ids", ["t-0", "t-1", "t-0"], "ticket_ids[2]", "duplicate_ticket_id"),
    (Refund, "ticket_ids", [7, "7"], "ticket_ids[1]", "duplicate_ticket_id"),
    (Refund, "ticket_ids", ["t-0", None], "ticket_ids[1]", "id_type"),
    (Refund, "ticket_ids", "t-0", "ticket_ids", "tuple_type"),
    (Refund, "id", "ref-1", "id", "extra_forbidden"),
    (Refund, "customer.email", "", "customer.email", "blank"),
    (Refund, "customer.phone", "  ", "customer.phone", "blank"),
    (Order, "customer.phone", "+7 900 123/45/67", "customer.phone", "phone_format"),
]


def _case_id(case: tuple[type[BaseModel], str, object, str, str]) -> str:
    model_cls, path, _value, _location, kind = case
    return f"{model_cls.__name__}.{path}-{kind}"


@pytest.mark.parametrize("case", INVALID, ids=[_case_id(case) for case in INVALID])
def test_invalid_input_is_located(case: tuple[type[BaseModel], str, object, str, str]) -> None:
    model_cls, path, value, location, kind = case
    data = _changed(BASES[model_cls](), path, value)

    with pytest.raises(InvalidMessage) as caught:
        validate_model(model_cls, data)

    problems = caught.value.problems
    assert [(p.location, p.kind) for p in problems] == [(location, kind)], caught.value
    assert caught.value.entity == model_cls.__name__.lower()
    assert location in str(caught.value)
    assert problems[0].message


def test_the_table_is_large_enough() -> None:
    assert len(INVALID) >= 30


def test_every_duplicate_ticket_is_located() -> None:
    data = order_data()
    for index in (2, 3):
        data["tickets"][index]["id"] = "t-0"

    with pytest.raises(InvalidMessage) as caught:
        validate_model(Order, data)

    assert caught.value.locations == ("tickets[2].id", "tickets[3].id")
    assert {p.kind for p in caught.value.problems} == {"duplicate_ticket_id"}


def test_all_problems_are_listed_at_once() -> None:
    data = order_data()
    data["customer"]["phone"] = "9001234567"
    data["customer"]["email"] = "nobody"
    del data["tickets"][1]["event_id"]
    data["tickets"][2]["price_nominal"] = -5
    data["tickets"][3]["currency"] = "XXX"
    data["coupon"] = "SPRING"

    with pytest.raises(InvalidMessage) as caught:
        validate_model(Order, data)

    assert set(caught.value.locations) == {
        "customer.email",
        "customer.phone",
        "tickets[1].event_id",
        "tickets[2].price_nominal",
        "tickets[3].currency",
        "coupon",
    }
    assert "6 problems" in str(caught.value)
    for location in caught.value.locations:
        assert location in str(caught.value)


def test_a_field_problem_and_finish_before_start_are_reported_together() -> None:
    data = event_data()
    data["finish_at"] = data["start_at"] - 1
    data["venue"]["lat"] = 100

    with pytest.raises(InvalidMessage) as caught:
        validate_model(Event, data)

    assert set(caught.value.locations) == {"finish_at", "venue.lat"}


# --- personal data never appears in an error ----------------------------------------------------

EMAIL = "zephyrine.quast@unique-mailhost.example"
PHONE_DIGITS = "4917655512398"
FIRST_NAME = "Ксенофонтия"
LAST_NAME = "Перепелицына-Штольц"


def _personal_cases() -> list[dict[str, Any]]:
    """Orders and refunds whose errors are about, or next to, distinctive personal values."""
    valid_customer = {
        "email": EMAIL,
        "phone": f"+{PHONE_DIGITS}",
        "first_name": FIRST_NAME,
        "last_name": LAST_NAME,
    }
    broken = [
        {**valid_customer, "email": EMAIL.replace("@", "#")},
        {**valid_customer, "email": f"{EMAIL} "[::-1]},
        {**valid_customer, "phone": PHONE_DIGITS},
        {**valid_customer, "phone": f"+0{PHONE_DIGITS}"},
        {**valid_customer, "first_name": [FIRST_NAME], "last_name": {LAST_NAME: LAST_NAME}},
        {**valid_customer, "first_name": FIRST_NAME.encode(), "last_name": 12},
        {**valid_customer, FIRST_NAME: LAST_NAME},
        valid_customer,  # valid itself, next to broken tickets
    ]
    cases: list[dict[str, Any]] = []
    for customer in broken:
        order = order_data()
        order["customer"] = customer
        order["tickets"][0]["barcode"] = ""
        cases.append({"model": Order, "data": order})
        refund = {"customer": customer, "ticket_ids": [EMAIL, EMAIL]}
        cases.append({"model": Refund, "data": refund})
    return cases


@pytest.mark.parametrize("case", _personal_cases())
def test_errors_never_show_personal_data(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessage) as caught:
        validate_model(case["model"], case["data"])

    error = caught.value
    texts = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        *(f"{p.location} {p.kind} {p.message} {p!r}" for p in error.problems),
    ]
    secrets = [EMAIL, EMAIL.replace("@", "#"), PHONE_DIGITS, FIRST_NAME, LAST_NAME]
    for text in texts:
        for secret in secrets:
            assert secret not in text
        # The pydantic error kept as the cause must not show inputs either.
        assert "input_value" not in text


def test_a_pydantic_message_that_quotes_the_input_is_replaced() -> None:
    secret = "+79001234567"
    detail: InitErrorDetails = {
        "type": PydanticCustomError("odd", "odd value {value}", {"value": secret}),
        "loc": ("customer", "phone"),
        "input": secret,
    }
    error = ValidationError.from_exception_data("Order", [detail])

    [problem] = problems_of(error, Order, {})

    assert problem.location == "customer.phone"
    assert secret not in problem.message


# --- what is accepted, and how it is stored -----------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "+7 900 123-45-67",
        "+7 (900) 123-45-67",
        "+7.900.123.45.67",
        " +79001234567 ",
        "+7–900–1234567",
    ],
)
def test_phone_formatting_is_removed(phone: str) -> None:
    customer = validate_model(Customer, {"email": "a@b.ru", "phone": phone})
    assert customer.phone == "+79001234567"


@pytest.mark.parametrize("phone", ["+12025550123", "+4930123456", "+861012345678901"])
def test_international_phones_are_accepted(phone: str) -> None:
    assert validate_model(Customer, {"email": "a@b.ru", "phone": phone}).phone == phone


@pytest.mark.parametrize(
    "email", ["a@b.ru", "ivan+tickets@mail.example.com", "иван@почта.рф", "o'neil@example.ie"]
)
def test_pragmatic_emails_are_accepted(email: str) -> None:
    assert validate_model(Customer, {"email": email, "phone": "+79001234567"}).email == email


def test_aware_datetimes_become_milliseconds() -> None:
    data = event_data()
    data["start_at"] = datetime(2025, 5, 1, 19, 0, tzinfo=MOSCOW)
    data["finish_at"] = datetime(2025, 5, 1, 19, 0, 0, 999_999, tzinfo=timezone.utc)

    event = validate_model(Event, data)

    assert event.start_at == 1_746_115_200_000
    assert event.finish_at == 1_746_126_000_999


def test_integer_ids_become_strings() -> None:
    data = order_data()
    data["id"] = 5
    data["tickets"][0].update(id=101, event_id=17)
    order = validate_model(Order, data)
    assert (order.id, order.tickets[0].id, order.tickets[0].event_id) == ("5", "101", "17")

    event = event_data()
    event.update(id=17, group_id=0)
    event["organizer"]["id"] = 3
    event["venue"]["id"] = 4
    parsed = validate_model(Event, event)
    assert (parsed.id, parsed.group_id, parsed.organizer.id) == ("17", "0", "3")
    assert parsed.venue is not None and parsed.venue.id == "4"

    refund = validate_model(Refund, {**refund_data(), "ticket_ids": [1, "2", 30]})
    assert refund.ticket_ids == ("1", "2", "30")


@pytest.mark.parametrize("offset", [3, 3.0, 5.5, 5.75, -9.5, -12, 14, 0])
def test_real_utc_offsets_are_accepted(offset: float) -> None:
    event = validate_model(Event, {**event_data(), "offset": offset})
    assert event.offset == offset
    assert isinstance(event.offset, float)


def test_strings_are_stripped() -> None:
    data = event_data()
    data["name"] = "  Лебединое озеро \n"
    data["id"] = " ev-1 "
    event = validate_model(Event, data)
    assert (event.name, event.id) == ("Лебединое озеро", "ev-1")


def test_empty_optional_strings_stay_present() -> None:
    ticket = validate_model(Ticket, {**_ticket(0), "row": "", "seat": "  "})
    assert (ticket.row, ticket.seat) == ("", "")


def test_edges_are_accepted() -> None:
    data = event_data()
    data["finish_at"] = data["start_at"]
    data["venue"].update(lat=-90, lon=180)
    data["organizer"]["legals"].update(type="ru_lp", inn="500100732259", ogrn="304500116000157")
    del data["media"]
    event = validate_model(Event, data)
    assert event.finish_at == event.start_at
    assert event.media is None

    no_start = {**event_data(), "start_at": None, "finish_at": 100_000_000_000}
    assert validate_model(Event, no_start).start_at is None

    ticket = validate_model(Ticket, {**_ticket(0), "price_nominal": 0})
    assert ticket.price_nominal == 0


def test_an_instance_is_returned_as_it_is() -> None:
    order = validate_model(Order, order_data())
    assert validate_model(Order, order) is order


def test_any_mapping_is_accepted() -> None:
    refund = validate_model(Refund, MappingProxyType(refund_data()))
    assert refund.ticket_ids == ("t-0", "t-1", "t-2")


# --- the key, and inputs that are not mappings ---------------------------------------------------


def test_the_key_is_read_from_the_input() -> None:
    with pytest.raises(InvalidMessage) as caught:
        validate_model(Event, {**event_data(), "id": 17, "status": "open"})
    assert caught.value.key == "17"

    with pytest.raises(InvalidMessage) as caught:
        validate_model(Order, {**order_data(), "id": " ord-9 ", "tickets": []})
    assert caught.value.key == "ord-9"

    with pytest.raises(InvalidMessage) as caught:
        validate_model(Order, {**order_data(), "id": 1.5})
    assert caught.value.key is None

    with pytest.raises(InvalidMessage) as caught:
        validate_model(Refund, {**refund_data(), "ticket_ids": []})
    assert caught.value.key is None


@pytest.mark.parametrize(
    ("model_cls", "data"),
    [
        (Order, None),
        (Order, ["ord-1"]),
        (Order, "ord-1"),
        (Event, 17),
        (Refund, b"{}"),
        (Order, Refund.model_validate(refund_data())),
    ],
)
def test_not_a_mapping_is_a_root_problem(model_cls: type[BaseModel], data: Any) -> None:
    with pytest.raises(InvalidMessage) as caught:
        validate_model(model_cls, data)
    assert caught.value.locations == ("",)
    assert caught.value.problems[0].kind == "model_type"
    assert "mapping" in caught.value.problems[0].message


_JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    model_cls=st.sampled_from([Event, Order, Refund]),
    field=st.sampled_from(["id", "customer", "tickets", "ticket_ids", "offset", "organizer", "x"]),
    value=_JSON_LIKE,
)
def test_nothing_but_invalid_message_escapes(
    model_cls: type[BaseModel], field: str, value: object
) -> None:
    data: Mapping[str, Any] = {**BASES[model_cls](), field: value}
    try:
        validate_model(model_cls, data)
    except InvalidMessage as error:
        problems = error.problems
    else:
        return
    assert problems
    assert all(isinstance(p.location, str) and p.kind and p.message for p in problems)
