"""Normalise an OpenAPI document into the committed form of `docs/openapi.json`.

    flask --app app openapi write /tmp/spec.json          # flask-smorest's own export
    python scripts/export_openapi.py /tmp/spec.json docs/openapi.json

`make openapi` runs both. The committed file and the spec the app serves at
/api/v1/openapi.json are compared in this normal form by
tests/api/test_openapi_export.py (docs/design.md "API conventions"), so the rules
live in one function, `normalise`.

The normal form keeps every key the app serves, `servers` included: the served
`servers` is the relative URL `/` (core/openapi_doc.py `SERVERS`), the same on
every machine, and Redocly's `no-empty-servers` rule needs it in the committed file
as well (tools/redocly/redocly.yaml lints docs/openapi.json).
"""

import argparse
import json
import sys
from pathlib import Path


def normalise(spec: dict) -> str:
    """The byte-stable text of `spec` (a decoded OpenAPI document).

    Sorts every object's keys, indents by 2 spaces, keeps non-ASCII characters as
    they are and ends with one newline; every key is kept, `servers` included. List
    order is kept: it is meaningful (parameters, enums, `required`, `servers`).
    Pure; raises nothing for a dict.
    """
    return json.dumps(spec, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Read the spec at `source` (JSON), write its normal form to `target`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="OpenAPI JSON as the app exports it")
    parser.add_argument("target", type=Path, help="where to write the normal form")
    args = parser.parse_args(argv)
    text = normalise(json.loads(args.source.read_text(encoding="utf-8")))
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(text, encoding="utf-8")
    spec = json.loads(text)
    operations = sum(
        1
        for item in spec.get("paths", {}).values()
        for method in item
        if method in {"get", "put", "post", "patch", "delete", "head", "options"}
    )
    paths = len(spec.get("paths", {}))
    print(f"wrote {args.target}: {paths} paths, {operations} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
