"""The contract's rules beyond types, and the one place where pydantic's errors become ours.

The rule functions are pydantic validators used by the fields in :mod:`ticketland_vibe._models`;
each raises ``PydanticCustomError`` with a short kind and a message that never quotes the input.
:func:`validate_model` turns a mapping into a model or an :class:`InvalidMessage`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from ticketland_vibe.errors import InvalidMessage, Problem

__all__ = [
    "ID_TYPE",
    "MAX_MILLIS",
    "MAX_SAFE_INTEGER",
    "MIN_MILLIS",
    "UNKNOWN_FIELD",
    "entity_of",
    "invalid_message",
    "key_of",
    "problems_of",
    "safe_cause",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)

#: The smallest accepted timestamp, 1973-03-03T09:46:40Z in ms; anything below is seconds.
MIN_MILLIS = 100_000_000_000
#: The largest accepted timestamp, 9999-12-31T23:59:59.999Z in ms; anything above is finer.
MAX_MILLIS = 253_402_300_799_999
#: The largest integer a JavaScript consumer reads exactly (2**53 - 1).
MAX_SAFE_INTEGER = 9_007_199_254_740_991

#: The error kind of an id that is neither a non-blank string nor an integer.
ID_TYPE = "id_type"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


# --- ids -----------------------------------------------------------------------------------------


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def unique_ticket_ids(tickets: tuple[_HasId, ...]) -> tuple[_HasId, ...]:
    """Refuse an order whose tickets repeat an id; every repeat is reported at ``[i].id``."""
    if len({ticket.id for ticket in tickets}) != len(tickets):
        _raise_repeats([ticket.id for ticket in tickets], "id")
    return tickets


def unique_ids(ticket_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse a refund that lists a ticket id twice; every repeat is reported at ``[i]``."""
    if len(set(ticket_ids)) != len(ticket_ids):
        _raise_repeats(ticket_ids, None)
    return ticket_ids


def _raise_repeats(ids: Iterable[str], field: str | None) -> NoReturn:
    """Raise one error whose ``at`` context lists the relative location of every repeated id."""
    seen: set[str] = set()
    at: list[tuple[int | str, ...]] = []
    for index, value in enumerate(ids):
        if value in seen:
            at.append((index,) if field is None else (index, field))
        seen.add(value)
    raise PydanticCustomError(
        "duplicate_ticket_id", "repeats a ticket id listed before it", {"at": tuple(at)}
    )


# --- timestamps ----------------------------------------------------------------------------------


def to_millis(value: object) -> int:
    """Accept Unix milliseconds as an int, or a timezone-aware datetime converted to milliseconds.

    Sub-millisecond parts of a datetime are truncated towards the past.
    """
    if type(value) is int:
        millis = value
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise PydanticCustomError(
                "timezone_required",
                "a datetime must be timezone-aware (e.g. tzinfo=timezone.utc); naive is ambiguous",
            )
        millis = (value - _EPOCH) // _ONE_MS
        if not MIN_MILLIS <= millis <= MAX_MILLIS:
            raise PydanticCustomError(
                "timestamp_range", "must be between 1973-03-03 and 9999-12-31 (UTC)"
            )
        return millis
    else:
        raise PydanticCustomError(
            "timestamp_type",
            "must be an integer of Unix milliseconds or a timezone-aware datetime",
        )

    if millis < 0:
        raise PydanticCustomError("timestamp_negative", "must not be negative")
    if millis < MIN_MILLIS:
        raise PydanticCustomError(
            "seconds_not_milliseconds",
            "looks like Unix seconds (below 100000000000); must be Unix milliseconds",
        )
    if millis > MAX_MILLIS:
        raise PydanticCustomError(
            "timestamp_range",
            "is after 9999-12-31 in milliseconds (microseconds?); must be Unix milliseconds",
        )
    return millis


