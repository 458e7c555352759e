"""Tables whose rules draw only part of the grid (or none of it), built with PyMuPDF's drawing
calls: each must come out as one table with its header and its rows and columns apart."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

import docpipe
from docpipe.model import BlockType

from .table_helpers import convert_tables, text_grid

COLS = (72.0, 160.0, 240.0, 320.0)
HEADER = ("Region", "Households", "Median", "Change")
BODY = [
    ("North", "1,204", "52.1", "+3.0"),
    ("South", "2,310", "48.7", "-1.2"),
    ("East", "987", "61.0", "+0.4"),
    ("West", "1,555", "55.3", "+2.2"),
    ("Centre", "3,020", "58.8", "+1.9"),
]


def _row(page: pymupdf.Page, y: float, cells: tuple[str, ...], xs: tuple[float, ...] = COLS, **kw) -> None:
    for x, text in zip(xs, cells, strict=True):
        page.insert_text((x, y), text, fontsize=10, **kw)


def _prose(page: pymupdf.Page, y: float) -> None:
    page.insert_text((72, y), "Table 1 shows households by region; figures are estimates.", fontsize=10)


@pytest.mark.parametrize("rules_between_rows", [True, False], ids=["row-rules", "three-line"])
def test_row_rules_without_column_rules(tmp_path: Path, rules_between_rows: bool) -> None:
    """Rules between rows (or only above the header, under it and at the end) and no column rules:
    the header's columns carry down and every text row is a row."""
    doc = pymupdf.open()
    page = doc.new_page()
    _prose(page, 90)
    top = 120.0
    page.draw_line((66, top), (470, top), width=0.5)
    _row(page, top + 14, HEADER)
    y = top + 20
    page.draw_line((66, y), (470, y), width=0.5)
    for cells in BODY:
        _row(page, y + 14, cells)
        y += 20
        if rules_between_rows:
            page.draw_line((66, y), (470, y), width=0.5)
    if not rules_between_rows:
        page.draw_line((66, y + 4), (470, y + 4), width=0.5)
    (table,) = convert_tables(doc, tmp_path, "rows")
    assert text_grid(table) == [list(HEADER), *map(list, BODY)]
    assert table.header_rows == 1


def test_header_above_the_first_rule_stays_in_the_table(tmp_path: Path) -> None:
    """Rules under the header and between rows but none above the header."""
    doc = pymupdf.open()
    page = doc.new_page()
    _row(page, 100, HEADER)
    y = 106.0
    page.draw_line((66, y), (470, y), width=0.5)
    # two body rows: too few for a table found from text alignment alone
    for cells in BODY[:2]:
        _row(page, y + 14, cells)
        y += 20
        page.draw_line((66, y), (470, y), width=0.5)
    (table,) = convert_tables(doc, tmp_path, "header_above")
    assert text_grid(table) == [list(HEADER), *map(list, BODY[:2])]
    assert table.header_rows == 1


def test_column_rules_without_row_rules(tmp_path: Path) -> None:
    """A frame, a rule under the header and column rules, but no rules between body rows: each text
    line of the body is a row of its own."""
    doc = pymupdf.open()
    page = doc.new_page()
    top, head = 120.0, 140.0
    bottom = head + 16 * len(BODY) + 6
    for x in (66, 150, 230, 310, 470):
        page.draw_line((x, top), (x, bottom), width=0.5)
    for y in (top, head, bottom):
        page.draw_line((66, y), (470, y), width=0.5)
    _row(page, top + 14, HEADER)
    for k, cells in enumerate(BODY):
        _row(page, head + 14 + 16 * k, cells)
    (table,) = convert_tables(doc, tmp_path, "columns")
    assert text_grid(table) == [list(HEADER), *map(list, BODY)]
    assert table.header_rows == 1


