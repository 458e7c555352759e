#!/usr/bin/env python
"""OCR speed and accuracy, docpipe's OcrEngine next to pymupdf4llm's RapidOCR path, in one run.

    python scripts/bench_ocr.py [--repeat 3] [--threads 2] [--corpus /work/shared/corpus/dev]

Inputs: the dev corpus's ocr_test*.pdf (with their groundtruth .md) plus generated scans from
make_scan_fixtures.py (skewed, noisy, rotated, two columns). Both systems see the same files in the
same process, warmed up first (model loading excluded), alternating per repetition so machine noise
hits both alike. Prints per-file medians, pages/s, CER (normalized edit distance of whitespace-
collapsed text) and the speed ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymupdf
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docpipe.engines.base import PageInput  # noqa: E402
from docpipe.engines.ocr import OcrEngine  # noqa: E402
from docpipe.eval.text import normalize_markdown  # noqa: E402


def cer(pred: str, truth: str) -> float:
    return Levenshtein.normalized_distance(normalize_markdown(pred), normalize_markdown(truth))


def inputs(corpus: Path, scratch: Path) -> list[tuple[Path, str]]:
    items: list[tuple[Path, str]] = []
    for pdf in sorted((corpus / "pdf").glob("ocr_test*.pdf")):
        md = corpus / "groundtruth" / f"{pdf.stem}.md"
        if md.exists():
            items.append((pdf, md.read_text(encoding="utf-8")))
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_scan_fixtures.py"), str(scratch)], check=True
    )
    truth = json.loads((scratch / "truth.json").read_text(encoding="utf-8"))
    for name in ("scan_single", "scan_rot90", "scan_rot180", "scan_rot270"):
        items.append((scratch / f"{name}.pdf", truth["single"]))
    items.append((scratch / "scan_two_column.pdf", f"{truth['left_column']} {truth['right_column']}"))
    return items


def run_docpipe(engine: OcrEngine, path: Path) -> str:
    doc = pymupdf.open(path)
    raws = engine.process([PageInput(path.name, i, doc[i]) for i in range(doc.page_count)])
    texts = []
    for raw in raws:
        # Columns: left column lines first (assembly's job in the pipeline; a simple split here).
        mid = raw.width / 2
        left = [ln for ln in raw.lines if ln.bbox[2] <= mid + 5]
        right = [ln for ln in raw.lines if ln.bbox[2] > mid + 5]
        two_col = left and right and max(ln.bbox[2] for ln in left) < min(ln.bbox[0] for ln in right)
        ordered = left + right if two_col else raw.lines
        texts.append(" ".join(ln.text for ln in ordered))
    return "\n".join(texts)


def run_pymupdf4llm(path: Path) -> str:
    import pymupdf4llm

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return pymupdf4llm.to_markdown(str(path), force_ocr=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus/dev"))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    engine = OcrEngine(threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        items = inputs(args.corpus, Path(tmp))
        systems = {"docpipe": lambda p: run_docpipe(engine, p)}
        if not args.no_baseline:
            systems["pymupdf4llm"] = run_pymupdf4llm
        for fn in systems.values():  # warm-up: model loading is not OCR speed
            fn(items[0][0])
        times: dict[str, dict[str, list[float]]] = {s: {} for s in systems}
        cers: dict[str, dict[str, float]] = {s: {} for s in systems}
        pages = {p.name: pymupdf.open(p).page_count for p, _ in items}
        for _ in range(args.repeat):
            for path, truth in items:
                for system, fn in systems.items():
                    start = time.perf_counter()
                    text = fn(path)
                    times[system].setdefault(path.name, []).append(time.perf_counter() - start)
                    cers[system][path.name] = cer(text, truth)

    names = [p.name for p, _ in items]
    header = f"{'file':28s}" + "".join(f"{s + ' s':>16s}{s + ' CER':>18s}" for s in systems)
    print(header)
    for name in names:
        row = f"{name:28s}"
        for s in systems:
            row += f"{statistics.median(times[s][name]):16.3f}{cers[s][name]:18.3f}"
        print(row)
    total_pages = sum(pages.values())
    summary: dict[str, dict[str, float]] = {}
    for s in systems:
        total = sum(statistics.median(times[s][n]) for n in names)
        summary[s] = {
            "pages_per_s": total_pages / total,
            "median_cer": statistics.median(cers[s].values()),
            "max_cer": max(cers[s].values()),
        }
        print(
            f"{s:12s} {summary[s]['pages_per_s']:.2f} pages/s  median CER {summary[s]['median_cer']:.3f}"
            f"  max CER {summary[s]['max_cer']:.3f}  ({total_pages} pages, median of {args.repeat} runs)"
        )
    if "pymupdf4llm" in summary:
        ratio = summary["docpipe"]["pages_per_s"] / summary["pymupdf4llm"]["pages_per_s"]
        print(f"speed ratio docpipe / pymupdf4llm: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