def finish_not_before_start(finish_at: int, info: ValidationInfo) -> int:
    """Refuse an end before the start; checked only when ``start_at`` is present and valid."""
    start_at = info.data.get("start_at")
    if start_at is not None and finish_at < start_at:
        raise PydanticCustomError("finish_before_start", "must not be before start_at")
    return finish_at


# --- customer ------------------------------------------------------------------------------------

_PHONE = re.compile(r"\+[1-9][0-9]{7,14}", re.ASCII)
# Spaces (also no-break), hyphen and dashes, dots, parentheses.
_PHONE_FORMATTING = str.maketrans("", "", " \t\u00a0-\u2010\u2011\u2012\u2013\u2014\u2212.()")


def canonical_phone(value: str) -> str:
    """Accept ``+`` and 8 to 15 digits (E.164), dropping spaces, dashes, dots and parentheses."""
    if _PHONE.fullmatch(value):
        return value

    compact = value.translate(_PHONE_FORMATTING)
    if _PHONE.fullmatch(compact):
        return compact

    if not compact.startswith("+"):
        raise PydanticCustomError(
            "phone_country_code",
            "must start with + and the country code, e.g. +79001234567",
        )
    raise PydanticCustomError(
        "phone_format",
        "must be + then 8 to 15 digits, the first not 0 (E.164), e.g. +79001234567",
    )


def check_email(value: str) -> str:
    """Accept a pragmatic email: one ``@``, a local part, a dotted domain, no spaces.

    The field's own ``max_length`` limits it to 254 characters before this runs.
    """
    local, at, domain = value.partition("@")
    if " " in value or not value.isprintable():
        message = "must not contain spaces or control characters"
    elif not at or "@" in domain:
        message = "must contain exactly one @"
    elif not local:
        message = "must have a name before the @"
    elif "." not in domain or domain[0] == "." or domain[-1] == "." or ".." in domain:
        message = "must have a domain with a dot after the @, e.g. example.com"
    else:
        return value
    raise PydanticCustomError("email_format", message)


# --- event ---------------------------------------------------------------------------------------


def check_http_url(value: str) -> str:
    """Accept an absolute http(s) URL with a host, kept exactly as given (after stripping)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
    if (
        not host
        or parts.scheme.lower() not in ("http", "https")
        or " " in value
        or not value.isprintable()
    ):
        raise PydanticCustomError(
            "url_format", "must be an absolute http:// or https:// URL without spaces"
        )
    return value


# --- organizer's legal details -------------------------------------------------------------------

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    """The check digit of the leading digits that ``weights`` covers (the FNS algorithm)."""
    total = sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=False))
    return total % 11 % 10


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def check_inn(value: str) -> str:
    """Accept a Russian INN: 10 digits (company) or 12 digits (person), check digits matching."""
    if not _is_ascii_digits(value) or len(value) not in (10, 12):
        raise PydanticCustomError("inn_format", "must be 10 or 12 digits")
    if len(value) == 10:
        expected = str(_check_digit(value, _INN10_WEIGHTS))
    else:
        expected = f"{_check_digit(value, _INN11_WEIGHTS)}{_check_digit(value, _INN12_WEIGHTS)}"
    if not value.endswith(expected):
        raise PydanticCustomError("inn_checksum", "has a wrong check digit")
    return value


def check_ogrn(value: str) -> str:
    """Accept an OGRN of 13 digits or an OGRNIP of 15 digits whose check digit matches."""
    if not _is_ascii_digits(value) or len(value) not in (13, 15):
        raise PydanticCustomError("ogrn_format", "must be 13 digits (OGRN) or 15 (OGRNIP)")
    modulus = 11 if len(value) == 13 else 13
    if int(value[:-1]) % modulus % 10 != int(value[-1]):
        raise PydanticCustomError("ogrn_checksum", "has a wrong check digit")
    return value


# --- translation ---------------------------------------------------------------------------------


def entity_of(model_cls: type[BaseModel]) -> str:
    """The entity a model class stands for: its ``entity`` class attribute, else its name."""
    entity = getattr(model_cls, "entity", None)
    return entity if isinstance(entity, str) else model_cls.__name__.lower()


def key_of(model_cls: type[BaseModel], data: object) -> str | None:
    """The message key readable from raw input: the ``id`` as a string or int, when it has one."""
    if "id" not in model_cls.model_fields or not isinstance(data, Mapping):
        return None
    value = data.get("id")
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


# What a field name of the contract looks like; any other name in a location came from the input
# (an unknown field) and might be personal data, so it is shown as UNKNOWN_FIELD instead.
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}", re.ASCII)
UNKNOWN_FIELD = "<unknown>"


def _location(loc: Iterable[int | str]) -> str:
    """``("tickets", 2, "event_id")`` as ``tickets[2].event_id``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _FIELD_NAME.fullmatch(part) else UNKNOWN_FIELD
            text += f".{name}" if text else name
    return text


