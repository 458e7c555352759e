#!/usr/bin/env python3
"""Build fixtures/sample.pdf, the document `scripts/run` converts by default.

    python scripts/make_sample.py [OUT.pdf]

Four pages from the generated fixtures (two columns, hyphenation/lists/code, a table with spans) and
a fifth that is a *scan* of the first (an image with no text layer), so that `--engine auto` shows
its per-page routing: text layer for the born-digital pages, OCR for the scan.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pymupdf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures  # noqa: E402


def build(out: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_fixtures.build_all(Path(tmp))
        doc = pymupdf.open()
        for name in ("two_column", "hyphenated", "table_spans"):
            with pymupdf.open(paths[name]) as part:
                doc.insert_pdf(part)
        with pymupdf.open(paths["two_column"]) as src:
            pix = src[0].get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
            scan = doc.new_page(width=src[0].rect.width, height=src[0].rect.height)
            scan.insert_image(scan.rect, stream=pix.tobytes("jpeg", jpg_quality=80))
        doc.set_metadata({"title": "docpipe sample", "creator": "scripts/make_sample.py"})
        out.parent.mkdir(parents=True, exist_ok=True)
        doc.save(out, garbage=4, deflate=True)
    return out


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "fixtures" / "sample.pdf"
    print(build(target))
