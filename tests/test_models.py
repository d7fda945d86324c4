"""The models against the contract: enum values, field names, what is required, immutability."""

from __future__ import annotations

import enum
from typing import cast

import pytest
from pydantic import BaseModel, ValidationError

from tests import contract
from ticketland_vibe._models import (
    MODELS_BY_ENTITY,
    Currency,
    Customer,
    Event,
    EventCategory,
    EventStatus,
    Legals,
    LegalType,
    Order,
    Organizer,
    Refund,
    Ticket,
    Venue,
)
from ticketland_vibe._validation import validate_model
from ticketland_vibe.errors import InvalidMessage

ENUMS: list[tuple[type[enum.Enum], list[str]]] = [
    (EventStatus, contract.STATUSES),
    (EventCategory, contract.CATEGORIES),
    (LegalType, contract.LEGAL_TYPES),
    (Currency, contract.CURRENCIES),
]

MODELS: list[type[BaseModel]] = [Event, Organizer, Legals, Venue, Order, Customer, Ticket, Refund]

# (model, every field in order, the required ones)
FIELDS: list[tuple[type[BaseModel], list[str], set[str]]] = [
    (model, contract.FIELDS[model.__name__], contract.REQUIRED[model.__name__]) for model in MODELS
]

CUSTOMER = {"email": "ivan@example.ru", "phone": "+79001234567"}
TICKET = {"id": "t1", "event_id": "e1", "barcode": "4600000000001", "category": "Партер"}


@pytest.mark.parametrize(
    ("enum_cls", "values"), ENUMS, ids=lambda item: getattr(item, "__name__", "")
)
def test_enum_values_are_the_contracts(enum_cls: type[enum.Enum], values: list[str]) -> None:
    assert [member.value for member in enum_cls] == values
    assert [member.name for member in enum_cls] == [value.upper() for value in values]
    assert all(isinstance(member, str) for member in enum_cls)


def test_enum_members_compare_equal_to_their_wire_values() -> None:
    assert cast(str, EventStatus.ACTIVE) == "active"
    assert EventStatus("cancelled") is EventStatus.CANCELLED
    assert LegalType.RU_LP.value == "ru_lp"
    assert Currency.RUB == "RUB"


@pytest.mark.parametrize(
    ("model_cls", "names", "required"), FIELDS, ids=lambda i: getattr(i, "__name__", "")
)
def test_fields_are_the_contracts(
    model_cls: type[BaseModel], names: list[str], required: set[str]
) -> None:
    assert list(model_cls.model_fields) == names
    actual_required = {name for name, info in model_cls.model_fields.items() if info.is_required()}
    assert actual_required == required
    for name, info in model_cls.model_fields.items():
        if not info.is_required():
            assert info.default is None, name


@pytest.mark.parametrize("model_cls", [model for model, _, _ in FIELDS], ids=lambda m: m.__name__)
def test_every_field_is_described(model_cls: type[BaseModel]) -> None:
    for name, info in model_cls.model_fields.items():
        assert info.description, f"{model_cls.__name__}.{name} has no description"


def test_refund_has_no_id_field() -> None:
    assert "id" not in Refund.model_fields


def test_entities_are_named() -> None:
    assert (Event.entity, Order.entity, Refund.entity) == ("event", "order", "refund")
    assert dict(MODELS_BY_ENTITY) == {"event": Event, "order": Order, "refund": Refund}


def test_models_are_frozen_and_hashable() -> None:
    order = Order.model_validate(
        {"id": "o1", "number": "1", "customer": CUSTOMER, "tickets": [TICKET]}
    )
    with pytest.raises(ValidationError):
        order.id = "o2"
    with pytest.raises(ValidationError):
        order.customer.phone = "+79990000000"
    assert isinstance(order.tickets, tuple)
    assert hash(order) == hash(order.model_copy())


@pytest.mark.parametrize(
    ("model_cls", "data"),
    [
        (Customer, {**CUSTOMER, "passport": "4510 123456"}),
        (Ticket, {**TICKET, "price": 100}),
        (Refund, {"id": "r1", "customer": CUSTOMER, "ticket_ids": ["t1"]}),
        (Organizer, {"id": "o", "name": "n", "inn": "7707083893"}),
    ],
)
def test_unknown_fields_are_rejected(model_cls: type[BaseModel], data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model_cls.model_validate(data)
    with pytest.raises(InvalidMessage) as caught:
        validate_model(model_cls, data)
    assert [problem.kind for problem in caught.value.problems] == ["extra_forbidden"]


def test_optional_fields_default_to_absent() -> None:
    ticket = Ticket.model_validate(TICKET)
    assert ticket.number is None
    assert ticket.price_nominal is None
    assert ticket.model_fields_set == set(TICKET)
