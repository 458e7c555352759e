#!/usr/bin/env python3
"""Score docpipe's Markdown on the dev corpus against its ground truth, side by side with
pymupdf4llm.to_markdown(header=False, footer=False) from the same PyMuPDF, in the same run.

    python scripts/score_corpus.py [--corpus ../shared/corpus/dev] [--engine auto] [--repeat 3]

Score: normalized edit similarity (1 - Levenshtein / longer length) after Unicode NFC and collapsing
whitespace and Markdown punctuation (docpipe.eval.text). Speed: pages/s over the born-digital files,
median of --repeat runs; the two tools alternate file by file so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pymupdf

import docpipe
from docpipe.eval.text import normalized_edit_similarity


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=here.parent / "shared" / "corpus" / "dev")
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--include-scans", action="store_true", help="also score the ocr_test* scans")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()

    pdfs = sorted((args.corpus / "pdf").glob("*.pdf"))
    if not args.include_scans:
        pdfs = [p for p in pdfs if not p.stem.startswith("ocr_test")]
    if not pdfs:
        print(f"no PDFs under {args.corpus / 'pdf'}", file=sys.stderr)
        return 2
    baseline = None
    if not args.no_baseline:
        import pymupdf4llm

        baseline = lambda p: pymupdf4llm.to_markdown(str(p), header=False, footer=False)  # noqa: E731
    ours = lambda p: docpipe.to_markdown(docpipe.convert(p, engine=args.engine))  # noqa: E731

    tools = {"docpipe": ours} | ({"pymupdf4llm": baseline} if baseline else {})
    times: dict[str, list[float]] = {k: [] for k in tools}
    outputs: dict[str, dict[str, str]] = {k: {} for k in tools}
    for p in pdfs:  # warm-up: model loads and imports are not per-page costs
        for fn in tools.values():
            fn(p)
        break
    for _ in range(args.repeat):
        run_t = dict.fromkeys(tools, 0.0)
        for p in pdfs:
            for name, fn in tools.items():
                t0 = time.perf_counter()
                outputs[name][p.stem] = fn(p)
                run_t[name] += time.perf_counter() - t0
        for name in tools:
            times[name].append(run_t[name])

    n_pages = sum(pymupdf.open(p).page_count for p in pdfs)
    print(f"{'document':32s} " + " ".join(f"{k:>12s}" for k in tools))
    scores: dict[str, list[float]] = {k: [] for k in tools}
    for p in pdfs:
        truth = (args.corpus / "groundtruth" / f"{p.stem}.md").read_text(encoding="utf-8")
        row = []
        for name in tools:
            s = normalized_edit_similarity(outputs[name][p.stem], truth)
            scores[name].append(s)
            row.append(f"{s:12.3f}")
        print(f"{p.stem:32s} " + " ".join(row))
    print(f"{'MEAN similarity':32s} " + " ".join(f"{statistics.mean(scores[k]):12.3f}" for k in tools))
    rates = {k: n_pages / statistics.median(times[k]) for k in tools}
    print(f"{'pages/s (median of runs)':32s} " + " ".join(f"{rates[k]:12.1f}" for k in tools))
    if baseline:
        delta = statistics.mean(scores["docpipe"]) - statistics.mean(scores["pymupdf4llm"])
        print(
            f"docpipe / pymupdf4llm: similarity {delta:+.3f}, "
            f"speed x{rates['docpipe'] / rates['pymupdf4llm']:.1f} ({n_pages} pages, {args.repeat} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
