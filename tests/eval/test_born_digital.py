"""Which files count as born-digital for the speed figures: judged from the PDF alone."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from docpipe.eval.born_digital import inspect_file


def _png(width: int, height: int) -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    pix.clear_with(200)
    return pix.tobytes("png")


def _pdf(path: Path, pages: list[str], password: str = "") -> Path:
    """Pages described as "text", "blank", "scan" (full-page image + invisible text),
    "image" (a small picture, no text) or "text+figure"."""
    doc = pymupdf.open()
    for kind in pages:
        page = doc.new_page(width=300, height=400)
        if kind in ("text", "text+figure"):
            page.insert_text((30, 50), "Born-digital words on the page.")
        if kind == "text+figure":
            page.insert_image(pymupdf.Rect(30, 100, 200, 200), stream=_png(40, 20))
        if kind == "scan":
            page.insert_image(page.rect, stream=_png(60, 80))
            page.insert_text((30, 50), "hidden OCR layer", render_mode=3)
        if kind == "image":
            page.insert_image(pymupdf.Rect(30, 100, 100, 150), stream=_png(20, 20))
    kwargs = {}
    if password:
        kwargs = {"encryption": pymupdf.PDF_ENCRYPT_AES_256, "user_pw": password, "owner_pw": password}
    doc.save(path, **kwargs)
    return path


def test_text_pages_with_figures_and_blank_pages_are_born_digital(tmp_path: Path) -> None:
    info = inspect_file(_pdf(tmp_path / "a.pdf", ["text", "blank", "text+figure"]))
    assert info.born_digital and info.pages == 3 and not info.problem
    assert info.name == "a"


def test_a_single_scanned_page_makes_the_file_a_scan(tmp_path: Path) -> None:
    assert not inspect_file(_pdf(tmp_path / "s.pdf", ["text", "scan"])).born_digital
    assert not inspect_file(_pdf(tmp_path / "i.pdf", ["text", "image"])).born_digital


def test_a_file_without_any_text_is_not_born_digital(tmp_path: Path) -> None:
    assert not inspect_file(_pdf(tmp_path / "b.pdf", ["blank", "blank"])).born_digital


def test_encrypted_and_unreadable_files_are_reported_not_raised(tmp_path: Path) -> None:
    locked = inspect_file(_pdf(tmp_path / "locked.pdf", ["text"], password="secret"))
    assert not locked.born_digital and locked.problem == "encrypted"
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"this is not a PDF at all")
    broken = inspect_file(junk)
    assert not broken.born_digital and broken.pages == 0 and broken.problem
