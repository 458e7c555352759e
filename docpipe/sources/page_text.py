"""A PDF page's text page, made once and shared by the router (which judges the text layer) and the
text-layer engine (which reads it).

MuPDF builds a text page by interpreting the page's content stream, and that interpretation is most
of what text extraction costs. The router used to run its own pass (the text trace) and the engine
another; now the first to ask builds the text page and its "dict" extraction and keeps them on the
`Page` object, and the engine takes them away (`take`), so nothing outlives the page's reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymupdf

# Ligatures expanded (no PRESERVE_LIGATURES), whitespace kept so we decide how to join, text outside
# the media box dropped.
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

_ATTR = "_docpipe_text_page"


@dataclass(frozen=True, slots=True)
class SharedText:
    textpage: pymupdf.TextPage  # for the per-character extraction, where a caller needs it
    data: dict  # textpage.extractDICT(sort=False); callers must not edit it


def text_page(page: pymupdf.Page) -> SharedText:
    """The page's text page and dict, built on first ask and kept for the next caller."""
    found = getattr(page, _ATTR, None)
    if found is None:
        textpage = page.get_textpage(flags=TEXT_FLAGS)
        found = SharedText(textpage, textpage.extractDICT(sort=False))
        setattr(page, _ATTR, found)
    return found


def take(page: pymupdf.Page) -> SharedText:
    """The page's text page and dict for their last user: the page keeps no reference to them."""
    found = text_page(page)
    delattr(page, _ATTR)
    return found
