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


def _small_margin_text(reg: Region, height: float, body: float) -> str | None:
    """Single-occurrence furniture: a short line in a smaller font hugging the top or bottom edge
    (journal running heads, report contact lines). Footnote-like starts are left to the footnotes."""
    if not reg.lines or reg.size > body - 0.5 or len(reg.text) > 160 or len(reg.lines) > 2:
        return None
    if reg.bbox[3] <= height * 0.14:
        return "top"
    if reg.bbox[1] >= height * 0.93 and not re.match(r"^[\d*\u2020\u2021\u00a7]", reg.text):
        return "bottom"
    return None


def mark_furniture(
    pages: list[tuple[float, list[Region]]], body: float, seen: Counter[tuple[str, str]] | None = None
) -> None:
    """`pages`: (page height, text regions) of the pages being assembled; `body` the body font size;
    `seen` counts margin texts of earlier pages of the document (updated). Marks types in place."""
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
    for height, regions in pages:
        numbers = [r for r in regions if r.type is BlockType.page_number]
        for reg in regions:
            if reg.type is not None or reg.kind != "text" or not reg.text:
                continue
            edge = _small_margin_text(reg, height, body)
            # text on the same row as the page number belongs to the running head or foot
            beside = any(min(reg.bbox[3], n.bbox[3]) - max(reg.bbox[1], n.bbox[1]) > 0 for n in numbers)
            if beside and _band_of_number(reg, height):
                edge = "top" if reg.bbox[1] < height / 2 else "bottom"
            if edge:
                reg.type = BlockType.page_header if edge == "top" else BlockType.page_footer


def _band_of_number(reg: Region, height: float) -> bool:
    return reg.bbox[3] <= height * 0.15 or reg.bbox[1] >= height * 0.85
