from ticketland_vibe._proto.vibe.v1 import customer_pb2 as _customer_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Currency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CURRENCY_UNSPECIFIED: _ClassVar[Currency]
    CURRENCY_USD: _ClassVar[Currency]
    CURRENCY_EUR: _ClassVar[Currency]
    CURRENCY_RUB: _ClassVar[Currency]
    CURRENCY_GBP: _ClassVar[Currency]
    CURRENCY_CNY: _ClassVar[Currency]
CURRENCY_UNSPECIFIED: Currency
CURRENCY_USD: Currency
CURRENCY_EUR: Currency
CURRENCY_RUB: Currency
CURRENCY_GBP: Currency
CURRENCY_CNY: Currency

class Order(_message.Message):
    __slots__ = ("id", "number", "customer", "tickets")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    customer: _customer_pb2.Customer
    tickets: _containers.RepeatedCompositeFieldContainer[Ticket]
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., customer: _Optional[_Union[_customer_pb2.Customer, _Mapping]] = ..., tickets: _Optional[_Iterable[_Union[Ticket, _Mapping]]] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("id", "event_id", "barcode", "number", "series", "row", "seat", "category", "description", "price_nominal", "currency")
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRICE_NOMINAL_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    id: str
    event_id: str
    barcode: str
    number: str
    series: str
    row: str
    seat: str
    category: str
    description: str
    price_nominal: int
    currency: Currency
    def __init__(self, id: _Optional[str] = ..., event_id: _Optional[str] = ..., barcode: _Optional[str] = ..., number: _Optional[str] = ..., series: _Optional[str] = ..., row: _Optional[str] = ..., seat: _Optional[str] = ..., category: _Optional[str] = ..., description: _Optional[str] = ..., price_nominal: _Optional[int] = ..., currency: _Optional[_Union[Currency, str]] = ...) -> None: ...
