"""The contract's payloads as frozen pydantic models: Event, Order and Refund, and their parts.

What the models accept beyond the wire types, and store in the wire's form:

- every string is stripped of surrounding whitespace; a required string must not be blank then;
- ids (``id``, ``group_id``, ``event_id``, ``ticket_ids``) may be ints, stored as decimal strings;
- ``start_at``/``finish_at`` may be timezone-aware datetimes, stored as Unix milliseconds;
- a phone may contain spaces, dashes, dots and parentheses, stored as ``+79001234567``.

Optional fields default to ``None``, which means absent: the JSON encoding omits them and never
writes ``null``. Each top-level model names its entity in the ``entity`` class attribute.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import core_schema

from ticketland_vibe._validation import (
    ID_TYPE,
    MAX_MILLIS,
    MAX_SAFE_INTEGER,
    MIN_MILLIS,
    canonical_phone,
    check_email,
    check_http_url,
    check_inn,
    check_ogrn,
    finish_not_before_start,
    to_millis,
    unique_ids,
    unique_ticket_ids,
)

__all__ = [
    "MODELS_BY_ENTITY",
    "Currency",
    "Customer",
    "Event",
    "EventCategory",
    "EventStatus",
    "LegalType",
    "Legals",
    "Order",
    "Organizer",
    "Refund",
    "Ticket",
    "Venue",
]


class EventStatus(str, enum.Enum):
    """Whether an event is on sale: only active is; paused, finished and cancelled are not."""

    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class EventCategory(str, enum.Enum):
    """The kind of an event, as Vibeapp groups them."""

    BALLET = "ballet"
    BUSINESS = "business"
    CIRCUS = "circus"
    CONCERT = "concert"
    DEVELOPMENT = "development"
    EXCURSION = "excursion"
    EXHIBITION = "exhibition"
    FESTIVAL = "festival"
    GAMES = "games"
    HEALTH = "health"
    KIDS = "kids"
    MOVIE = "movie"
    MUSEUM = "museum"
    MUSICAL = "musical"
    PARTY = "party"
    SHOW = "show"
    SPORT = "sport"
    STANDUP = "standup"
    TEST = "test"
    THEATER = "theater"
    WORKSHOP = "workshop"
    OTHER = "other"


class LegalType(str, enum.Enum):
    """The organizer's legal form: ru_ltd company, ru_lp sole proprietor, en_ltd foreign."""

    RU_LTD = "ru_ltd"
    RU_LP = "ru_lp"
    EN_LTD = "en_ltd"


class Currency(str, enum.Enum):
    """The currency of a ticket's face value."""

    USD = "USD"
    EUR = "EUR"
    RUB = "RUB"
    GBP = "GBP"
    CNY = "CNY"


def _number_json(value: float) -> int | float:
    """Write an integral float as a JSON integer (``3``), any other as a number (``5.75``)."""
    return int(value) if value.is_integer() else value


def _decimal(number: int) -> str:
    """An integer id as the string the contract carries."""
    return str(int(number))


class _IdSchema:
    """An id: a non-blank string, or an integer stored as its decimal string (never a bool or a
    float); a union checked in pydantic-core, so a string id costs no Python call."""

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.union_schema(
            [
                core_schema.str_schema(min_length=1),
                core_schema.no_info_after_validator_function(
                    _decimal, core_schema.int_schema(strict=True)
                ),
            ],
            custom_error_type=ID_TYPE,
            custom_error_message="must be a non-blank string or an integer",
            serialization=core_schema.simple_ser_schema("str"),
        )


# The field types: each carries its rule, so a field reads as name, type, description.
_Id = Annotated[str, _IdSchema(), WithJsonSchema({"type": "string", "minLength": 1})]
_Text = Annotated[str, Field(min_length=1)]
_Millis = Annotated[int, Field(ge=MIN_MILLIS, le=MAX_MILLIS), BeforeValidator(to_millis)]
_Offset = Annotated[
    float,
    Field(strict=True, ge=-12, le=14, multiple_of=0.25, allow_inf_nan=False),
    PlainSerializer(_number_json, when_used="json"),
]
_Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
_Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
_Url = Annotated[str, AfterValidator(check_http_url), Field(json_schema_extra={"format": "uri"})]
_Inn = Annotated[
    str, AfterValidator(check_inn), Field(json_schema_extra={"pattern": "^([0-9]{10}|[0-9]{12})$"})
]
_Ogrn = Annotated[
    str,
    AfterValidator(check_ogrn),
    Field(json_schema_extra={"pattern": "^([0-9]{13}|[0-9]{15})$"}),
]
_Email = Annotated[str, Field(min_length=1, max_length=254), AfterValidator(check_email)]
_Phone = Annotated[
    str,
    Field(min_length=1, json_schema_extra={"pattern": "^\\+[1-9][0-9]{7,14}$"}),
    AfterValidator(canonical_phone),
]
_Price = Annotated[int, Field(strict=True, ge=0, le=MAX_SAFE_INTEGER)]


