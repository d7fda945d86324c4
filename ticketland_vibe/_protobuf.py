"""The Protobuf codec: the contract's plain data to ``vibe.v1`` messages and back.

The plain data is what a model gives with ``model_dump(mode="json", exclude_none=True)``: keys
as in the contract, absent optional fields missing, enums as the contract's strings. Fields with
presence in the ``.proto`` files carry "absent" and "empty" as different things, so a round trip
keeps them apart. The conversion is written out per message, one line a field, rather than
walked from the descriptors: it is on the publish path, and so it reads like the contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, cast

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message import Error as ProtobufError

from ticketland_vibe._proto.vibe.v1 import event_pb2, order_pb2, refund_pb2
from ticketland_vibe.errors import InvalidMessage, Problem

__all__ = ["decode_protobuf", "encode_protobuf"]

Entity = Literal["event", "order", "refund"]

_E = TypeVar("_E", bound=int)
_M = TypeVar("_M", bound=Message)


def _enum_prefix(descriptor: EnumDescriptor) -> str:
    """The prefix of every value of an enum: ``EventStatus`` gives ``EVENT_STATUS_``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", descriptor.name).upper() + "_"


def _contract_names(descriptor: EnumDescriptor, *, lowercase: bool = True) -> dict[int, str]:
    """The contract's string for each number of an enum except its zero value ``*_UNSPECIFIED``.

    The string is the value's name without the enum's prefix, lowercase unless told otherwise
    (currencies keep their ISO 4217 code: ``CURRENCY_RUB`` is ``RUB``).
    """
    prefix = _enum_prefix(descriptor)
    names: dict[int, str] = {}
    for value in descriptor.values:
        if value.number == 0:
            continue
        name = value.name.removeprefix(prefix)
        names[value.number] = name.lower() if lowercase else name
    return names


def _numbers(names: Mapping[int, str]) -> dict[str, int]:
    """The inverse of :func:`_contract_names`: the number of each contract string."""
    return {name: number for number, name in names.items()}


_STATUS_NAME = _contract_names(event_pb2.EventStatus.DESCRIPTOR)
_CATEGORY_NAME = _contract_names(event_pb2.EventCategory.DESCRIPTOR)
_LEGAL_TYPE_NAME = _contract_names(event_pb2.LegalType.DESCRIPTOR)
_CURRENCY_NAME = _contract_names(order_pb2.Currency.DESCRIPTOR, lowercase=False)

# The stubs type an enum field's values as the generated enum class, a subclass of int.
_STATUS_NUMBER = cast("dict[str, event_pb2.EventStatus]", _numbers(_STATUS_NAME))
_CATEGORY_NUMBER = cast("dict[str, event_pb2.EventCategory]", _numbers(_CATEGORY_NAME))
_LEGAL_TYPE_NUMBER = cast("dict[str, event_pb2.LegalType]", _numbers(_LEGAL_TYPE_NAME))
_CURRENCY_NUMBER = cast("dict[str, order_pb2.Currency]", _numbers(_CURRENCY_NAME))


class _Unencodable(Exception):
    """A value that has no Protobuf form; ``location`` grows as it passes up the nesting."""

    def __init__(self, location: str, kind: str, message: str):
        super().__init__(message)
        self.location = location
        self.kind = kind
        self.message = message

    def within(self, parent: str) -> _Unencodable:
        """The same problem, located inside ``parent`` (``tickets[2]``)."""
        return _Unencodable(f"{parent}.{self.location}", self.kind, self.message)


def _number(numbers: Mapping[str, _E], value: Any, location: str) -> _E:
    """The enum number of a contract string, or :class:`_Unencodable` if there is none."""
    number = numbers.get(value)
    if number is None:
        allowed = ", ".join(numbers)
        raise _Unencodable(location, "enum", f"{value!r} is not one of {allowed}")
    return number


# Plain data to messages. A nested message is given to its parent's constructor as a dict of
# its fields, which protobuf builds in place; a message object would be copied.


