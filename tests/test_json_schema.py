"""The committed JSON Schemas: generated from the models, absent-not-null, true of the bytes."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.strategies import events, orders, refunds
from ticketland_vibe._json import encode_json
from ticketland_vibe._models import Event, Order, Refund

ROOT = Path(__file__).resolve().parent.parent


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_json_schema", ROOT / "tools" / "gen_json_schema.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _load_tool()
ENTITIES = {"event": Event, "order": Order, "refund": Refund}


def _committed(entity: str) -> dict[str, Any]:
    path = ROOT / "schemas" / "json" / f"{entity}.schema.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_committed_files_match_the_models() -> None:
    for path, text in TOOL.expected_files().items():
        assert path.exists(), f"{path} is missing: run python tools/gen_json_schema.py"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run python tools/gen_json_schema.py"
        )
    assert TOOL.main(["--check"]) == 0


def test_generation_is_deterministic() -> None:
    assert TOOL.expected_files() == TOOL.expected_files()


@pytest.mark.parametrize("entity", ENTITIES)
def test_schema_header(entity: str) -> None:
    schema = _committed(entity)
    assert list(schema)[:2] == ["$schema", "$id"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:ticketland-vibe:v1:{entity}"
    assert schema["additionalProperties"] is False


def _objects(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every object schema in a document, by title."""
    found = {schema["title"]: schema}
    for name, definition in schema.get("$defs", {}).items():
        if definition.get("type") == "object":
            found[name] = definition
    return found


@pytest.mark.parametrize("entity", ENTITIES)
def test_optional_fields_are_absent_never_null(entity: str) -> None:
    text = json.dumps(_committed(entity))
    assert '"null"' not in text
    assert '"default": null' not in text
    assert "anyOf" not in text
    for title, schema in _objects(_committed(entity)).items():
        model_cls = _model_named(title)
        required = [name for name, info in model_cls.model_fields.items() if info.is_required()]
        assert schema.get("required", []) == required, title
        assert list(schema["properties"]) == list(model_cls.model_fields), title
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{title}.{name}"


def _model_named(title: str) -> type[BaseModel]:
    import ticketland_vibe._models as models

    model_cls: type[BaseModel] = getattr(models, title)
    return model_cls


def test_wire_types_of_special_fields() -> None:
    event = _committed("event")["properties"]
    assert event["offset"]["type"] == "number"
    assert event["offset"]["multipleOf"] == 0.25
    assert event["start_at"] == {
        "description": event["start_at"]["description"],
        "maximum": 253402300799999,
        "minimum": 100000000000,
        "type": "integer",
    }
    assert event["id"]["type"] == "string"
    order = _committed("order")
    assert order["$defs"]["Customer"]["properties"]["phone"]["pattern"] == "^\\+[1-9][0-9]{7,14}$"
    assert order["properties"]["tickets"]["minItems"] == 1
    refund = _committed("refund")["properties"]
    assert refund["ticket_ids"]["items"]["type"] == "string"


# --- the encoded bytes conform to the schemas ---------------------------------------------------
# jsonschema is not a dependency of this project. When it is installed it does the checking; the
# small checker below covers the keywords the generated schemas use, so the test runs either way.

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _violations(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _violations(value, root["$defs"][name], root, at)
    expected = schema.get("type")
    if expected and (
        not isinstance(value, _TYPES[expected])
        or (isinstance(value, bool) and expected != "boolean")
    ):
        return [f"{at}: not {expected}"]
    found: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: not in enum")
    if "minimum" in schema and value < schema["minimum"]:
        found.append(f"{at}: below minimum")
    if "maximum" in schema and value > schema["maximum"]:
        found.append(f"{at}: above maximum")
    if "multipleOf" in schema and value % schema["multipleOf"]:
        found.append(f"{at}: not a multiple")
    if "minLength" in schema and len(value) < schema["minLength"]:
        found.append(f"{at}: too short")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        found.append(f"{at}: too long")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{at}: pattern")
    if "minItems" in schema and len(value) < schema["minItems"]:
        found.append(f"{at}: too few items")
    if expected == "array":
        for index, item in enumerate(value):
            found += _violations(item, schema["items"], root, f"{at}[{index}]")
    if expected == "object":
        properties = schema["properties"]
        found += [
            f"{at}.{name}: missing" for name in schema.get("required", []) if name not in value
        ]
        for name, item in value.items():
            if name not in properties:
                found.append(f"{at}.{name}: not allowed")
            else:
                found += _violations(item, properties[name], root, f"{at}.{name}")
    return found


def _assert_conforms(entity: str, payload: bytes) -> None:
    schema = _committed(entity)
    instance = json.loads(payload)
    assert _violations(instance, schema, schema, entity) == []
    if importlib.util.find_spec("jsonschema") is not None:
        importlib.import_module("jsonschema").validate(instance, schema)


def test_the_checker_notices_violations() -> None:
    schema = _committed("order")
    instance: dict[str, Any] = {
        "id": "o",
        "number": "1",
        "customer": {"email": "a@b.ru", "phone": "+79001234567"},
        "tickets": [{"id": "t", "event_id": "e", "barcode": "1", "category": "A"}],
    }
    assert _violations(instance, schema, schema, "order") == []
    instance["customer"]["phone"] = None
    instance["tickets"][0]["extra"] = 1
    del instance["number"]
    problems = _violations(instance, schema, schema, "order")
    assert "order.number: missing" in problems
    assert "order.customer.phone: not string" in problems
    assert "order.tickets[0].extra: not allowed" in problems


@pytest.mark.skipif(
    importlib.util.find_spec("jsonschema") is None,
    reason="jsonschema is not installed in this environment (not a project dependency); "
    "the built-in checker above covers the schemas' keywords",
)
def test_schemas_are_valid_json_schema_documents() -> None:
    validator = importlib.import_module("jsonschema").Draft202012Validator
    for entity in ENTITIES:
        validator.check_schema(_committed(entity))


@settings(max_examples=100, deadline=None)
@given(st.one_of(events(), orders(), refunds()))
def test_encoded_payloads_conform(model: BaseModel) -> None:
    entity = {model_cls: name for name, model_cls in ENTITIES.items()}[type(model)]
    _assert_conforms(entity, encode_json(model))
