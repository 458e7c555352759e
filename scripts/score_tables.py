#!/usr/bin/env python3
"""Score tables in docpipe's Markdown against tabula-java's truth cells, side by side with
pymupdf4llm.to_markdown(path) (default settings: layout mode when pymupdf-layout is installed).

    python scripts/score_tables.py [--corpus ../shared/corpus/realworld] [--out DIR] [--only NAME]

For each truth `tables/tabula__NAME.{csv,json}` the PDF `pdf/tabula__NAME.pdf` is converted by both
tools (alternating file by file so machine noise hits both alike); every table in each Markdown is
read (pipe and HTML tables), and each truth table is matched with the predicted table that scores
best. Scores: cell F1 (multiset of normalized non-empty cell texts) and adjacency F1 (pairs of
horizontally/vertically neighbouring non-empty cells). A truth whose PDF is missing is scored on the
longest PDF name it starts with (tabula's `spanning_cells_basic` is another reading of
`spanning_cells.pdf`). Speed: pages/s over all converted files, after one warm-up file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pymupdf

import docpipe
from docpipe.eval.cell_f1 import best_match, load_truth, table_grid
from docpipe.eval.tables import extract_tables


def _truths(corpus: Path, only: str | None) -> list[tuple[str, Path, Path]]:
    """(name, truth file, PDF) for each truth; JSON wins over CSV of the same name (it splits the
    tables of a multi-table page)."""
    pdfs = {p.stem: p for p in (corpus / "pdf").glob("tabula__*.pdf")}
    by_name: dict[str, Path] = {}
    for path in sorted((corpus / "tables").glob("tabula__*")):
        if path.suffix in (".csv", ".json") and (path.stem not in by_name or path.suffix == ".json"):
            by_name[path.stem] = path
    out = []
    for name, truth in sorted(by_name.items()):
        if only and only not in name:
            continue
        pdf = pdfs.get(name) or next(
            (pdfs[s] for s in sorted(pdfs, key=len, reverse=True) if name.startswith(s + "_")), None
        )
        if pdf is None:
            print(f"skip {name}: no PDF", file=sys.stderr)
            continue
        out.append((name, truth, pdf))
    return out


@dataclass
class Result:
    cell_f1: float  # mean over the file's truth tables
    adjacency_f1: float
    n_tables: int  # tables in the Markdown


def _score(markdown: str, truths: list[list[list[str]]]) -> Result:
    predicted = [table_grid(t) for t in extract_tables(markdown)]
    scores = [best_match(t, predicted) for t in truths]
    return Result(
        statistics.fmean(s.cell_f1 for s in scores),
        statistics.fmean(s.adjacency_f1 for s in scores),
        len(predicted),
    )


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=here.parent / "shared" / "corpus" / "realworld")
    ap.add_argument("--out", type=Path, help="write each tool's Markdown here (NAME.TOOL.md)")
    ap.add_argument("--only", help="score only truths whose name contains this")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()

    items = _truths(args.corpus, args.only)
    if not items:
        print(f"no tabula truths under {args.corpus / 'tables'}", file=sys.stderr)
        return 2
    tools: dict[str, Callable[[Path], str]] = {
        "docpipe": lambda p: docpipe.to_markdown(docpipe.convert(p)),
    }
    if not args.no_baseline:
        import pymupdf4llm

        tools["pymupdf4llm"] = lambda p: pymupdf4llm.to_markdown(str(p))
    for fn in tools.values():  # warm-up: model loads and imports are not per-page costs
        fn(items[0][2])
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    times = dict.fromkeys(tools, 0.0)
    pages = 0
    rows: list[tuple[str, dict[str, Result]]] = []
    for name, truth_path, pdf in items:
        truths = load_truth(truth_path)
        with pymupdf.open(pdf) as doc:
            pages += doc.page_count
        scores: dict[str, Result] = {}
        for tool, fn in tools.items():
            t0 = time.perf_counter()
            markdown = fn(pdf)
            times[tool] += time.perf_counter() - t0
            scores[tool] = _score(markdown, truths)
            if args.out:
                (args.out / f"{name}.{tool}.md").write_text(markdown, encoding="utf-8")
        rows.append((name.removeprefix("tabula__"), scores))

    width = max(len(n) for n, _ in rows)
    head = "".join(f" | {t[:11]:>11} cell  adj  #t" for t in tools)
    print(f"{'file':<{width}}{head}")
    for name, scores in rows:
        cols = "".join(
            f" | {'':>11} {s.cell_f1:.2f} {s.adjacency_f1:.2f} {s.n_tables:>3}" for s in scores.values()
        )
        print(f"{name:<{width}}{cols}")
    print()
    for tool in tools:
        cell = statistics.fmean(s[tool].cell_f1 for _, s in rows)
        adj = statistics.fmean(s[tool].adjacency_f1 for _, s in rows)
        print(
            f"{tool:<12} mean cell F1 {cell:.3f}  adjacency F1 {adj:.3f}  "
            f"{pages / times[tool]:.1f} pages/s ({pages} pages, {times[tool]:.2f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
