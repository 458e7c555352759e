"""`docpipe` entry point: one sub-command per module, each with `add_parser(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys

from docpipe import __version__

# Sub-command modules, in the order `docpipe --help` lists them.
COMMANDS = ("convert_cmd", "view_cmd", "schema_cmd", "eval_cmd", "bench_cmd")

DESCRIPTION = """\
docpipe turns PDFs and page images into Markdown, schema-validated JSON and RAG-ready chunks.

examples:
  docpipe convert paper.pdf -o out/                 # out/paper.md, .json, .chunks.jsonl
  docpipe convert archive/ -o out/ --workers 2      # a folder, recursively; rerun to resume
  docpipe convert 'scans/*.png' -o out/ --engine ocr
  docpipe view out/paper.json                       # out/paper.view.html: boxes, reading order, routing
  docpipe schema > document.schema.json            # the JSON Schema every output validates against
  docpipe bench corpus/ --engine textlayer          # pages/s, stage times, memory vs pymupdf4llm
  docpipe eval --pred out/ --truth truth/           # quality against ground-truth Markdown
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="docpipe", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"docpipe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"docpipe.cli.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
