"""Running headers, footers and page numbers.

A text region in the top or bottom margin band is furniture when the same text (digits masked)
recurs in that band on other pages, or when it is nothing but a page number. Kept in the JSON, left
out of the Markdown body and the chunks.
"""

from __future__ import annotations

import re
from collections import Counter

from docpipe.assemble.regions import Region
from docpipe.model import BlockType
from docpipe.model.raw import Rect

MARGIN_SHARE = 0.09
NUMBER_MARGIN_SHARE = 0.14
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7}|\d{1,3}[-\u2013.]\d{1,4})(?:\s*(?:/|of)\s*\d{1,4})?$|^[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]$",
    re.IGNORECASE,
)


def _signature(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _band(region: Region, height: float) -> str | None:
    # a lone page number may sit further in than running text (wide bottom margins of books)
    share = NUMBER_MARGIN_SHARE if _PAGE_NUMBER.match(region.text.strip()) else MARGIN_SHARE
    if region.bbox[3] <= height * share:
        return "top"
    if region.bbox[1] >= height * (1 - share):
        return "bottom"
    return None


_NOTE_START = re.compile(r"^[\d*\u2020\u2021\u00a7]")
BOX_REACH = 3.0  # body lines: how far a frame's rule may lie from the text it encloses


def _framed(reg: Region, rules: list[Rect], body: float) -> bool:
    """Text with a rule spanning it both above and below, close by: a drawn box or a ruled panel
    (a notice, a callout), which is content even when it sits in the margin."""
    reach = BOX_REACH * max(body, 1.0)

    def spans(rule: Rect) -> bool:
        return rule[0] <= reg.bbox[0] + 1 and rule[2] >= reg.bbox[2] - 1

    above = any(spans(r) and 0 <= reg.bbox[1] - r[3] <= reach for r in rules)
    return above and any(spans(r) and 0 <= r[1] - reg.bbox[3] <= reach for r in rules)


def _small_margin_text(reg: Region, height: float, body: float) -> str | None:
    """Single-occurrence furniture: a short line in a smaller font hugging the top or bottom edge
    (journal running heads, report contact lines). Footnote-like starts are left to the footnotes."""
    if not reg.lines or reg.size > body - 0.5 or len(reg.text) > 160 or len(reg.lines) > 2:
        return None
    if reg.bbox[3] <= height * 0.14:
        return "top"
    if reg.bbox[1] >= height * 0.93 and not _NOTE_START.match(reg.text):
        return "bottom"
    return None


def mark_furniture(
    pages: list[tuple[float, list[Region]]],
    body: float,
    seen: Counter[tuple[str, str]] | None = None,
    rules: list[list[Rect]] | None = None,
) -> None:
    """`pages`: (page height, text regions) of the pages being assembled; `body` the body font size;
    `seen` counts margin texts of earlier pages of the document (updated); `rules` the horizontal
    rules of each page. Marks types in place."""
    seen = seen if seen is not None else Counter()
    candidates: list[tuple[Region, str, str]] = []
    for height, regions in pages:
        on_page: set[tuple[str, str]] = set()
        for reg in regions:
            if reg.kind != "text" or not reg.text:
                continue
            band = _band(reg, height)
            if band is None:
                continue
            sig = _signature(reg.text)
            candidates.append((reg, band, sig))
            on_page.add((band, sig))
        seen.update(on_page)
    min_repeats = 2  # margin bands rarely repeat body text; chapter footers alternate with page parity
    for reg, band, sig in candidates:
        if _PAGE_NUMBER.match(reg.text.strip()):
            reg.type = BlockType.page_number
        elif seen[(band, sig)] >= min_repeats and len(sig) < 200:
            reg.type = BlockType.page_header if band == "top" else BlockType.page_footer
    for page_no, (height, regions) in enumerate(pages):
        numbers = [r for r in regions if r.type is BlockType.page_number]
        page_rules = rules[page_no] if rules else []
        for reg in regions:
            if reg.type is not None or reg.kind != "text" or not reg.text:
                continue
            edge = _small_margin_text(reg, height, body)
            # text on the same row as the page number belongs to the running head or foot, unless
            # it reads as a note ("*Figures in thousands") that merely shares the row
            beside = any(min(reg.bbox[3], n.bbox[3]) - max(reg.bbox[1], n.bbox[1]) > 0 for n in numbers)
            if beside and _band_of_number(reg, height) and not _NOTE_START.match(reg.text):
                edge = "top" if reg.bbox[1] < height / 2 else "bottom"
            if edge and _framed(reg, page_rules, body):
                edge = None
            if edge:
                reg.type = BlockType.page_header if edge == "top" else BlockType.page_footer


def _band_of_number(reg: Region, height: float) -> bool:
    return reg.bbox[3] <= height * 0.15 or reg.bbox[1] >= height * 0.85


PLACE_GRID = 12.0  # points: positions of recurring furniture are compared on this grid
PLACE_MAX_CHARS = 60
PLACE_MIN_REPEATS = 3
_LONE_NUMBER = re.compile(r"^\d{1,4}$")


def _place(reg: Region) -> tuple[int, int]:
    return (
        round((reg.bbox[0] + reg.bbox[2]) / 2 / PLACE_GRID),
        round((reg.bbox[1] + reg.bbox[3]) / 2 / PLACE_GRID),
    )


def mark_recurring_in_place(
    pages: list[tuple[int, float, list[Region]]], seen: Counter[tuple] | None = None
) -> None:
    """Running heads and page numbers set outside the top and bottom bands: in a side column beside
    the text (books and journals with wide outer margins) or below a tall head. `pages`: (page
    index, page height, text regions). A short text that recurs verbatim at the same place on
    several pages is a running head (away from the margins, text that differs only in its numbers
    is content: "Section 2 ..."); a lone number at the same place whose value minus its page
    index recurs on another page is the page number (folios count up with the pages; a form's
    fixed numbers do not). `seen` carries the counts across windows of one document."""
    seen = seen if seen is not None else Counter()
    candidates: list[tuple[Region, tuple]] = []
    for index, _height, regions in pages:
        on_page: set[tuple] = set()
        for reg in regions:
            text = reg.text.strip()
            if reg.type is not None or reg.kind != "text" or not text or len(reg.lines) > 2:
                continue
            if _LONE_NUMBER.match(text):
                key: tuple = ("folio", _place(reg), int(text) - index)
            elif len(text) <= PLACE_MAX_CHARS:
                key = ("place", _place(reg), " ".join(text.lower().split()))
            else:
                continue
            candidates.append((reg, key))
            on_page.add(key)
        seen.update(on_page)
    heights = {id(reg): h for _, h, regs in pages for reg in regs}
    for reg, key in candidates:
        if key[0] == "folio" and seen[key] >= 2:
            reg.type = BlockType.page_number
        elif key[0] == "place" and seen[key] >= PLACE_MIN_REPEATS:
            upper = reg.bbox[1] < heights[id(reg)] / 2
            reg.type = BlockType.page_header if upper else BlockType.page_footer
