#!/usr/bin/env python3
"""Generate a benchmark corpus of born-digital text-and-table pages.

    python scripts/make_bench_corpus.py OUT_DIR [--docs 20] [--pages 10] [--big 0]

Each page has a heading, two or three paragraphs of varied prose, and every other page a ruled
table; `--big N` adds one N-page document (for the memory test). Content is generated from a fixed
seed, so runs are comparable.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import pymupdf

WORDS = (
    "archive document layout column table figure reader analysis engine page text model section result "
    "method data value report system process review record index number summary detail example region "
    "structure format source output quality measure speed memory batch worker queue manifest resume"
).split()
W, H, M = 595, 842, 56


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def _page(doc: pymupdf.Document, rng: random.Random, number: int) -> None:
    page = doc.new_page(width=W, height=H)
    page.insert_text((M, 40), "Benchmark Corpus Report", fontsize=8, fontname="helv")
    page.insert_text(
        (M, 80),
        f"{number} {rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
        fontsize=15,
        fontname="hebo",
    )
    y = 100
    for _ in range(rng.randint(2, 3)):
        text = " ".join(_sentence(rng) for _ in range(rng.randint(3, 5)))
        rc = page.insert_textbox(pymupdf.Rect(M, y, W - M, y + 160), text, fontsize=10, fontname="helv")
        y = y + 160 - rc + 12
    if number % 2 == 0:
        rows, cols, cw, rh = rng.randint(4, 8), 4, (W - 2 * M) / 4, 18
        shape = page.new_shape()
        for r in range(rows + 1):
            shape.draw_line((M, y + r * rh), (W - M, y + r * rh))
        for c in range(cols + 1):
            shape.draw_line((M + c * cw, y), (M + c * cw, y + rows * rh))
        shape.finish(color=(0, 0, 0), width=0.6)
        shape.commit()
        for r in range(rows):
            for c in range(cols):
                cell = rng.choice(WORDS).title() if r == 0 else f"{rng.randint(0, 9999)}"
                page.insert_text(
                    (M + c * cw + 4, y + r * rh + 13), cell, fontsize=9, fontname="hebo" if r == 0 else "helv"
                )
    page.insert_text((W - M - 20, H - 30), str(number), fontsize=8, fontname="helv")


def build(out: Path, docs: int, pages: int, big: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in range(docs):
        doc = pymupdf.open()
        for p in range(pages):
            _page(doc, rng, p + 1)
        path = out / f"bench_{d:03d}.pdf"
        doc.save(path, garbage=3, deflate=True)
        paths.append(path)
    if big:
        doc = pymupdf.open()
        template = pymupdf.open()
        for p in range(20):
            _page(template, rng, p + 1)
        for _ in range(big // 20):
            doc.insert_pdf(template)
        for p in range(big % 20):
            _page(doc, rng, p + 1)
        path = out / f"big_{big}.pdf"
        doc.save(path, garbage=3, deflate=True)
        paths.append(path)
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--big", type=int, default=0, help="also write one document with this many pages")
    a = ap.parse_args()
    for p in build(a.out, a.docs, a.pages, a.big):
        print(p)
