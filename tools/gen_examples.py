"""Write the golden examples under ``schemas/examples/``: each entity in JSON and Protobuf.

The files are test vectors for the consumer's team: ``<entity>.json`` holds the exact bytes of
an ``application/json`` message, ``<entity>.pb`` those of an ``application/x-protobuf`` one.
``--check`` exits non-zero when the committed files differ from what the library encodes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ticketland_vibe._encoding import MODELS, protobuf_encoder  # noqa: E402
from ticketland_vibe._examples import EXAMPLE_EVENT, EXAMPLE_ORDER, EXAMPLE_REFUND  # noqa: E402
from ticketland_vibe._json import encode_json  # noqa: E402

EXAMPLES_DIR = ROOT / "schemas" / "examples"
EXAMPLES = {"event": EXAMPLE_EVENT, "order": EXAMPLE_ORDER, "refund": EXAMPLE_REFUND}


def expected_files() -> dict[str, bytes]:
    """File name → bytes, for every golden example."""
    files = {}
    for entity, data in EXAMPLES.items():
        model = MODELS[entity].model_validate(data)  # type: ignore[index]
        files[f"{entity}.json"] = encode_json(model)
        files[f"{entity}.pb"] = protobuf_encoder(entity)(model)  # type: ignore[arg-type]
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    stale = []
    for name, content in expected_files().items():
        path = EXAMPLES_DIR / name
        if args.check:
            if not path.exists() or path.read_bytes() != content:
                stale.append(name)
        else:
            EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if stale:
        print(f"golden examples out of date: {', '.join(stale)}; run tools/gen_examples.py")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
