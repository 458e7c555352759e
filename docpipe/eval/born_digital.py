"""Which corpus files count as born-digital for speed figures: judged from the PDF alone, not from
docpipe's router, so that the set of files timed does not move when the router changes.

A page is scanned when an image covers most of it, or when it has images and no text. A file is
born-digital when it opens without a password, has no scanned page and has text on some page.
Blank pages count for neither side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pymupdf

FULL_PAGE_IMAGE = 0.8  # share of the page area one image must cover to make the page a scan


@dataclass(frozen=True)
class FileInfo:
    path: Path
    pages: int  # 0 when the file cannot be opened
    born_digital: bool
    problem: str = ""  # why the file cannot be read, if it cannot

    @property
    def name(self) -> str:
        return self.path.stem


def page_is_scanned(page: pymupdf.Page) -> tuple[bool, bool]:
    """(scanned, has_text) for one page."""
    area = abs(page.rect) or 1.0
    images = page.get_image_info()
    covered = max((abs(pymupdf.Rect(i["bbox"]) & page.rect) / area for i in images), default=0.0)
    has_text = bool(page.get_text("text").strip())
    return covered >= FULL_PAGE_IMAGE or (bool(images) and not has_text), has_text


def inspect_file(path: Path) -> FileInfo:
    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # noqa: BLE001 - a malformed file is a corpus member like any other
        return FileInfo(path, 0, False, f"{type(exc).__name__}: {exc}")
    with doc:
        if doc.needs_pass:
            return FileInfo(path, doc.page_count, False, "encrypted")
        any_text = False
        try:
            for page in doc:
                scanned, has_text = page_is_scanned(page)
                if scanned:
                    return FileInfo(path, doc.page_count, False)
                any_text |= has_text
        except Exception as exc:  # noqa: BLE001 - a damaged page tree: not timed
            return FileInfo(path, doc.page_count, False, f"{type(exc).__name__}: {exc}")
        return FileInfo(path, doc.page_count, any_text)
