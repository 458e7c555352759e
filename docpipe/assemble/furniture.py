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
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7}|\d{1,3}[-\u2013.]\d{1,4})(?:\s*(?:/|of)\s*\d{1,4})?$|^[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]$",
    re.IGNORECASE,
)


def _signature(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _band(region: Region, height: float) -> str | None:
    if region.bbox[3] <= height * MARGIN_SHARE:
        return "top"
    if region.bbox[1] >= height * (1 - MARGIN_SHARE):
        return "bottom"
    return None


def mark_furniture(pages: list[tuple[float, list[Region]]]) -> None:
    """`pages`: (page height, text regions) for every page of one document; marks types in place."""
    seen: Counter[tuple[str, str]] = Counter()
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
    n_pages = len(pages)
    min_repeats = 2  # margin bands rarely repeat body text; chapter footers alternate with page parity
    for reg, band, sig in candidates:
        if _PAGE_NUMBER.match(reg.text.strip()):
            reg.type = BlockType.page_number
        elif n_pages > 1 and seen[(band, sig)] >= min_repeats and len(sig) < 200:
            reg.type = BlockType.page_header if band == "top" else BlockType.page_footer
