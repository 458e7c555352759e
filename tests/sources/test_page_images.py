"""page_images.image_info: PyMuPDF's image placements with xrefs, made once per page of a document."""

from __future__ import annotations

import pymupdf
import pytest

from docpipe.sources import page_images
from docpipe.sources.page_images import image_info


def _png(colour: tuple[int, int, int], size: int = 40) -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, size, size), False)
    pix.set_rect(pix.irect, colour)
    return pix.tobytes("png")


@pytest.fixture
def doc() -> pymupdf.Document:
    """Three pages: a logo on each, page 1 also a photo drawn twice, page 3 the photo's twin (same
    pixels, its own xref)."""
    doc = pymupdf.open()
    logo, photo = _png((200, 30, 30)), _png((30, 30, 200), 60)
    logo_xref = photo_xref = 0
    for n in range(3):
        page = doc.new_page()
        page.insert_text((72, 72), f"page {n + 1}")
        logo_xref = page.insert_image(pymupdf.Rect(20, 20, 60, 60), stream=logo, xref=logo_xref)
        if n == 0:
            photo_xref = page.insert_image(pymupdf.Rect(100, 100, 300, 300), stream=photo)
            page.insert_image(pymupdf.Rect(320, 100, 420, 200), xref=photo_xref)
        if n == 2:
            page.insert_image(pymupdf.Rect(100, 400, 200, 500), stream=photo)
    return pymupdf.open("pdf", doc.tobytes())


def test_same_as_pymupdf_on_every_page(doc: pymupdf.Document) -> None:
    for n in range(doc.page_count):
        ours = image_info(doc.load_page(n))
        theirs = pymupdf.open("pdf", doc.tobytes()).load_page(n).get_image_info(xrefs=True)
        assert ours == theirs
        assert all(info["xref"] > 0 for info in ours)
    assert len(image_info(doc.load_page(0))) == 3


def test_one_answer_per_page_and_one_decode_per_xref(doc: pymupdf.Document, monkeypatch) -> None:
    decoded: list[int] = []
    real = page_images._digest

    def counting(d: pymupdf.Document, xref: int) -> bytes:
        decoded.append(xref)
        return real(d, xref)

    monkeypatch.setattr(page_images, "_digest", counting)
    first = image_info(doc.load_page(0))
    assert image_info(doc.load_page(0)) is first  # another Page object of the same page
    image_info(doc.load_page(1))
    image_info(doc.load_page(2))
    # the logo's xref is decoded once although three pages place it
    assert sorted(decoded) == sorted(set(decoded))
    assert len(decoded) == len({x for n in range(3) for x, *_ in doc.load_page(n).get_images()})


def test_not_a_pdf() -> None:
    doc = pymupdf.open("png", _png((0, 0, 0)))
    assert image_info(doc.load_page(0)) == doc.load_page(0).get_image_info(xrefs=True)


def test_page_display_renders_the_same_pixels(doc: pymupdf.Document) -> None:
    page = doc.load_page(0)
    display = page_images.page_display(page)
    assert isinstance(display, pymupdf.DisplayList)
    clip, zoom = pymupdf.Rect(90, 90, 310, 310), pymupdf.Matrix(2, 2)
    ours = display.get_pixmap(matrix=zoom, clip=clip, alpha=False)
    theirs = page.get_pixmap(matrix=zoom, clip=clip, alpha=False)
    assert (ours.width, ours.height) == (theirs.width, theirs.height)
    assert ours.samples == theirs.samples


def test_page_display_falls_back_to_the_page() -> None:
    class Unlistable:
        def get_displaylist(self) -> None:
            raise RuntimeError("syntax error in content stream")

    page = Unlistable()
    assert page_images.page_display(page) is page  # type: ignore[arg-type]