def test_wrapped_cells_between_row_rules_stay_one_row(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    _row(page, 100, HEADER[:3], COLS[:3])
    y = 106.0
    page.draw_line((66, y), (400, y), width=0.5)
    for first, second in (("Long name", "of a place"), ("Short", ""), ("Another", "wrapped one")):
        _row(page, y + 14, (first, "12", "3.4"), COLS[:3])
        if second:
            page.insert_text((COLS[0], y + 27), second, fontsize=10)
        y += 34
        page.draw_line((66, y), (400, y), width=0.5)
    (table,) = convert_tables(doc, tmp_path, "wrapped")
    assert [row[0] for row in text_grid(table)] == [
        "Region",
        "Long name of a place",
        "Short",
        "Another wrapped one",
    ]


def test_prose_between_rules_is_no_table(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    y = 100.0
    for _ in range(3):
        page.draw_line((66, y), (520, y), width=0.5)
        for k in range(3):
            page.insert_text(
                (72, y + 14 + 13 * k),
                "A paragraph of running text that fills the line with words.",
                fontsize=10,
            )
        y += 50
    assert convert_tables(doc, tmp_path, "prose") == []


def test_section_rows_and_a_two_line_header_stay_in_one_table(tmp_path: Path) -> None:
    """No rules at all: rows spanning the width ("Male") label sections, and the header runs over
    two lines, its first line labelling a group of columns."""
    doc = pymupdf.open()
    page = doc.new_page()
    _prose(page, 80)
    page.insert_text((200, 120), "Annual income ($)", fontsize=10)
    _row(page, 133, ("Age group", "Lowest", "Median", "Highest"))
    y = 150.0
    rows = []
    for section in ("Male", "Female"):
        page.insert_text((COLS[0], y), section, fontsize=10)
        rows.append([section, "", "", ""])
        y += 13
        for k, age in enumerate(("Under 25", "25 to 44", "45 and over")):
            cells = (age, f"{11 + k},500", f"{30 + k},250", f"{70 + k},900")
            _row(page, y, cells)
            rows.append(list(cells))
            y += 13
    _prose(page, y + 30)
    (table,) = convert_tables(doc, tmp_path, "sections")
    grid = text_grid(table)
    assert grid[-len(rows) :] == rows
    header = " ".join(" ".join(r) for r in grid[: len(grid) - len(rows)])
    assert "Annual income ($)" in header and "Highest" in header
    assert table.header_rows == len(grid) - len(rows)


@pytest.mark.parametrize("column_rules", [True, False], ids=["grid", "row-rules"])
def test_table_on_a_page_turned_with_rotate_reads_as_displayed(tmp_path: Path, column_rules: bool) -> None:
    """/Rotate 90 with content drawn so that it reads upright on screen: the table must come out
    as a person sees it, not transposed."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.set_rotation(90)
    to_page = page.derotation_matrix  # displayed coordinates -> the content's own

    def line(a: tuple[float, float], b: tuple[float, float]) -> None:
        page.draw_line(pymupdf.Point(a) * to_page, pymupdf.Point(b) * to_page, width=0.5)

    rows = [HEADER, *BODY[:2]]  # too few rows for text alignment alone: the rules must be read
    top, bottom = 100.0, 100.0 + 20 * len(rows)
    for k, cells in enumerate(rows):
        for x, text in zip(COLS, cells, strict=True):
            page.insert_text(pymupdf.Point(x, top + 14 + 20 * k) * to_page, text, fontsize=10, rotate=90)
    for k in range(len(rows) + 1):
        line((66, top + 20 * k), (400, top + 20 * k))
    if column_rules:
        for x in (66, 150, 230, 310, 400):
            line((x, top), (x, bottom))
    (table,) = convert_tables(doc, tmp_path, "rotated")
    assert text_grid(table) == [list(r) for r in rows]


def test_typewriter_table_is_a_table_not_code(tmp_path: Path) -> None:
    """A monospaced statistical table: one text line per row, columns set apart by spaces."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 80), "Table 2. Households by region", fontsize=11)
    widths = (12, 12, 8, 8)
    for k, cells in enumerate([HEADER, *BODY]):
        text = "".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        page.insert_text((72, 110 + 12 * k), text, fontsize=10, fontname="cour")
    result = docpipe.convert(_save(doc, tmp_path / "typewriter.pdf"))
    blocks = [b for p in result.pages for b in p.blocks]
    (table,) = [b.table for b in blocks if b.type is BlockType.table]
    assert text_grid(table) == [list(HEADER), *map(list, BODY)]
    assert not [b for b in blocks if b.type is BlockType.code]


def _save(doc: pymupdf.Document, path: Path) -> Path:
    doc.save(path)
    return path


def test_ruled_grid_with_wrapped_cells_keeps_its_rows(tmp_path: Path) -> None:
    """A full grid whose cells wrap over three lines beside a label centred in its cell: one row
    per ruled band, not one per text line."""
    doc = pymupdf.open()
    page = doc.new_page()
    xs, top, band = (66.0, 150.0, 300.0, 450.0), 100.0, 46.0
    texts = [
        ("Area", "what it covers", "what it covers now"),
        ("Scope", "water and food", "all the others"),
        ("Target", "six named kinds", "seventeen named kinds"),
    ]
    for k, (label, left, right) in enumerate(texts):
        y = top + band * k
        page.insert_text((72, y + 27), label, fontsize=10)
        for x, text in ((156, left), (306, right)):
            for j, word in enumerate(text.split(" ", 2)):
                page.insert_text((x, y + 14 + 13 * j), word, fontsize=10)
    for k in range(len(texts) + 1):
        page.draw_line((xs[0], top + band * k), (xs[-1], top + band * k), width=0.5)
    for x in xs:
        page.draw_line((x, top), (x, top + band * len(texts)), width=0.5)
    (table,) = convert_tables(doc, tmp_path, "wrapped_grid")
    assert [row[0] for row in text_grid(table)] == ["Area", "Scope", "Target"]


def test_columns_set_tight_are_kept_apart(tmp_path: Path) -> None:
    """Gaps of under one font size between columns (the extractor joins each row into one line)."""
    doc = pymupdf.open()
    page = doc.new_page()
    _prose(page, 80)
    rows = [("Region", "Units", "Mean", "Delta"), *((r[0], r[1].replace(",", ""), r[2], r[3]) for r in BODY)]
    for k, cells in enumerate(rows):
        _row(page, 110 + 13 * k, cells, (72.0, 110.0, 141.0, 170.0))
    _prose(page, 110 + 13 * len(rows) + 20)
    (table,) = convert_tables(doc, tmp_path, "tight")
    assert text_grid(table) == [list(r) for r in rows]