class _ContractModel(BaseModel):
    """Frozen, unknown fields refused, strings stripped, inputs kept out of error texts."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        hide_input_in_errors=True,
    )


class Legals(_ContractModel):
    """The organizer's legal details; every part is optional."""

    name: str | None = Field(None, description="string; official name (default: organizer's)")
    type: LegalType | None = Field(None, description="enum; legal form (consumer default ru_ltd)")
    inn: _Inn | None = Field(None, description="string; 10 or 12 digits, check digits; INN")
    ogrn: _Ogrn | None = Field(None, description="string; 13 (OGRN) or 15 (OGRNIP) digits; OGRN")
    address: str | None = Field(None, description="string; legal address")


class Organizer(_ContractModel):
    """Who runs the event."""

    id: _Id = Field(description="string, not blank; organizer id")
    name: _Text = Field(description="string, not blank; organizer's public name")
    legals: Legals | None = Field(None, description="object; legal details")


class Venue(_ContractModel):
    """Where the event takes place."""

    id: _Id = Field(description="string, not blank; venue id")
    name: _Text = Field(description="string, not blank; venue name")
    address: str | None = Field(None, description="string; street address")
    description: str | None = Field(None, description="string; how to get there, etc.")
    zipcode: str | None = Field(None, description="string; postal code")
    city_name: str | None = Field(None, description="string; city")
    lat: _Latitude | None = Field(None, description="number in [-90, 90]; latitude, degrees")
    lon: _Longitude | None = Field(None, description="number in [-180, 180]; longitude, degrees")


class Event(_ContractModel):
    """An event at Ticketland with its organizer and venue; its id is the message key."""

    entity: ClassVar[str] = "event"

    id: _Id = Field(description="string, not blank; event id, message key")
    group_id: _Id | None = Field(None, description="string, not blank; id of the event's series")
    name: _Text = Field(description="string, not blank; title")
    status: EventStatus = Field(description="enum; active is on sale, the others are not")
    category: EventCategory = Field(description="enum; the kind of event")
    start_at: _Millis | None = Field(None, description="integer, Unix ms; start")
    finish_at: Annotated[_Millis, AfterValidator(finish_not_before_start)] = Field(
        description="integer, Unix ms, ≥ start_at; end"
    )
    offset: _Offset = Field(
        description="number in [-12, 14], step 0.25; UTC offset, hours (Moscow 3)"
    )
    media: _Url | None = Field(None, description="string, http(s) URL; the event's image")
    description: str | None = Field(None, description="string; description")
    organizer: Organizer = Field(description="object; who runs the event")
    venue: Venue | None = Field(None, description="object; where the event takes place")


class Customer(_ContractModel):
    """The buyer of an order or the holder of a refund; every field is personal data."""

    email: _Email = Field(description="string, one @ and a dotted domain, ≤ 254 chars; email")
    phone: _Phone = Field(description="string, + and 8-15 digits (E.164); phone typed at checkout")
    first_name: str | None = Field(None, description="string; first name")
    last_name: str | None = Field(None, description="string; last name")


class Ticket(_ContractModel):
    """One ticket of an order, for one event."""

    id: _Id = Field(description="string, not blank; ticket id")
    event_id: _Id = Field(description="string, not blank; the event's id")
    barcode: _Text = Field(description="string, not blank; barcode or QR code content")
    number: str | None = Field(None, description="string; the ticket's number")
    series: str | None = Field(None, description="string; the ticket's series")
    row: str | None = Field(None, description="string; row")
    seat: str | None = Field(None, description="string; seat")
    category: _Text = Field(description="string, not blank; price category or section")
    description: str | None = Field(None, description="string; description")
    price_nominal: _Price | None = Field(
        None, description="integer ≥ 0, minor units (kopecks, cents); face value"
    )
    currency: Currency | None = Field(None, description="enum; currency of price_nominal")


class Order(_ContractModel):
    """A paid order: who bought which tickets; its id is the message key."""

    entity: ClassVar[str] = "order"

    id: _Id = Field(description="string, not blank; order id, message key")
    number: _Text = Field(description="string, not blank; order number shown to the customer")
    customer: Customer = Field(description="object; the buyer")
    tickets: Annotated[tuple[Ticket, ...], AfterValidator(unique_ticket_ids)] = Field(
        min_length=1, description="array of objects, ≥ 1, ids unique; the tickets in the order"
    )


class Refund(_ContractModel):
    """Tickets given back; the refund's id is the message key and not part of the payload."""

    entity: ClassVar[str] = "refund"

    customer: Customer = Field(description="object; same shape as the order's customer")
    ticket_ids: Annotated[tuple[_Id, ...], AfterValidator(unique_ids)] = Field(
        min_length=1, description="array of strings, ≥ 1, unique; the refunded tickets' ids"
    )


#: The model of each entity, by the entity's name.
MODELS_BY_ENTITY: Mapping[str, type[Event | Order | Refund]] = {
    "event": Event,
    "order": Order,
    "refund": Refund,
}
