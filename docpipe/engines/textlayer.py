"""The `textlayer` engine: text, fonts and positions straight from a born-digital PDF's text layer.

No pixels are touched. Tables come from PyMuPDF's line-based table finder, run only on pages whose
vector drawings could form a ruled grid (the finder costs tens of milliseconds a page; the drawing
count costs one).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pymupdf

from docpipe.engines.base import PageInput
from docpipe.engines.lattice import find_lattice_tables, horizontal_rules
from docpipe.engines.overprint import drop_overprints
from docpipe.engines.tables import extract_tables
from docpipe.model import PageStatus
from docpipe.model.raw import Line, RawImage, RawPage, RawTable, Rect, Span, enclosing
from docpipe.sources.page_images import image_info
from docpipe.sources.page_text import take

_FLAG_SUPERSCRIPT = 1
_FLAG_ITALIC = 2
_FLAG_MONO = 8
_FLAG_BOLD = 16
_MONO_FONT_HINTS = ("mono", "courier", "consol", "menlo", "code", "typewriter", "cmtt", "sfmono")


def _cardinal(direction: tuple[float, float]) -> tuple[int, int] | None:
    dx, dy = direction
    if abs(dx) > 0.99:
        return (1 if dx > 0 else -1, 0)
    if abs(dy) > 0.99:
        return (0, 1 if dy > 0 else -1)
    return None  # slanted text


@dataclass(frozen=True, slots=True)
class Frame:
    """The coordinate frame in which a page's text reads left to right.

    PyMuPDF reports text in unrotated page space. On a page turned with /Rotate, or whose content is
    drawn sideways, most text runs up or down the page there; layout analysis only understands
    horizontal lines, so everything is turned by `angle` (clockwise, like /Rotate) first."""

    angle: int  # 0, 90, 180, 270
    width: float  # unrotated page size
    height: float

    @property
    def size(self) -> tuple[float, float]:
        return (self.height, self.width) if self.angle in (90, 270) else (self.width, self.height)

    def point(self, x: float, y: float) -> tuple[float, float]:
        if self.angle == 90:
            return self.height - y, x
        if self.angle == 180:
            return self.width - x, self.height - y
        if self.angle == 270:
            return y, self.width - x
        return x, y

    def rect(self, r: Sequence[float]) -> Rect:
        (ax, ay), (bx, by) = self.point(r[0], r[1]), self.point(r[2], r[3])
        return (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))

    def direction(self, d: tuple[float, float]) -> tuple[float, float]:
        dx, dy = d
        return {90: (-dy, dx), 180: (-dx, -dy), 270: (dy, -dx)}.get(self.angle, (dx, dy))


_ANGLE_FOR_DIR = {(1, 0): 0, (0, -1): 90, (-1, 0): 180, (0, 1): 270}


def page_frame(page: pymupdf.Page, data: dict) -> Frame:
    """Turn the page so that the direction holding most of its characters reads left to right."""
    rect = page.rect
    width, height = (rect.height, rect.width) if page.rotation in (90, 270) else (rect.width, rect.height)
    chars: dict[tuple[int, int], int] = {}
    for block in data["blocks"]:
        for line in block.get("lines", ()):
            d = _cardinal(line["dir"])
            if d is not None:
                chars[d] = chars.get(d, 0) + sum(len(s["text"]) for s in line["spans"])
    angle = _ANGLE_FOR_DIR[max(chars, key=chars.__getitem__)] if chars else 0
    if angle and chars.get((1, 0), 0) >= 0.5 * sum(chars.values()):
        angle = 0
    return Frame(angle, width, height)


# Scripts written with spaces between words; CJK is never re-spaced (no spaces between its words).
_SPACED_LETTER = r"A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_LONG_RUN = re.compile(f"[{_SPACED_LETTER}]{{18,}}")
_SPACED_LETTERS = re.compile(f"[{_SPACED_LETTER}]")
_NO_SPACE_BEFORE = set(",.;:!?)]}%\u2019\u201d'\"-\u2013\u2014/")
_NO_SPACE_AFTER = set("([{\u2018\u201c'\"-\u2013\u2014/")
# A word gap is this much wider (in em) than the line's typical gap between letters. MuPDF already
# inserts a space where the gap reaches 0.15 em past a glyph's advance; tight justification, wrong
# /Widths or tracking leave word gaps below that. Kerning tightens (negative) far more than it
# loosens, and tracking or letter-spacing shifts every gap of a line, which the median absorbs.
WORD_GAP_EM = 0.08


def needs_spacing(text: str) -> bool:
    """Cheap test on a line's text: a run of letters far longer than words are, or a long line of
    letters with (almost) no spaces. Only pages with such a line pay for per-character positions."""
    if _LONG_RUN.search(text):
        return True
    n = len(text)
    return n >= 30 and text.count(" ") * 15 < n and len(_SPACED_LETTERS.findall(text)) * 2 > n


def _cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or o >= 0x20000


def respace_line(raw_line: dict) -> list[str] | None:
    """Span texts of a rawdict line with spaces put where glyph gaps are word gaps, or None when
    nothing changes. The gap between two glyphs is measured along the line's direction from the end
    of one glyph's advance to the start of the next, in em of the larger font size, and compared
    with the line's own median gap (letter-spacing, wrong widths)."""
    d = _cardinal(raw_line.get("dir", (1, 0)))
    if d is None:
        return None
    dx, dy = d
    chars: list[tuple[int, str, float, float, float]] = []
    for si, span in enumerate(raw_line["spans"]):
        size = float(span["size"]) or 1.0
        for ch in span["chars"]:
            if not ch["c"]:
                continue  # an accent composed onto its letter
            x0, y0, x1, y1 = ch["bbox"]
            a, b = (x0 * dx, x1 * dx) if dx else (y0 * dy, y1 * dy)
            chars.append((si, ch["c"], min(a, b), max(a, b), size))
    gaps: list[tuple[int, float]] = []
    for i in range(1, len(chars)):
        prev, cur = chars[i - 1], chars[i]
        if prev[1].isspace() or cur[1].isspace():
            continue
        gaps.append((i, (cur[2] - prev[3]) / max(prev[4], cur[4])))
    if len(gaps) < 4:
        return None
    ordered = sorted(g for _, g in gaps)
    typical = ordered[len(ordered) // 2]
    breaks = {
        i
        for i, g in gaps
        if g - typical > WORD_GAP_EM
        and chars[i][1] not in _NO_SPACE_BEFORE
        and chars[i - 1][1] not in _NO_SPACE_AFTER
        and not (_cjk(chars[i][1][0]) or _cjk(chars[i - 1][1][0]))
    }
    if not breaks:
        return None
    texts: list[list[str]] = [[] for _ in raw_line["spans"]]
    for i, (si, c, *_rest) in enumerate(chars):
        if i in breaks:
            texts[si].append(" ")
        texts[si].append(c)
    return ["".join(t) for t in texts]


# Spacing accents that TeX and some typesetters draw as glyphs of their own over or under a letter
# ("Ageˆncia", "Aviac¸a˜o"), with the combining mark each stands for.
_SPACING_ACCENTS = {
    "\u02c6": "\u0302",  # circumflex
    "^": "\u0302",
    "\u02dc": "\u0303",  # tilde
    "~": "\u0303",
    "\u00b8": "\u0327",  # cedilla
    "\u00a8": "\u0308",  # diaeresis
    "\u00b4": "\u0301",  # acute
    "`": "\u0300",  # grave
    "\u02cb": "\u0300",
    "\u02c7": "\u030c",  # caron
    "\u02d8": "\u0306",  # breve
    "\u00af": "\u0304",  # macron
    "\u02c9": "\u0304",
    "\u02d9": "\u0307",  # dot above
    "\u02da": "\u030a",  # ring
    "\u02dd": "\u030b",  # double acute
    "\u02db": "\u0328",  # ogonek
}
# The non-ASCII ones: a line holding one pays for per-character boxes.
_ACCENT_HINT = re.compile("[" + "".join(a for a in _SPACING_ACCENTS if not a.isascii()) + "]")


def compose_accents(raw_line: dict) -> bool:
    """Turn spacing accents drawn over or under a neighbouring letter into combining marks on that
    letter, in place (rawdict chars). An accent belongs to the letter whose glyph box holds its
    horizontal centre; one that stands free is a real character ("^" in code, "~" in a path) and
    stays. Returns whether anything changed; NFC later makes "e\u0302" one "ê"."""
    d = _cardinal(raw_line.get("dir", (1, 0)))
    if d is None or d[1]:
        return False
    chars = [ch for span in raw_line["spans"] for ch in span["chars"]]
    changed = False
    for i, ch in enumerate(chars):
        mark = _SPACING_ACCENTS.get(ch["c"])
        if mark is None:
            continue
        x0, _, x1, _ = ch["bbox"]
        centre = (x0 + x1) / 2
        for j in (i - 1, i + 1):
            if not 0 <= j < len(chars):
                continue
            base = chars[j]
            bx0, _, bx1, _ = base["bbox"]
            if base["c"][:1].isalpha() and bx0 <= centre <= bx1 and x1 - x0 <= 1.2 * (bx1 - bx0):
                base["c"] = base["c"] + mark
                ch["c"] = ""
                changed = True
                break
    return changed


def _line_texts(raw_line: dict) -> list[str] | None:
    """A rawdict line's span texts with accents composed and word spaces inferred, or None when
    neither changes anything."""
    composed = compose_accents(raw_line)
    texts = respace_line(raw_line)
    if texts is None and composed:
        texts = ["".join(ch["c"] for ch in span["chars"]) for span in raw_line["spans"]]
    return texts


LINE_GAP_EM = 3.0


def split_misjoined_spans(spans: list[Span]) -> list[list[Span]] | None:
    """MuPDF joins spans into one line by drawing order. A span drawn after a jump to another row
    (a big title word, then the small subtitle below it, then the title's next word) lands in the
    wrong line, and a margin note can be joined to a drop cap across the gutter. A horizontal line
    is cut where a span's vertical extent misses the extent of the part so far, or where the gap
    before it is wider than `LINE_GAP_EM` of the smaller font (what assembly joins back across is
    narrower). None when it is one line."""
    parts: list[list[Span]] = [[]]
    extent: tuple[float, float] | None = None  # vertical extent of the current part's glyphs
    last: Span | None = None  # the current part's last span with glyphs
    for sp in spans:
        if not sp.text.strip():
            parts[-1].append(sp)
            continue
        top, bottom = sp.bbox[1], sp.bbox[3]
        apart = last is not None and sp.bbox[0] - last.bbox[2] > LINE_GAP_EM * min(sp.size, last.size)
        if extent is not None and (top >= extent[1] or bottom <= extent[0] or apart):
            parts.append([sp])
            extent, last = (top, bottom), sp
            continue
        parts[-1].append(sp)
        extent = (top, bottom) if extent is None else (min(extent[0], top), max(extent[1], bottom))
        last = sp
    return parts if len(parts) > 1 else None


@lru_cache(maxsize=1024)  # a page has a few fonts and thousands of spans
def _font_style(font: str) -> tuple[bool, bool, bool]:
    """Bold, italic, monospaced as the font's name says."""
    low = font.lower()
    return (
        "bold" in low or "black" in low or "heavy" in low,
        "italic" in low or "oblique" in low,
        any(h in low for h in _MONO_FONT_HINTS),
    )


def _span(raw: dict, frame: Frame, text: str | None = None) -> Span:
    flags = raw["flags"]
    font = raw.get("font", "")
    bold, italic, mono = _font_style(font)
    origin = frame.point(*raw["origin"]) if "origin" in raw else None
    return Span(
        text=raw["text"] if text is None else text,
        bbox=frame.rect(raw["bbox"]),
        size=float(raw["size"]),
        font=font,
        bold=bool(flags & _FLAG_BOLD) or bold,
        italic=bool(flags & _FLAG_ITALIC) or italic,
        mono=bool(flags & _FLAG_MONO) or mono,
        superscript=bool(flags & _FLAG_SUPERSCRIPT),
        baseline=origin[1] if origin is not None else None,
    )


@dataclass(slots=True)
class PageText:
    lines: list[Line]
    frame: Frame
    chars: int  # letters and digits in the text layer (the safety net compares the output to it)
    respaced: int  # lines whose word spaces were inferred from glyph gaps


_ALNUM = re.compile(r"[^\W_]")


def extract_text(page: pymupdf.Page) -> PageText:
    shared = take(page)  # the router's, when it judged this page
    textpage, data = shared.textpage, shared.data
    frame = page_frame(page, data)
    respaced: dict[tuple[int, int], list[str]] = {}
    if any(
        needs_spacing(text) or _ACCENT_HINT.search(text)
        for block in data["blocks"]
        for ln in block.get("lines", ())
        for text in ("".join(s["text"] for s in ln["spans"]),)
    ):
        # Same text page, same block and line numbering: per-character boxes only where needed.
        raw = textpage.extractRAWDICT(sort=False)
        for b, block in enumerate(raw["blocks"]):
            for n, raw_line in enumerate(block.get("lines", ())):
                texts = _line_texts(raw_line)
                if texts is not None:
                    respaced[(b, n)] = texts
    lines: list[Line] = []
    n_chars = 0
    for block_no, block in enumerate(data["blocks"]):
        if block.get("type") != 0:
            continue
        for line_no, raw_line in enumerate(block["lines"]):
            texts = respaced.get((block_no, line_no))
            spans = [
                _span(s, frame, texts[i] if texts else None)
                for i, s in enumerate(raw_line["spans"])
                if s["text"]
            ]
            text = "".join(s.text for s in spans)
            if not text.strip():
                continue
            n_chars += len(_ALNUM.findall(text))
            dx, dy = frame.direction(tuple(raw_line.get("dir", (1, 0))))
            # Vertical text in the page's frame: rotated table headers, arXiv margin stamps.
            vertical = abs(dy) > 0.5 and abs(dx) < 0.5
            stacked = split_misjoined_spans(spans) if not vertical and len(spans) > 1 else None
            if stacked is None:
                lines.append(
                    Line(
                        spans=spans, bbox=frame.rect(raw_line["bbox"]), block_hint=block_no, vertical=vertical
                    )
                )
                continue
            for part in stacked:
                # the box of the glyphs: a space span may stretch across the gap it was cut at
                inked = [sp for sp in part if sp.text.strip()] or part
                lines.append(Line(spans=part, bbox=enclosing(sp.bbox for sp in inked), block_hint=block_no))
    kept = drop_overprints(lines)
    if len(kept) < len(lines):
        n_chars = sum(len(_ALNUM.findall(ln.text)) for ln in kept)
    return PageText(kept, frame, n_chars, len(respaced))


def extract_lines(page: pymupdf.Page) -> list[Line]:
    return extract_text(page).lines


def extract_images(page: pymupdf.Page, min_side: float = 24.0, frame: Frame | None = None) -> list[RawImage]:
    """Embedded raster images larger than an icon, clipped to the page."""
    out: list[RawImage] = []
    page_rect = page.rect if frame is None else pymupdf.Rect(0, 0, frame.width, frame.height)
    for info in image_info(page):
        r = pymupdf.Rect(info["bbox"]) & page_rect
        if r.is_empty or r.width < min_side or r.height < min_side:
            continue
        bbox = tuple(r) if frame is None else frame.rect(r)
        out.append(RawImage(bbox=bbox, xref=int(info.get("xref") or 0)))
    return out


def turn_drawings(drawings: list[dict], frame: Frame) -> list[dict]:
    """Line and rectangle items (what rules and ruled tables are made of) in the page's frame."""
    out = []
    for path in drawings:
        items = []
        for item in path.get("items", ()):
            if item[0] == "l":
                items.append(("l", frame.point(*item[1]), frame.point(*item[2])))
            elif item[0] == "re":
                items.append(("re", frame.rect(item[1]), *item[2:]))
        if items:
            out.append({**path, "items": items, "rect": frame.rect(path["rect"])})
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
            text = extract_text(page)
            frame = text.frame
            # Lines, images and rules share PyMuPDF's unrotated space, turned to the text's frame;
            # the page's size and turn are reported in that frame.
            raw.width, raw.height = frame.size
            raw.rotation = (frame.angle - page.rotation) % 360
            raw.lines = text.lines
            raw.text_chars = text.chars
            raw.images = extract_images(page, frame=frame)
            t1 = time.perf_counter()
            raw.timings["textlayer"] = t1 - t0
            drawings = page.get_cdrawings()
            if frame.angle:
                drawings = turn_drawings(drawings, frame)
            raw.rules = horizontal_rules(drawings)
            if self.tables and drawings:
                if frame.angle == page.rotation:
                    found = extract_tables(page, raw.lines, drawings)
                else:
                    # PyMuPDF's finder works in the page's /Rotate frame; text drawn sideways on
                    # the page gets ruled grids only.
                    found = find_lattice_tables(drawings, raw.lines)[0]
                raw.tables = [RawTable(bbox=b, data=d) for b, d in found]
                raw.timings["tables"] = time.perf_counter() - t1
        except Exception as exc:  # a broken content stream fails this page, not the document
            raw.status = PageStatus.failed
            raw.error = f"text layer extraction failed: {type(exc).__name__}: {exc}"
        raw.timings["engine"] = time.perf_counter() - t0
        return raw