def problems_of(error: ValidationError, model_cls: type[BaseModel], data: object) -> list[Problem]:
    """Every error of a ``ValidationError`` as a located Problem whose message quotes no input."""
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        kind = detail["type"]
        loc = tuple(detail["loc"])
        message = detail["msg"]
        context = detail.get("ctx") or {}

        if _is_blank(kind, context, detail.get("input")):
            kind, message = "blank", "must not be blank"
        elif kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a field of the contract"
        elif kind == "model_type" and not loc:
            name, got = model_cls.__name__, type(data).__name__
            message = f"expected a mapping (a JSON object) or {name}, got {got}"
        elif _quotes_input(kind, message, detail.get("input")):
            message = f"is invalid ({kind})"

        for relative in context.get("at") or ((),):
            problems.append(Problem(_location(loc + tuple(relative)), kind, message))
    return problems


def _is_blank(kind: str, context: Mapping[str, Any], value: object) -> bool:
    """Whether an error is a required string that is empty once stripped."""
    if kind == "string_too_short":
        return bool(context.get("min_length") == 1)
    return kind == ID_TYPE and isinstance(value, str) and not value.strip()


# Pydantic's messages of these kinds list the expected values only, whatever the input.
_LISTS_EXPECTED = frozenset({"enum", "literal_error"})


def _quotes_input(kind: str, message: str, value: object) -> bool:
    """Whether a pydantic message repeats the input (a guard: our own messages never do)."""
    if kind in _LISTS_EXPECTED or not isinstance(value, str) or len(value) < 3:
        return False
    return value in message


def safe_cause(error: ValidationError) -> ValidationError | None:
    """``error`` to keep as the cause, or None when its own text would show part of the input.

    The models hide input values from pydantic's text, but not an unknown field's name in a
    location, nor a message that quotes the value.
    """
    for detail in error.errors(include_url=False):
        named = any(
            isinstance(part, str) and not _FIELD_NAME.fullmatch(part) for part in detail["loc"]
        )
        if named or _quotes_input(detail["type"], detail["msg"], detail.get("input")):
            return None
    return error


def invalid_message(
    model_cls: type[BaseModel], error: ValidationError, data: object, *, key: str | None = None
) -> InvalidMessage:
    """The :class:`InvalidMessage` for a failed validation of ``data`` as ``model_cls``."""
    return InvalidMessage(
        entity_of(model_cls),
        problems_of(error, model_cls, data),
        key=key if key is not None else key_of(model_cls, data),
    )


def validate_model(model_cls: type[M], data: M | Mapping[str, Any]) -> M:
    """Return ``data`` as a valid ``model_cls``, or raise :class:`InvalidMessage` listing all.

    An instance of ``model_cls`` is returned as it is: models are frozen and were validated when
    they were made. Anything else goes through ``model_validate`` once.
    """
    if isinstance(data, model_cls):
        return data
    try:
        return model_cls.model_validate(data)
    except ValidationError as error:
        raise invalid_message(model_cls, error, data) from safe_cause(error)
