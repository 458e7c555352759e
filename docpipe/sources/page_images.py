"""A PDF page's image placements with each image's xref, worked out once per page of a document.

`page.get_image_info(xrefs=True)` builds a text page with images, decodes every placed image to
hash its pixels, then decodes every image of the page's resources again to match those hashes to
xrefs. The text layer engine, the figure-text pass and the figure-image pass each ask for it on
their own `Page` objects, so PyMuPDF's per-page cache never served the second ask; and an image
drawn on every page (a logo) was decoded again on each. Here the answer is kept per page number,
and each xref's hash per document, on the document itself (it cannot be weakly referenced).
`page_display` gives what to render several parts of one page from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pymupdf

_ATTR = "_docpipe_image_info"


@dataclass
class _DocImages:
    pages: dict[int, list[dict]] = field(default_factory=dict)
    digests: dict[int, bytes] = field(default_factory=dict)  # xref -> MD5 of its decoded pixels


def _cache(doc: pymupdf.Document) -> _DocImages:
    cache = getattr(doc, _ATTR, None)
    if cache is None:
        cache = _DocImages()
        setattr(doc, _ATTR, cache)
    return cache


def _digest(doc: pymupdf.Document, xref: int) -> bytes:
    """MD5 of an image resource's decoded pixels, as PyMuPDF matches placements to xrefs."""
    return pymupdf.Pixmap(doc, xref).digest


def image_info(page: pymupdf.Page) -> list[dict]:
    """What `page.get_image_info(xrefs=True)` returns (the same dicts, "xref" 0 where no resource
    image matches), shared by every caller on this page's document. Callers must not edit it."""
    doc = page.parent
    if not doc.is_pdf:
        return page.get_image_info(xrefs=True)
    cache = _cache(doc)
    found = cache.pages.get(page.number)
    if found is not None:
        return found
    infos = page.get_image_info(hashes=True)
    # PyMuPDF's matching: resource images in page order, a later xref with the same pixels wins.
    by_digest: dict[bytes, int] = {}
    for item in page.get_images():
        xref = item[0]
        digest = cache.digests.get(xref)
        if digest is None:
            digest = cache.digests[xref] = _digest(doc, xref)
        by_digest[digest] = xref
    for info in infos:
        info["xref"] = by_digest.get(info["digest"], 0)
    cache.pages[page.number] = infos
    return infos


def page_display(page: pymupdf.Page) -> pymupdf.Page | pymupdf.DisplayList:
    """What to render several parts of a page from: its display list (`Page.get_pixmap` makes one
    from the page's content on every call), or the page itself when its content cannot be listed
    (the render that needs it then fails with its own error, inside its caller's handling)."""
    try:
        return page.get_displaylist()
    except Exception:  # noqa: BLE001 - malformed page content: render from the page as before
        return page
