"""Type text regions: headings (with levels), list items, code, captions, footnotes, paragraphs.

Font size is the strongest signal a text layer gives, so heading levels come from the document's
own size hierarchy: the body size is the most common size by character count; larger sizes rank as
heading levels; bold lines at body size are the lowest heading level. Section numbers ("2.3.1")
override the size rank where present. OCR lines carry an estimated size, so the same rules apply.
"""

from __future__ import annotations

import re
from collections import Counter

from docpipe.assemble.regions import BULLET, ENUMERATOR, Region
from docpipe.model import BlockType

CAPTION = re.compile(
    r"^(?:figure|fig\.|table|tab\.|listing|chart|scheme|algorithm|exhibit)\s*[\dIVXA-Z]+[.:\s]", re.I
)
SECTION_NUMBER = re.compile(r"^((?:\d{1,2}\.){0,4}\d{1,2})\.?\s+\S")
_SENTENCE_END = re.compile(r"[.;,:]$")


def size_weights(regions: list[Region]) -> Counter[float]:
    """Characters per font size (half-point steps)."""
    weights: Counter[float] = Counter()
    for reg in regions:
        for ln in reg.lines:
            weights[round(ln.size * 2) / 2] += len(ln.text.strip())
    return weights


def body_size(regions: list[Region], prior: Counter[float] | None = None) -> float:
    """The most common size by characters, counting `prior` (earlier pages of the document) too."""
    weights = size_weights(regions) + (prior or Counter())
    return weights.most_common(1)[0][0] if weights else 10.0


def _is_heading_candidate(reg: Region, body: float) -> bool:
    text = reg.text
    if not text or len(text) > 160 or len(reg.lines) > 3:
        return False
    if not any(ch.isalpha() for ch in text):
        return False
    if _SENTENCE_END.search(text) and not SECTION_NUMBER.match(text):
        return False
    larger = reg.size >= body + 1.0
    bold = all(ln.bold for ln in reg.lines) and reg.size >= body - 0.6
    return larger or (bold and len(text) < 100)


def classify_page(regions: list[Region], body: float, page_height: float) -> None:
    """Assign a type to each untyped text region of one page (in place)."""
    for reg in regions:
        if reg.type is not None or reg.kind != "text":
            continue
        text = reg.text
        if all(ln.mono for ln in reg.lines) and (len(reg.lines) > 1 or reg.size <= body):
            reg.type = BlockType.code
        elif CAPTION.match(text) and len(text) < 600:
            reg.type = BlockType.caption
        elif BULLET.match(text) or ENUMERATOR.match(text):
            if _is_heading_candidate(reg, body) and ENUMERATOR.match(text) and reg.size >= body + 1.0:
                reg.type = BlockType.heading
            else:
                reg.type = BlockType.list_item
        elif (
            reg.bbox[1] > page_height * 0.7
            and reg.size < body - 0.9
            and (text[:1].isdigit() or text[:1] in "*\u2020\u2021\u00a7" or reg.lines[0].spans[0].superscript)
        ):
            reg.type = BlockType.footnote
        elif _is_heading_candidate(reg, body):
            reg.type = BlockType.heading
        else:
            reg.type = BlockType.paragraph


def assign_heading_levels(
    pages: list[list[Region]], body: float, seen_sizes: set[int] | None = None, first_page: bool = True
) -> None:
    """Rank heading sizes across the document (`seen_sizes` carries the sizes of earlier pages and is
    updated); the largest unique one on the document's first page is the title."""
    headings = [r for regions in pages for r in regions if r.type is BlockType.heading]
    if not headings:
        return
    known = seen_sizes if seen_sizes is not None else set()
    known.update(round(h.size) for h in headings if h.size >= body + 1.0)
    sizes = sorted(known, reverse=True)
    on_first = [h for h in pages[0] if h.type is BlockType.heading] if pages and first_page else []
    title = None
    if on_first:
        top = max(on_first, key=lambda h: h.size)
        same_size = [h for h in headings if round(h.size) == round(top.size)]
        if len(same_size) == 1 and top.size >= body + 2.0:
            title = top
    for h in headings:
        if h is title:
            h.type, h.level = BlockType.title, 1
            continue
        m = SECTION_NUMBER.match(h.text)
        if m and m.group(1).count(".") >= 1:
            h.level = min(6, 2 + m.group(1).count("."))
        elif round(h.size) in sizes:
            rank = sizes.index(round(h.size))
            if title is not None and round(title.size) in sizes and rank > sizes.index(round(title.size)):
                rank -= 1
            h.level = min(6, 2 + rank)
        else:
            h.level = min(6, 2 + len(sizes))
