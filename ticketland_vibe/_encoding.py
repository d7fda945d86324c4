"""Payload encoding: models to JSON or Protobuf bytes and back, by content type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from ticketland_vibe._headers import JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE
from ticketland_vibe._json import decode_json, encode_json
from ticketland_vibe._message import ENTITIES, Entity
from ticketland_vibe._models import Event, Order, Refund
from ticketland_vibe._protobuf import decode_protobuf, encode_protobuf
from ticketland_vibe._validation import validate_model
from ticketland_vibe.errors import InvalidMessage, Problem

MODELS: dict[Entity, type[BaseModel]] = {"event": Event, "order": Order, "refund": Refund}

ModelT = TypeVar("ModelT", bound=BaseModel)


def json_encoder(_entity: Entity) -> Callable[[BaseModel], bytes]:
    """The JSON encoder of one entity."""
    return encode_json


def protobuf_encoder(entity: Entity) -> Callable[[BaseModel], bytes]:
    """The Protobuf encoder of one entity: the model's plain data, as the proto message."""

    def encode(model: BaseModel) -> bytes:
        return encode_protobuf(entity, model.model_dump(mode="json", exclude_none=True))

    return encode


ENCODERS = {"json": json_encoder, "protobuf": protobuf_encoder}


@overload
def decode(entity: type[ModelT], value: bytes, content_type: str) -> ModelT: ...


@overload
def decode(entity: str, value: bytes, content_type: str) -> Any: ...


def decode(entity: str | type[BaseModel], value: bytes, content_type: str) -> Any:
    """The model a consumer gets from ``value`` (the consumer's view, for tests and tools).

    ``entity`` is ``"event"``, ``"order"``, ``"refund"`` or the model class; ``content_type``
    is the message's ``content-type`` header. Bad bytes raise ``InvalidMessage``.
    """
    if isinstance(entity, type):
        names = [name for name, model in MODELS.items() if model is entity]
        if not names:
            raise InvalidMessage(
                "message", [Problem("", "entity", "entity must be Event, Order or Refund")]
            )
        name: Entity = names[0]
    elif entity in ENTITIES:
        name = entity
    else:
        raise InvalidMessage(
            "message", [Problem("", "entity", "entity must be event, order or refund")]
        )
    model_cls = MODELS[name]
    if content_type == JSON_CONTENT_TYPE:
        return decode_json(model_cls, value)
    if content_type == PROTOBUF_CONTENT_TYPE:
        return validate_model(model_cls, decode_protobuf(name, value))
    raise InvalidMessage(
        name,
        [
            Problem(
                "",
                "content_type",
                f"content-type must be {JSON_CONTENT_TYPE} or {PROTOBUF_CONTENT_TYPE}",
            )
        ],
    )
