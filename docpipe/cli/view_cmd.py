"""`docpipe view OUT/NAME.json`: an HTML review page of what docpipe made of each page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docpipe.errors import DocpipeError

EPILOG = """\
examples:
  docpipe view out/paper.json                        # writes out/paper.view.html; open it in a browser
  docpipe view out/paper.json --pages 1-3,7 --dpi 110 -o /tmp/p.html
  docpipe view out/paper.json --source moved/paper.pdf   # the PDF is no longer where it was converted

The page shows each page image with its blocks as boxes, coloured by type and numbered in reading
order (hover a box for its text, click it to find the block in the list; click the legend to hide a
type), the engine, routing reason, status, timings and VLM details of each page, tables rendered from
their parsed cell grid, formulas as LaTeX and chemical structures as SMILES. It is one file with
everything inline; it loads nothing from the network.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "view",
        help="write an HTML review page of a converted document (boxes, reading order, routing)",
        description="Write a self-contained HTML page that shows, for each page of a document docpipe "
        "converted, the page image with its blocks drawn over it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("json", type=Path, metavar="NAME.json", help="a Document JSON written by docpipe convert")
    p.add_argument(
        "-o", "--out", type=Path, help="HTML file to write (default: NAME.view.html beside the JSON)"
    )
    p.add_argument("--dpi", type=float, default=72, help="resolution of the page images (default 72)")
    p.add_argument("--pages", help="1-based pages to show, e.g. 1-3,7 (default: all)")
    p.add_argument(
        "--source", type=Path, help="the PDF or image, when it is not at the path the JSON records"
    )
    p.add_argument("--password", default="", help="password of an encrypted source PDF")
    p.set_defaults(func=run)


def parse_pages(spec: str) -> set[int]:
    """'1-3,7' -> {0, 1, 2, 6}."""
    pages: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        lo, hi = int(first), int(last or first)
        if lo < 1 or hi < lo:
            raise ValueError(f"bad page range {part!r}")
        pages.update(range(lo - 1, hi))
    if not pages:
        raise ValueError("no pages given")
    return pages


def run(args: argparse.Namespace) -> int:
    from docpipe.api import view

    try:
        pages = parse_pages(args.pages) if args.pages else None
    except ValueError as exc:
        print(f"docpipe view: --pages: {exc}", file=sys.stderr)
        return 2
    if not 10 <= args.dpi <= 600:
        print("docpipe view: --dpi must be between 10 and 600", file=sys.stderr)
        return 2
    try:
        out = view(args.json, args.out, dpi=args.dpi, pages=pages, source=args.source, password=args.password)
    except DocpipeError as exc:
        print(f"docpipe view: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0
