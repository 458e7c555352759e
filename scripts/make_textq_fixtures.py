#!/usr/bin/env python3
"""Generated PDFs for text-layer quality: word spacing and silent loss (issue 11, classes 3 and 4).

    python scripts/make_textq_fixtures.py OUT_DIR

Each builder writes one PDF and returns its path; tests call them into tmp_path.
- glued_words: words placed one by one with gaps narrower than MuPDF's space threshold (0.15 em),
  no space glyphs; one line glued throughout, one glued only in part, one set per glyph.
- spacing_controls: text that must not be re-spaced: justified text, a long compound word, a line
  set glyph by glyph with uniform tracking, CJK without spaces.
- vertical_label: a normal page with a sideways label (rotate=90) beside the body.
- rotated_page: a /Rotate 90 page whose text reads upright on screen (sideways in PDF space).
- sideways_content: a page without /Rotate whose paragraph is drawn turned by 90 degrees.
- truncated: a 20-page PDF cut to 10% of its bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

FONT = pymupdf.Font("helv")
GLUED = "Composition of the pretraining data for OLMo 2 across all stages"
PARTLY_HEAD = "Table 3 lists the"
PARTLY_TAIL = "pretraining data for each model"
PER_GLYPH = "Mixing ratios were tuned on held out validation sets"
SIDEWAYS_LABEL = "Sideways axis label"
BODY = [
    "The body of this page is ordinary horizontal text that reads from left to right.",
    "It runs over a few lines so that the page has a clear main column of prose.",
    "A label set sideways stands in the left margin, next to these lines.",
]


def _words(page: pymupdf.Page, x: float, y: float, words: list[str], size: float, gap_em: float) -> float:
    """One insert_text per word, no space glyph; the gap between words is gap_em * size."""
    for w in words:
        page.insert_text((x, y), w, fontsize=size, fontname="helv")
        x += FONT.text_length(w, size) + gap_em * size
    return x


def _glyphs(
    page: pymupdf.Page, x: float, y: float, text: str, size: float, track: float, gap_em: float
) -> None:
    """One insert_text per glyph with `track` points of letter-spacing; spaces become gap_em."""
    for ch in text:
        if ch == " ":
            x += gap_em * size
            continue
        page.insert_text((x, y), ch, fontsize=size, fontname="helv")
        x += FONT.text_length(ch, size) + track


def glued_words(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    _words(page, 72, 100, GLUED.split(), 10, 0.1)
    # normal text with real spaces, then words glued by tight placement on the same line
    x = 72 + FONT.text_length(PARTLY_HEAD + " ", 10)
    page.insert_text((72, 130), PARTLY_HEAD, fontsize=10, fontname="helv")
    _words(page, x, 130, PARTLY_TAIL.split(), 10, 0.1)
    _glyphs(page, 72, 160, PER_GLYPH, 10, 0.0, 0.12)
    doc.save(path)
    return path


JUSTIFIED = (
    "Justified paragraphs stretch the space between words so that every line fills the measure, "
    "and the spacing changes from line to line while the letters keep their natural widths. "
) * 3
COMPOUND = "Donaudampfschifffahrtsgesellschaftskapitaensmuetze und Rechtsschutzversicherungsgesellschaften"
TRACKED = "LETTERSPACED HEADING"
CJK = "东北电气发展股份有限公司第一季度报告全文公司董事会监事会及董事保证季度报告内容的真实准确完整"


def spacing_controls(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(
        pymupdf.Rect(72, 72, 320, 200), JUSTIFIED, fontsize=10, align=pymupdf.TEXT_ALIGN_JUSTIFY
    )
    page.insert_text((72, 230), COMPOUND, fontsize=10, fontname="helv")
    _glyphs(page, 72, 260, TRACKED, 12, 0.12 * 12, 0.6)
    page.insert_text((72, 290), CJK[:26], fontsize=10, fontname="china-s")
    page.insert_text((72, 310), CJK[26:], fontsize=10, fontname="china-s")
    doc.save(path)
    return path


def vertical_label(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    for i, line in enumerate(BODY):
        page.insert_text((90, 120 + 14 * i), line, fontsize=11)
    page.insert_text((60, 300), SIDEWAYS_LABEL, fontsize=11, rotate=90)
    doc.save(path)
    return path


ROTATED = [
    f"Row {i + 1}: landscape line number {i + 1} of the rotated page reads upright." for i in range(12)
]


def rotated_page(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    page.set_rotation(90)
    # insert_text places text in the page's visible (rotated) coordinates: upright on screen
    for i, line in enumerate(ROTATED):
        page.insert_text((72, 72 + 16 * i), line, fontsize=11)
    doc.save(path)
    return path


def sideways_content(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    for i, line in enumerate(ROTATED):
        page.insert_text((100 + 16 * i, 700), line, fontsize=11, rotate=90)
    doc.save(path)
    return path


TRUNCATED_PAGES = 20


def truncated(path: Path, keep: float = 0.1) -> Path:
    doc = pymupdf.open()
    for i in range(TRUNCATED_PAGES):
        page = doc.new_page()
        for k in range(30):
            page.insert_text(
                (72, 72 + 14 * k), f"Page {i + 1} line {k + 1}: the quick brown fox jumps", fontsize=11
            )
    data = doc.tobytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


BUILDERS = {
    "glued_words": glued_words,
    "spacing_controls": spacing_controls,
    "vertical_label": vertical_label,
    "rotated_page": rotated_page,
    "sideways_content": sideways_content,
    "truncated": truncated,
}


def build_all(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    return {name: fn(out / f"{name}.pdf") for name, fn in BUILDERS.items()}


if __name__ == "__main__":
    for name, p in build_all(Path(sys.argv[1] if len(sys.argv) > 1 else "textq_fixtures")).items():
        print(name, p)