def _legals_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the ``Legals`` message of an organizer's legal details."""
    legal_type = data.get("type")
    return {
        "name": data.get("name"),
        "type": None if legal_type is None else _number(_LEGAL_TYPE_NUMBER, legal_type, "type"),
        "inn": data.get("inn"),
        "ogrn": data.get("ogrn"),
        "address": data.get("address"),
    }


def _organizer_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the ``Organizer`` message of an event's organizer."""
    legals = data.get("legals")
    try:
        legals_fields = None if legals is None else _legals_fields(legals)
    except _Unencodable as problem:
        raise problem.within("legals") from None
    return {"id": data["id"], "name": data["name"], "legals": legals_fields}


def _venue_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the ``Venue`` message of an event's venue."""
    return {
        "id": data["id"],
        "name": data["name"],
        "address": data.get("address"),
        "description": data.get("description"),
        "zipcode": data.get("zipcode"),
        "city_name": data.get("city_name"),
        "lat": data.get("lat"),
        "lon": data.get("lon"),
    }


def _event_to_proto(data: Mapping[str, Any]) -> event_pb2.Event:
    """The ``Event`` message of an event."""
    try:
        organizer = _organizer_fields(data["organizer"])
    except _Unencodable as problem:
        raise problem.within("organizer") from None
    venue = data.get("venue")
    return event_pb2.Event(
        id=data["id"],
        group_id=data.get("group_id"),
        name=data["name"],
        status=_number(_STATUS_NUMBER, data["status"], "status"),
        category=_number(_CATEGORY_NUMBER, data["category"], "category"),
        start_at=data.get("start_at"),
        finish_at=data["finish_at"],
        offset=data["offset"],
        media=data.get("media"),
        description=data.get("description"),
        organizer=organizer,
        venue=None if venue is None else _venue_fields(venue),
    )


def _customer_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the ``Customer`` message of an order's or a refund's customer."""
    return {
        "email": data["email"],
        "phone": data["phone"],
        "first_name": data.get("first_name"),
        "last_name": data.get("last_name"),
    }


def _ticket_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the ``Ticket`` message of one ticket of an order."""
    currency = data.get("currency")
    return {
        "id": data["id"],
        "event_id": data["event_id"],
        "barcode": data["barcode"],
        "number": data.get("number"),
        "series": data.get("series"),
        "row": data.get("row"),
        "seat": data.get("seat"),
        "category": data["category"],
        "description": data.get("description"),
        "price_nominal": data.get("price_nominal"),
        "currency": None if currency is None else _number(_CURRENCY_NUMBER, currency, "currency"),
    }


def _order_to_proto(data: Mapping[str, Any]) -> order_pb2.Order:
    """The ``Order`` message of an order."""
    tickets = []
    for index, ticket in enumerate(data["tickets"]):
        try:
            tickets.append(_ticket_fields(ticket))
        except _Unencodable as problem:
            raise problem.within(f"tickets[{index}]") from None
    return order_pb2.Order(
        id=data["id"],
        number=data["number"],
        customer=_customer_fields(data["customer"]),
        tickets=tickets,
    )


def _refund_to_proto(data: Mapping[str, Any]) -> refund_pb2.Refund:
    """The ``Refund`` message of a refund."""
    return refund_pb2.Refund(
        customer=_customer_fields(data["customer"]),
        ticket_ids=data["ticket_ids"],
    )


_ENCODERS: dict[str, Callable[[Mapping[str, Any]], Message]] = {
    "event": _event_to_proto,
    "order": _order_to_proto,
    "refund": _refund_to_proto,
}


