"""The JSON encoding of the payloads: compact UTF-8, contract field order, absent fields omitted.

``null`` never appears: an optional field that is ``None`` is left out, as the consumer's
TypeScript types (``name?: string``) require.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from ticketland_vibe._validation import entity_of, invalid_message, safe_cause
from ticketland_vibe.errors import InvalidMessage, Problem

__all__ = ["decode_json", "encode_json"]

M = TypeVar("M", bound=BaseModel)


def encode_json(model: BaseModel) -> bytes:
    """The payload bytes of a model: no spaces, non-ASCII as UTF-8, ``None`` fields omitted.

    A model built without validation (``model_construct``) holding a value of the wrong type is
    refused with :class:`InvalidMessage` rather than encoded.
    """
    try:
        return model.__pydantic_serializer__.to_json(model, exclude_none=True, warnings="error")
    except PydanticSerializationError:
        # Not kept as the cause: pydantic's text of it shows the offending value.
        key = getattr(model, "id", None)
        raise InvalidMessage(
            entity_of(type(model)),
            [Problem("", "not_serializable", "cannot be encoded as JSON: build it by validation")],
            key=key if isinstance(key, str) else None,
        ) from None


def decode_json(model_cls: type[M], value: bytes | bytearray | str) -> M:
    """The model a consumer reads from JSON bytes; malformed JSON or a broken contract raise."""
    if not isinstance(value, (bytes, bytearray, str)):
        raise InvalidMessage(
            entity_of(model_cls),
            [Problem("", "json_type", f"expected JSON bytes, got {type(value).__name__}")],
        )
    try:
        return model_cls.model_validate_json(value)
    except ValidationError as error:
        raise invalid_message(model_cls, error, _parsed(value)) from safe_cause(error)


def _parsed(value: bytes | bytearray | str) -> object:
    """The plain data of an invalid payload, to read its key from; None if it is not JSON."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None
