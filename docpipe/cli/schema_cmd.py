"""`docpipe schema`: print the JSON Schema of the Document model (or of a chunk line)."""

from __future__ import annotations

import argparse
import json

from docpipe.model import Chunk, Document


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of docpipe's JSON output",
        description="Print the JSON Schema (draft 2020-12) that every NAME.json written by docpipe validates "
        "against. With --chunk, the schema of one line of NAME.chunks.jsonl.",
    )
    p.add_argument("--chunk", action="store_true", help="schema of a chunk instead of a document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = Chunk if args.chunk else Document
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    print(json.dumps(schema, indent=2))
    return 0
