"""Regenerate the JSON Schemas of the payloads in ``schemas/json`` from the models.

Run ``python tools/gen_json_schema.py`` to rewrite ``{event,order,refund}.schema.json``, or
``--check`` to compare a fresh generation with the committed files and fail on any difference.
The schemas describe the wire format (pydantic's serialization mode): an optional field is simply
not required and never ``null``, because the encoder omits absent fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from ticketland_vibe._models import MODELS_BY_ENTITY

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "schemas" / "json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class WireJsonSchema(GenerateJsonSchema):
    """Pydantic's schema generator, adjusted to the wire: absent, never null; no field titles."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        """``X | None`` is ``X`` on the wire: ``None`` is written by leaving the field out."""
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """A ``None`` default means absent, so it is not a default value of the JSON."""
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def ser_schema(self, schema: Any) -> JsonSchemaValue | None:
        """Our serializers only change how a number is written (``3`` for ``3.0``), not its type,
        so the field's own schema, with its constraints, still describes it."""
        if schema.get("type") in ("function-plain", "function-wrap"):
            return None
        return super().ser_schema(schema)

    def field_title_should_be_set(self, schema: Any) -> bool:
        """Field titles would only repeat the field names; descriptions say what they are."""
        return False


def schema_of(entity: str, model_cls: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema document of one entity's payload."""
    body = model_cls.model_json_schema(schema_generator=WireJsonSchema, mode="serialization")
    return {"$schema": DIALECT, "$id": f"urn:ticketland-vibe:v1:{entity}", **body}


def render(entity: str, model_cls: type[BaseModel]) -> str:
    """The exact text of one schema file: indent 2, UTF-8 characters, trailing newline."""
    return json.dumps(schema_of(entity, model_cls), indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[Path, str]:
    """Every schema file this tool writes, with its text."""
    return {
        OUTPUT / f"{entity}.schema.json": render(entity, model_cls)
        for entity, model_cls in MODELS_BY_ENTITY.items()
    }


def main(argv: list[str] | None = None) -> int:
    """Write the schema files, or with ``--check`` report those that differ and return 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed files are out of date"
    )
    arguments = parser.parse_args(argv)

    files = expected_files()
    if arguments.check:
        stale = [
            path
            for path, text in files.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        if stale:
            print("run: python tools/gen_json_schema.py", file=sys.stderr)
        return 1 if stale else 0

    OUTPUT.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
