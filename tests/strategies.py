"""Hypothesis strategies for valid payload models, shared by the JSON and Protobuf round trips.

Each strategy draws the raw fields within the contract (Cyrillic text, optional fields present or
absent, INN and OGRN with correct check digits, offsets in quarter hours, times in milliseconds)
and builds the model by validation, so every instance is one the library could send.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from ticketland_vibe._models import (
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

__all__ = [
    "customers",
    "events",
    "inns",
    "ogrns",
    "orders",
    "refunds",
    "tickets",
]

# Written out here rather than imported, so the strategies do not lean on what they test.
MIN_MILLIS = 100_000_000_000
MAX_MILLIS = 253_402_300_799_999
MAX_SAFE_INTEGER = 2**53 - 1

_CYRILLIC = st.characters(min_codepoint=0x0410, max_codepoint=0x044F)
_ANY_PRINTABLE = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"))
_CHARACTERS = st.one_of(_CYRILLIC, st.sampled_from(string.ascii_letters + " -.,"), _ANY_PRINTABLE)


def _text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Text with no surrounding whitespace (the models strip it), possibly empty."""
    return st.text(_CHARACTERS, max_size=max_size).map(str.strip)


def _required_text(max_size: int = 30) -> st.SearchStrategy[str]:
    return _text(max_size).filter(bool)


def _ids() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 10**15).map(str), _required_text(20))


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text(string.digits, min_size=size, max_size=size)


def _inn_check(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


@st.composite
def inns(draw: st.DrawFn) -> str:
    """A valid INN: 10 digits (a company) or 12 (a person), check digits computed."""
    if draw(st.booleans()):
        head = draw(_digits(9))
        return head + _inn_check(head, (2, 4, 10, 3, 5, 9, 4, 6, 8))
    head = draw(_digits(10))
    head += _inn_check(head, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    return head + _inn_check(head, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))


@st.composite
def ogrns(draw: st.DrawFn) -> str:
    """A valid OGRN (13 digits, mod 11) or OGRNIP (15 digits, mod 13)."""
    if draw(st.booleans()):
        head = draw(_digits(12))
        return head + str(int(head) % 11 % 10)
    head = draw(_digits(14))
    return head + str(int(head) % 13 % 10)


def _phones() -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, rest: f"+{first}{rest}",
        st.integers(1, 9),
        st.text(string.digits, min_size=7, max_size=14),
    )


def _emails() -> st.SearchStrategy[str]:
    local = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20)
    label = st.text(st.one_of(_CYRILLIC, st.sampled_from(string.ascii_lowercase)), min_size=1)
    domain = st.lists(label.map(lambda text: text[:12]), min_size=2, max_size=3).map(".".join)
    return st.builds(lambda name, host: f"{name}@{host}", local, domain)


def _urls() -> st.SearchStrategy[str]:
    path = st.text(string.ascii_letters + string.digits + "/-_.", max_size=30)
    return st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}.example/{rest}",
        st.sampled_from(["http", "https"]),
        st.text(string.ascii_lowercase, min_size=1, max_size=10),
        path,
    )


@st.composite
def _fields(draw: st.DrawFn, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    """The required fields drawn, and each optional field drawn or left out."""
    fields = {name: draw(strategy) for name, strategy in required.items()}
    for name, strategy in optional.items():
        if draw(st.booleans()):
            fields[name] = draw(strategy)
    return fields


def _legals() -> st.SearchStrategy[Legals]:
    optional = {
        "name": _text(),
        "type": st.sampled_from(LegalType),
        "inn": inns(),
        "ogrn": ogrns(),
        "address": _text(),
    }
    return _fields({}, optional).map(Legals.model_validate)


def _organizers() -> st.SearchStrategy[Organizer]:
    required = {"id": _ids(), "name": _required_text()}
    return _fields(required, {"legals": _legals()}).map(Organizer.model_validate)


def _venues() -> st.SearchStrategy[Venue]:
    optional = {
        "address": _text(),
        "description": _text(80),
        "zipcode": _text(10),
        "city_name": _text(),
        "lat": st.floats(-90, 90, allow_nan=False, allow_infinity=False),
        "lon": st.floats(-180, 180, allow_nan=False, allow_infinity=False),
    }
    required = {"id": _ids(), "name": _required_text()}
    return _fields(required, optional).map(Venue.model_validate)


@st.composite
def events(draw: st.DrawFn) -> Event:
    """A valid event; when both times are present, ``finish_at`` is not before ``start_at``."""
    required = {
        "id": _ids(),
        "name": _required_text(),
        "status": st.sampled_from(EventStatus),
        "category": st.sampled_from(EventCategory),
        "offset": st.integers(-48, 56).map(lambda quarters: quarters / 4),
        "organizer": _organizers(),
    }
    optional = {
        "group_id": _ids(),
        "media": _urls(),
        "description": _text(200),
        "venue": _venues(),
    }
    fields = draw(_fields(required, optional))
    if draw(st.booleans()):
        fields["start_at"] = draw(st.integers(MIN_MILLIS, MAX_MILLIS))
    fields["finish_at"] = draw(st.integers(fields.get("start_at", MIN_MILLIS), MAX_MILLIS))
    return Event.model_validate(fields)


def customers() -> st.SearchStrategy[Customer]:
    """A valid customer: email, canonical phone, names present or absent."""
    required = {"email": _emails(), "phone": _phones()}
    optional = {"first_name": _text(), "last_name": _text()}
    return _fields(required, optional).map(Customer.model_validate)


def tickets() -> st.SearchStrategy[Ticket]:
    """A valid ticket with any mix of its optional fields."""
    required = {
        "id": _ids(),
        "event_id": _ids(),
        "barcode": _required_text(),
        "category": _required_text(),
    }
    optional = {
        "number": _text(10),
        "series": _text(10),
        "row": _text(5),
        "seat": _text(5),
        "description": _text(80),
        "price_nominal": st.integers(0, MAX_SAFE_INTEGER),
        "currency": st.sampled_from(Currency),
    }
    return _fields(required, optional).map(Ticket.model_validate)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    """A valid order of one to five tickets with distinct ids."""
    return Order.model_validate(
        {
            "id": draw(_ids()),
            "number": draw(_required_text(20)),
            "customer": draw(customers()),
            "tickets": draw(st.lists(tickets(), min_size=1, max_size=5, unique_by=_ticket_id)),
        }
    )


def _ticket_id(ticket: Ticket) -> str:
    return ticket.id


@st.composite
def refunds(draw: st.DrawFn) -> Refund:
    """A valid refund of one to five distinct ticket ids."""
    return Refund.model_validate(
        {
            "customer": draw(customers()),
            "ticket_ids": draw(st.lists(_ids(), min_size=1, max_size=5, unique=True)),
        }
    )
