"""The `textlayer` engine: text, fonts and positions straight from a born-digital PDF's text layer.

No pixels are touched. Tables come from PyMuPDF's line-based table finder, run only on pages whose
vector drawings could form a ruled grid (the finder costs tens of milliseconds a page; the drawing
count costs one).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pymupdf

from docpipe.engines.base import PageInput
from docpipe.engines.lattice import horizontal_rules
from docpipe.engines.tables import extract_tables
from docpipe.model import PageStatus
from docpipe.model.raw import Line, RawImage, RawPage, RawTable, Span

# Ligatures expanded (no PRESERVE_LIGATURES), whitespace kept so we decide how to join, text outside
# the media box dropped. Images come from get_image_info, which does not decode them.
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

_FLAG_SUPERSCRIPT = 1
_FLAG_ITALIC = 2
_FLAG_MONO = 8
_FLAG_BOLD = 16
_MONO_FONT_HINTS = ("mono", "courier", "consol", "menlo", "code", "typewriter", "cmtt", "sfmono")


def _span(raw: dict) -> Span:
    flags = raw["flags"]
    font = raw.get("font", "")
    low = font.lower()
    return Span(
        text=raw["text"],
        bbox=tuple(raw["bbox"]),
        size=float(raw["size"]),
        font=font,
        bold=bool(flags & _FLAG_BOLD) or "bold" in low or "black" in low or "heavy" in low,
        italic=bool(flags & _FLAG_ITALIC) or "italic" in low or "oblique" in low,
        mono=bool(flags & _FLAG_MONO) or any(h in low for h in _MONO_FONT_HINTS),
        superscript=bool(flags & _FLAG_SUPERSCRIPT),
        baseline=float(raw["origin"][1]) if "origin" in raw else None,
    )


def extract_lines(page: pymupdf.Page) -> list[Line]:
    lines: list[Line] = []
    data = page.get_text("dict", flags=TEXT_FLAGS, sort=False)
    for block_no, block in enumerate(data["blocks"]):
        if block.get("type") != 0:
            continue
        for raw_line in block["lines"]:
            dx, dy = raw_line.get("dir", (1, 0))
            spans = [_span(s) for s in raw_line["spans"] if s["text"]]
            if not spans or not "".join(s.text for s in spans).strip():
                continue
            # Vertical text: rotated table headers, arXiv margin stamps.
            vertical = abs(dy) > 0.5 and abs(dx) < 0.5
            lines.append(
                Line(spans=spans, bbox=tuple(raw_line["bbox"]), block_hint=block_no, vertical=vertical)
            )
    return lines


def extract_images(page: pymupdf.Page, min_side: float = 24.0) -> list[RawImage]:
    """Embedded raster images larger than an icon, clipped to the page."""
    out: list[RawImage] = []
    page_rect = page.rect
    for info in page.get_image_info(xrefs=True):
        r = pymupdf.Rect(info["bbox"]) & page_rect
        if r.is_empty or r.width < min_side or r.height < min_side:
            continue
        out.append(RawImage(bbox=tuple(r), xref=int(info.get("xref") or 0)))
    return out


class TextLayerEngine:
    name = "textlayer"
    fallback = False  # the text layer is what other engines fall back on

    def __init__(self, tables: bool = True) -> None:
        self.tables = tables

    def process(self, pages: Sequence[PageInput]) -> list[RawPage]:
        return [self.process_page(p) for p in pages]

    def process_page(self, page_input: PageInput) -> RawPage:
        page = page_input.page
        raw = RawPage.for_input(page_input, self.name)
        t0 = time.perf_counter()
        try:
            raw.lines = extract_lines(page)
            raw.images = extract_images(page)
            t1 = time.perf_counter()
            raw.timings["textlayer"] = t1 - t0
            drawings = page.get_cdrawings()
            raw.rules = horizontal_rules(drawings)
            if self.tables and drawings:
                raw.tables = [RawTable(bbox=b, data=d) for b, d in extract_tables(page, raw.lines, drawings)]
                raw.timings["tables"] = time.perf_counter() - t1
        except Exception as exc:  # a broken content stream fails this page, not the document
            raw.status = PageStatus.failed
            raw.error = f"text layer extraction failed: {type(exc).__name__}: {exc}"
        raw.timings["engine"] = time.perf_counter() - t0
        return raw
