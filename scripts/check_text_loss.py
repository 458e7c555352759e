#!/usr/bin/env python3
"""Silent-loss and word-spacing check: per page, the text layer's characters against the output's.

    python scripts/check_text_loss.py [--corpus ../shared/corpus/realworld/pdf] [--no-baseline]
                                      [--cache /tmp/p4l_cache] [--json out.json] [--show 10]

For every page of every PDF: letters and digits in `page.get_text()` (N), in docpipe's Markdown body
for that page, in docpipe's page furniture (running heads, page numbers: left out of the Markdown on
purpose, so counted apart, not as loss), in figure labels (JSON only) and in
`pymupdf4llm.to_markdown` (default settings, page_chunks=True so that pages can be compared; its
output is cached by file hash when --cache is given). A page "loses" text when N >= --min-chars and
the output holds less than --ratio * N. Only letters and digits are counted, so Markdown syntax
(table pipes, '#', '*') neither hides nor fakes loss.

Word spacing: "long words" are runs of 26+ letters in the Markdown (words glued together when a PDF
places words without space glyphs), counted for both tools over the corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import pymupdf

import docpipe
from docpipe.model import FURNITURE, BlockType
from docpipe.writers.markdown import page_markdown

LONG_WORD = re.compile(r"[^\W\d_]{26,}")


def alnum(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def p4l_pages(path: Path, cache: Path | None) -> list[str] | None:
    key = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    if cache is not None and (cache / f"{key}.json").exists():
        return json.loads((cache / f"{key}.json").read_text())
    import pymupdf4llm

    try:
        chunks = pymupdf4llm.to_markdown(str(path), page_chunks=True)
        texts = [c["text"] for c in chunks]
    except Exception as exc:  # the baseline failing on a file is reported, not fatal
        print(f"  pymupdf4llm failed on {path.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        texts = None
    if cache is not None and texts is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"{key}.json").write_text(json.dumps(texts))
    return texts


def check(path: Path, args: argparse.Namespace) -> dict:
    rec: dict = {"file": path.name, "pages": [], "error": None}
    try:
        src = pymupdf.open(path)
        if src.needs_pass:
            rec["error"] = "encrypted"
            return rec
        layer = []
        for page in src:
            try:
                layer.append(alnum(page.get_text()))
            except Exception:
                layer.append(0)
    except Exception as exc:
        rec["error"] = f"open: {type(exc).__name__}"
        return rec
    try:
        doc = docpipe.convert(path)
    except Exception as exc:
        rec["error"] = f"docpipe: {type(exc).__name__}: {exc}"
        return rec
    rec["status"] = doc.status.value
    md_pages = ["\n\n".join(page_markdown(p)) for p in doc.pages]
    rec["md"] = "\n\n".join(md_pages)
    base = None if args.no_baseline else p4l_pages(path, args.cache)
    if base is not None:
        rec["p4l"] = "\n\n".join(base)
    for i, page in enumerate(doc.pages):
        furniture = sum(alnum(b.text) for b in page.blocks if b.type in FURNITURE)
        labels = sum(alnum(b.text) for b in page.blocks if b.type is BlockType.figure)
        rec["pages"].append(
            {
                "index": i,
                "layer": layer[i] if i < len(layer) else 0,
                "docpipe": alnum(md_pages[i]),
                "furniture": furniture,
                "labels": labels,
                "status": page.status.value,
                "error": page.error,
                "p4l": alnum(base[i]) if base is not None and i < len(base) else None,
            }
        )
    return rec


def lost(n_layer: int, n_out: int | None, args: argparse.Namespace) -> bool:
    return n_out is not None and n_layer >= args.min_chars and n_out < args.ratio * n_layer


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=here.parent / "shared" / "corpus" / "realworld" / "pdf")
    ap.add_argument("--ratio", type=float, default=0.5, help="output below ratio * layer chars is loss")
    ap.add_argument("--min-chars", type=int, default=50)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--cache", type=Path, default=None, help="folder caching pymupdf4llm's output")
    ap.add_argument("--json", type=Path, default=None, help="write per-page figures here")
    ap.add_argument("--show", type=int, default=40, help="lossy pages listed")
    args = ap.parse_args()

    pdfs = sorted(args.corpus.glob("*.pdf")) if args.corpus.is_dir() else [args.corpus]
    records = []
    for p in pdfs:
        records.append(check(p, args))
    n_pages = sum(len(r["pages"]) for r in records)
    ours = [(r, pg) for r in records for pg in r["pages"] if lost(pg["layer"], pg["docpipe"], args)]
    ours_ok = [(r, pg) for r, pg in ours if pg["status"] == "ok"]
    theirs = [(r, pg) for r in records for pg in r["pages"] if lost(pg["layer"], pg["p4l"], args)]
    # furniture is not loss: a page whose Markdown plus furniture reaches the ratio is only furniture
    furn = [(r, pg) for r, pg in ours if not lost(pg["layer"], pg["docpipe"] + pg["furniture"], args)]
    print(
        f"{'file':58s} {'page':>4s} {'layer':>6s} {'docpipe':>7s} {'furn':>5s} {'labels':>6s} "
        f"{'p4l':>6s} status"
    )
    for r, pg in ours[: args.show]:
        print(
            f"{r['file'][:58]:58s} {pg['index'] + 1:4d} {pg['layer']:6d} {pg['docpipe']:7d} "
            f"{pg['furniture']:5d} {pg['labels']:6d} {pg['p4l'] if pg['p4l'] is not None else '-':>6} "
            f"{pg['status']}{(': ' + pg['error'][:70]) if pg['error'] else ''}"
        )
    skipped = [r for r in records if r["error"]]
    print(
        f"\n{len(records)} PDFs, {n_pages} pages; skipped: "
        + ", ".join(f"{r['file']} ({r['error']})" for r in skipped)
    )
    print(
        f"pages losing text (output < {args.ratio:.0%} of the layer's letters+digits, layer >= "
        f"{args.min_chars}):"
    )
    print(
        f"  docpipe      {len(ours):4d}  (of which status ok: {len(ours_ok)}; explained by furniture: "
        f"{len(furn)})"
    )
    if not args.no_baseline:
        print(f"  pymupdf4llm  {len(theirs):4d}")
    long_ours = sum(len(LONG_WORD.findall(r.get("md", ""))) for r in records)
    long_theirs = sum(len(LONG_WORD.findall(r.get("p4l", ""))) for r in records)
    print(
        f"words of 26+ letters in the Markdown: docpipe {long_ours}"
        + ("" if args.no_baseline else f", pymupdf4llm {long_theirs}")
    )
    print(
        "document status: "
        + ", ".join(
            f"{s} {sum(1 for r in records if r.get('status') == s)}" for s in ("ok", "partial", "failed")
        )
    )
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