def encode_protobuf(entity: Entity, data: Mapping[str, Any]) -> bytes:
    """The Protobuf payload of an entity's plain data, the same bytes for the same data.

    ``data`` is a valid model's ``model_dump(mode="json", exclude_none=True)``; keys that are not
    in the contract are ignored, and data that does not fit the messages raises
    :class:`InvalidMessage`.
    """
    to_proto = _ENCODERS.get(entity)
    if to_proto is None:
        raise ValueError(f"unknown entity {entity!r}: expected event, order or refund")

    try:
        return to_proto(data).SerializeToString(deterministic=True)
    except _Unencodable as problem:
        failed = Problem(problem.location, problem.kind, problem.message)
        raise InvalidMessage(entity, [failed]) from None
    except KeyError as exc:
        # The key is a field name of the contract, never a value: safe to show.
        missing = Problem("", "missing", f"a required field is missing: {exc.args[0]!r}")
        raise InvalidMessage(entity, [missing]) from exc
    except (ProtobufError, TypeError, ValueError, AttributeError) as exc:
        # Only the exception's type: its text may quote a value, which may be personal data.
        failed = Problem("", "protobuf_encode", f"cannot encode: {type(exc).__name__}")
        raise InvalidMessage(entity, [failed]) from exc


# Messages to plain data.


def _name(names: Mapping[int, str], number: int, location: str, problems: list[Problem]) -> str:
    """The contract string of an enum number; ``*_UNSPECIFIED`` or an unknown one is a problem."""
    name = names.get(number)
    if name is None:
        what = "unspecified (0)" if number == 0 else f"unknown ({number})"
        problems.append(Problem(location, "enum", f"the value is {what}"))
        return ""
    return name


def _legals_from_proto(legals: event_pb2.Legals, problems: list[Problem]) -> dict[str, Any]:
    """The plain data of a ``Legals`` message; ``LEGAL_TYPE_UNSPECIFIED`` reads as absent."""
    data: dict[str, Any] = {}
    if legals.HasField("name"):
        data["name"] = legals.name
    if legals.HasField("type") and legals.type != 0:
        data["type"] = _name(_LEGAL_TYPE_NAME, legals.type, "organizer.legals.type", problems)
    if legals.HasField("inn"):
        data["inn"] = legals.inn
    if legals.HasField("ogrn"):
        data["ogrn"] = legals.ogrn
    if legals.HasField("address"):
        data["address"] = legals.address
    return data


def _organizer_from_proto(
    organizer: event_pb2.Organizer, problems: list[Problem]
) -> dict[str, Any]:
    """The plain data of an ``Organizer`` message."""
    data: dict[str, Any] = {"id": organizer.id, "name": organizer.name}
    if organizer.HasField("legals"):
        data["legals"] = _legals_from_proto(organizer.legals, problems)
    return data


def _venue_from_proto(venue: event_pb2.Venue) -> dict[str, Any]:
    """The plain data of a ``Venue`` message."""
    data: dict[str, Any] = {"id": venue.id, "name": venue.name}
    if venue.HasField("address"):
        data["address"] = venue.address
    if venue.HasField("description"):
        data["description"] = venue.description
    if venue.HasField("zipcode"):
        data["zipcode"] = venue.zipcode
    if venue.HasField("city_name"):
        data["city_name"] = venue.city_name
    if venue.HasField("lat"):
        data["lat"] = venue.lat
    if venue.HasField("lon"):
        data["lon"] = venue.lon
    return data


def _event_from_proto(event: event_pb2.Event, problems: list[Problem]) -> dict[str, Any]:
    """The plain data of an ``Event`` message."""
    data: dict[str, Any] = {"id": event.id}
    if event.HasField("group_id"):
        data["group_id"] = event.group_id
    data["name"] = event.name
    data["status"] = _name(_STATUS_NAME, event.status, "status", problems)
    data["category"] = _name(_CATEGORY_NAME, event.category, "category", problems)
    if event.HasField("start_at"):
        data["start_at"] = event.start_at
    data["finish_at"] = event.finish_at
    data["offset"] = event.offset
    if event.HasField("media"):
        data["media"] = event.media
    if event.HasField("description"):
        data["description"] = event.description
    if event.HasField("organizer"):
        data["organizer"] = _organizer_from_proto(event.organizer, problems)
    else:
        problems.append(Problem("organizer", "missing", "the organizer is missing"))
    if event.HasField("venue"):
        data["venue"] = _venue_from_proto(event.venue)
    return data


