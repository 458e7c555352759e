"""`docpipe` entry point: one sub-command per module, each with `add_parser(subparsers)`."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
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
    for command in sub.choices.values():  # after the command, where users type it
        # `eval -v` has a meaning of its own (and logs at INFO)
        with contextlib.suppress(argparse.ArgumentError):
            command.add_argument(
                "-v",
                "--verbose",
                action="count",
                default=0,
                help="log what happens: -v each document and fallback, -vv each page's route",
            )
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a redirected or captured stream)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(verbose: int = 0) -> None:
    """The `docpipe` logger prints its records' messages to stderr, as the warnings always read:
    warnings by default, more with -v (INFO) and -vv (DEBUG). Worker processes are forked after
    this and inherit it."""
    logger = logging.getLogger("docpipe")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    configure_logging(int(getattr(args, "verbose", 0)))
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
