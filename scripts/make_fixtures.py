#!/usr/bin/env python3
"""Generate born-digital test PDFs with known content (and broken inputs) into a folder.

    python scripts/make_fixtures.py OUT_DIR

Every PDF is drawn with PyMuPDF's base-14 fonts, so the text, its order and its positions are
known exactly; the tests assert against the constants below. Nothing here is copied from another
project; the generated files are not committed (tests build them into a temporary folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

W, H = 595, 842  # A4 in points
MARGIN = 56

TITLE = "Adaptive Layout Analysis for Archival Documents"
LEFT_COLUMN = [
    "Archives hold millions of pages whose structure matters as much as their words. Readers expect "
    "columns to be followed from top to bottom before moving to the next one.",
    "The left column ends with this sentence about reading order.",
]
RIGHT_COLUMN = [
    "The right column starts here and continues the argument with a second paragraph of prose.",
    "Finally the right column closes the first section of the page.",
]
FULL_WIDTH_HEADING = "2 Methods: a section heading that runs across the full width"
BOTTOM_LEFT = "Below the heading, the left column resumes with new material."
BOTTOM_RIGHT = "And the right column of the lower half completes the page."

HYPHEN_LINES = [
    "The committee examined the docu-",
    "ments carefully and found a state-of-the-",
    "art approach that was well described.",
]
HYPHEN_JOINED = (
    "The committee examined the documents carefully and found a state-of-the-art approach that was well "
    "described."
)

FOOTNOTE = "1 The committee met twice in the spring."

TABLE_ROWS = [
    # header row 0: "Region" spans two rows, "Sales" spans two columns
    ["Region", "Sales", None],
    [None, "2023", "2024"],
    ["North", "120", "135"],
    ["South", "98", "110"],
]

BORDERLESS_ROWS = [
    ["Station", "Oxygen", "Nitrate", "Status"],
    ["North Bridge", "8.1", "2.4", "good"],
    ["Mill Weir", "7.6", "3.1", "fair"],
    ["Old Ferry", "8.4", "1.9", "good"],
    ["Estuary", "6.9", "4.2", "watch"],
]
PROSE_COLUMNS = [
    "The first column of this newsletter talks about the spring meeting and who attended it.",
    "The second column reports on the budget, which was approved without any objections.",
    "The third column lists the volunteers who will help with the summer festival this year.",
]

HEADER_TEXT = "Quarterly Report of the Example Company"
FOOTER_TEXT = "Confidential - internal use only"


def _text(page: pymupdf.Page, x: float, y: float, text: str, size: float = 10, font: str = "helv") -> None:
    page.insert_text((x, y), text, fontsize=size, fontname=font)


def _paragraph(
    page: pymupdf.Page, rect: pymupdf.Rect, text: str, size: float = 10, font: str = "helv"
) -> float:
    """Flow text into rect; returns the y where the text ended."""
    rc = page.insert_textbox(rect, text, fontsize=size, fontname=font)
    if rc < 0:
        raise ValueError(f"text does not fit in {rect}: {text[:30]}")
    return rect.y1 - rc


def two_column(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _text(page, MARGIN, 80, TITLE, size=18, font="hebo")
    col_w = (W - 2 * MARGIN - 20) / 2
    lx, rx = MARGIN, MARGIN + col_w + 20
    y = 110
    for para in LEFT_COLUMN:
        y = _paragraph(page, pymupdf.Rect(lx, y, lx + col_w, y + 200), para) + 10
    y_end_left = y
    y = 110
    for para in RIGHT_COLUMN:
        y = _paragraph(page, pymupdf.Rect(rx, y, rx + col_w, y + 200), para) + 10
    y = max(y, y_end_left) + 20
    _text(page, MARGIN, y, FULL_WIDTH_HEADING, size=14, font="hebo")
    y += 20
    _paragraph(page, pymupdf.Rect(lx, y, lx + col_w, y + 100), BOTTOM_LEFT)
    _paragraph(page, pymupdf.Rect(rx, y, rx + col_w, y + 100), BOTTOM_RIGHT)
    doc.save(path)


def hyphenated(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _text(page, MARGIN, 80, "Introduction", size=16, font="hebo")
    y = 110
    for line in HYPHEN_LINES:
        _text(page, MARGIN, y, line)
        y += 12
    # A second paragraph uses the compound mid-line, which tells de-hyphenation to keep its hyphen.
    _text(page, MARGIN, y + 14, "Another state-of-the-art result appears in this second paragraph.")
    # lists and code
    y += 50
    for item in ("First item of the list", "Second item of the list"):
        _text(page, MARGIN, y, "\u2022 " + item)
        y += 14
    y += 14
    for code in ("def area(r):", "    return 3.14159 * r * r"):
        _text(page, MARGIN, y, code, font="cour")
        y += 12
    _text(page, MARGIN, 750, FOOTNOTE, size=7)
    doc.save(path)


def table_with_spans(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _text(page, MARGIN, 80, "Sales by Region", size=16, font="hebo")
    _text(page, MARGIN, 110, "The table below lists sales figures for two years.")
    x0, y0 = MARGIN, 140
    col_w, row_h = 120, 22
    n_rows, n_cols = len(TABLE_ROWS), 3
    shape = page.new_shape()
    # horizontal rules: skip the segment under "Sales" header cells? No: "Sales" spans columns 1-2 in
    # row 0 (no vertical rule between them in row 0); "Region" spans rows 0-1 (no rule under it).
    for r in range(n_rows + 1):
        y = y0 + r * row_h
        if r == 1:
            shape.draw_line((x0 + col_w, y), (x0 + n_cols * col_w, y))  # not under "Region"
        else:
            shape.draw_line((x0, y), (x0 + n_cols * col_w, y))
    for c in range(n_cols + 1):
        x = x0 + c * col_w
        if c == 2:
            shape.draw_line((x, y0 + row_h), (x, y0 + n_rows * row_h))  # not through "Sales"
        else:
            shape.draw_line((x, y0), (x, y0 + n_rows * row_h))
    shape.finish(color=(0, 0, 0), width=0.8)
    shape.commit()
    for r, row in enumerate(TABLE_ROWS):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            font = "hebo" if r < 2 else "helv"
            _text(page, x0 + c * col_w + 6, y0 + r * row_h + 15, cell, font=font)
    _text(page, MARGIN, y0 + n_rows * row_h + 30, "Sales grew in both regions.")
    doc.save(path)


def borderless_table(path: Path) -> None:
    """A table drawn with no rules at all, under a paragraph, and three columns of prose below it
    that must stay prose."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _text(page, MARGIN, 80, "Water quality by station.")
    xs = (MARGIN, MARGIN + 150, MARGIN + 250, MARGIN + 350)
    for r, row in enumerate(BORDERLESS_ROWS):
        for x, cell in zip(xs, row, strict=True):
            _text(page, x, 110 + 16 * r, cell, font="hebo" if r == 0 else "helv")
    col_w = (W - 2 * MARGIN - 40) / 3
    for c, para in enumerate(PROSE_COLUMNS):
        x = MARGIN + c * (col_w + 20)
        _paragraph(page, pymupdf.Rect(x, 260, x + col_w, 400), para)
    doc.save(path)


