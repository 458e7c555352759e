"""A small one-page PDF for end-to-end runs: 320 x 240 pt, so 640 x 480 px at docpipe's 144 dpi (one
global view for DeepSeek-OCR: the cheapest request the engine takes)."""

from __future__ import annotations

from pathlib import Path


def small_pdf(path: Path) -> Path:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=320, height=240)
    page.insert_text((24, 40), "Results", fontsize=16)
    for i in range(6):
        page.insert_text((24, 70 + 22 * i), f"Line {i + 1}: the engine reads this page.", fontsize=10)
    doc.save(path)
    doc.close()
    return path