def _customer_from_proto(
    message: order_pb2.Order | refund_pb2.Refund, problems: list[Problem]
) -> dict[str, Any]:
    """The plain data of the ``customer`` of an order or a refund, which must be present."""
    if not message.HasField("customer"):
        problems.append(Problem("customer", "missing", "the customer is missing"))
        return {}
    customer = message.customer
    data: dict[str, Any] = {"email": customer.email, "phone": customer.phone}
    if customer.HasField("first_name"):
        data["first_name"] = customer.first_name
    if customer.HasField("last_name"):
        data["last_name"] = customer.last_name
    return data


def _ticket_from_proto(
    ticket: order_pb2.Ticket, index: int, problems: list[Problem]
) -> dict[str, Any]:
    """The plain data of the ``Ticket`` message at ``index`` in an order."""
    data: dict[str, Any] = {
        "id": ticket.id,
        "event_id": ticket.event_id,
        "barcode": ticket.barcode,
    }
    if ticket.HasField("number"):
        data["number"] = ticket.number
    if ticket.HasField("series"):
        data["series"] = ticket.series
    if ticket.HasField("row"):
        data["row"] = ticket.row
    if ticket.HasField("seat"):
        data["seat"] = ticket.seat
    data["category"] = ticket.category
    if ticket.HasField("description"):
        data["description"] = ticket.description
    if ticket.HasField("price_nominal"):
        data["price_nominal"] = ticket.price_nominal
    if ticket.HasField("currency") and ticket.currency != 0:
        location = f"tickets[{index}].currency"
        data["currency"] = _name(_CURRENCY_NAME, ticket.currency, location, problems)
    return data


def _order_from_proto(order: order_pb2.Order, problems: list[Problem]) -> dict[str, Any]:
    """The plain data of an ``Order`` message."""
    return {
        "id": order.id,
        "number": order.number,
        "customer": _customer_from_proto(order, problems),
        "tickets": [
            _ticket_from_proto(ticket, index, problems)
            for index, ticket in enumerate(order.tickets)
        ],
    }


def _refund_from_proto(refund: refund_pb2.Refund, problems: list[Problem]) -> dict[str, Any]:
    """The plain data of a ``Refund`` message."""
    return {
        "customer": _customer_from_proto(refund, problems),
        "ticket_ids": list(refund.ticket_ids),
    }


def _parse(message_type: type[_M], entity: Entity, value: bytes) -> _M:
    """The message that ``value`` holds; bytes that do not parse raise :class:`InvalidMessage`."""
    try:
        return message_type.FromString(value)
    except DecodeError as exc:
        # protobuf's text names the message type and the defect, never the content.
        failed = Problem("", "protobuf_decode", str(exc))
        raise InvalidMessage(entity, [failed]) from exc
    except (ProtobufError, TypeError, ValueError) as exc:
        name = message_type.DESCRIPTOR.full_name
        failed = Problem("", "protobuf_decode", f"cannot parse as {name}: {exc}")
        raise InvalidMessage(entity, [failed]) from exc


def decode_protobuf(entity: Entity, value: bytes) -> dict[str, Any]:
    """The plain data of an entity's Protobuf payload, in the shape :func:`encode_protobuf` takes.

    Absent fields are omitted and required fields always given. Bytes that do not parse, a
    missing organizer or customer, or an enum that is ``*_UNSPECIFIED`` in a required field or
    has an unknown number raise :class:`InvalidMessage`; ``*_UNSPECIFIED`` in an optional field
    reads as absent. Fields unknown to the ``.proto`` files are ignored.
    """
    problems: list[Problem] = []
    if entity == "event":
        data = _event_from_proto(_parse(event_pb2.Event, entity, value), problems)
    elif entity == "order":
        data = _order_from_proto(_parse(order_pb2.Order, entity, value), problems)
    elif entity == "refund":
        data = _refund_from_proto(_parse(refund_pb2.Refund, entity, value), problems)
    else:
        raise ValueError(f"unknown entity {entity!r}: expected event, order or refund")
    if problems:
        raise InvalidMessage(entity, problems)
    return data