def running_furniture(path: Path, n_pages: int = 4) -> None:
    doc = pymupdf.open()
    for i in range(n_pages):
        page = doc.new_page(width=W, height=H)
        _text(page, MARGIN, 40, HEADER_TEXT, size=9)
        _text(page, MARGIN, 120, f"Section {i + 1} body text that is unique to page {i + 1} of the report.")
        _text(page, MARGIN, H - 30, FOOTER_TEXT, size=9)
        _text(page, W - MARGIN - 10, H - 30, str(i + 1), size=9)
    doc.save(path)


def encrypted(path: Path, password: str = "s3cret") -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _text(page, MARGIN, 100, "This text is protected by a password.")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw=password + "-owner")


def empty_page(path: Path) -> None:
    doc = pymupdf.open()
    doc.new_page(width=W, height=H)
    doc.save(path)


def zero_pages(path: Path) -> None:
    # PyMuPDF refuses to save a document without pages; write the four objects by hand.
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))


def build_all(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "two_column": out / "two_column.pdf",
        "hyphenated": out / "hyphenated.pdf",
        "table_spans": out / "table_spans.pdf",
        "furniture": out / "furniture.pdf",
        "borderless": out / "borderless.pdf",
        "encrypted": out / "encrypted.pdf",
        "empty_page": out / "empty_page.pdf",
        "zero_pages": out / "zero_pages.pdf",
    }
    two_column(paths["two_column"])
    hyphenated(paths["hyphenated"])
    table_with_spans(paths["table_spans"])
    running_furniture(paths["furniture"])
    borderless_table(paths["borderless"])
    encrypted(paths["encrypted"])
    empty_page(paths["empty_page"])
    zero_pages(paths["zero_pages"])
    good = paths["two_column"].read_bytes()
    paths["truncated"] = out / "truncated.pdf"
    paths["truncated"].write_bytes(good[: len(good) // 3])
    paths["not_a_pdf"] = out / "not_a_pdf.pdf"
    paths["not_a_pdf"].write_text("This is a plain text file that merely ends in .pdf\n")
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    for name, p in build_all(Path(sys.argv[1])).items():
        print(f"{name:12s} {p}")
