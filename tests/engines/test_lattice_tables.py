"""Fully ruled grids as real documents draw them: shading rectangles with swapped corners, double
frames, group headers over columns whose rules start below them, and ruled groups of several rows
of figures. Each must come out as the grid a reader sees."""

from __future__ import annotations

from pathlib import Path

import pymupdf

import docpipe

from .table_helpers import convert_tables, text_grid

XS = (70.0, 150.0, 250.0, 350.0)  # column rules of a three-column grid


def _append_content(doc: pymupdf.Document, page: pymupdf.Page, stream: bytes) -> None:
    """Raw drawing operators after the page's own content (PyMuPDF's helpers normalise rectangles)."""
    page.wrap_contents()
    xref = doc.get_new_xref()
    doc.update_object(xref, "<<>>")
    doc.update_stream(xref, stream)
    old = [int(x) for x in page.get_contents()]
    refs = " ".join(f"{x} 0 R" for x in [*old, xref])
    doc.xref_set_key(page.xref, "Contents", f"[{refs}]")


def _ruledtext_grid(page: pymupdf.Page, ys: list[float], xs: tuple[float, ...] = XS) -> None:
    for y in ys:
        page.draw_line((xs[0], y), (xs[-1], y), width=0.6)
    for x in xs:
        page.draw_line((x, ys[0]), (x, ys[-1]), width=0.6)


ROWS = [
    ("Site", "North", "East"),
    ("7", "5429644", "556907"),
    ("8", "5429665", "559270"),
    ("9", "5430817", "559671"),
]


def _fill_rows(
    page: pymupdf.Page, top: float, rows: list[tuple[str, ...]] = ROWS, band: float = 22.0
) -> None:
    for k, row in enumerate(rows):
        for x, text in zip(XS, row, strict=False):
            page.insert_text((x + 5, top + band * k + 15), text, fontsize=10)


def test_shading_drawn_with_swapped_corners_adds_no_columns(tmp_path: Path) -> None:
    """Header shading as `x y -w h re` (drawn right to left): a wide fill, never a column rule."""
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top + 22.0 * k for k in range(len(ROWS) + 1)]
    _ruledtext_grid(page, ys)
    _fill_rows(page, top)
    # PDF user space runs bottom up: y_pdf = height - y
    h = page.rect.height
    fills = b"".join(
        f"0.9 g {b:.1f} {h - top - 22:.1f} {a - b:.1f} 22 re f\n".encode()
        for a, b in zip(XS, XS[1:], strict=False)
    )
    _append_content(doc, page, b"q\n" + fills + b"Q\n")
    (table,) = convert_tables(doc, tmp_path, "swapped")
    assert text_grid(table) == [list(r) for r in ROWS]


def test_double_frame_adds_no_empty_rows_or_columns(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top + 22.0 * k for k in range(len(ROWS) + 1)]
    _ruledtext_grid(page, ys)
    outer = pymupdf.Rect(XS[0] - 2, ys[0] - 2, XS[-1] + 2, ys[-1] + 2)
    page.draw_rect(outer, width=0.6)
    page.draw_line((XS[0], ys[1] + 1.8), (XS[-1], ys[1] + 1.8), width=0.6)  # double rule under the header
    _fill_rows(page, top)
    (table,) = convert_tables(doc, tmp_path, "double")
    assert text_grid(table) == [list(r) for r in ROWS]


def test_group_header_over_columns_is_not_cut_by_their_rule(tmp_path: Path) -> None:
    """ "Coordinates" centred over North and East, whose dividing rule starts under it."""
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top, top + 18.0] + [top + 18.0 + 22.0 * k for k in range(1, len(ROWS) + 1)]
    for y in ys:
        x0 = XS[1] if y == ys[1] else XS[0]
        page.draw_line((x0, y), (XS[-1], y), width=0.6)
    for x in XS:
        page.draw_line((x, ys[1] if x == XS[2] else ys[0]), (x, ys[-1]), width=0.6)
    page.insert_text((XS[2] - 28, top + 13), "Coordinates", fontsize=10)
    _fill_rows(page, top + 18.0)
    (table,) = convert_tables(doc, tmp_path, "group")
    texts = [c.text for c in table.cells]
    assert "Coordinates" in texts
    assert text_grid(table)[-1] == list(ROWS[-1])


def test_ruled_groups_of_figure_rows_split_into_rows(tmp_path: Path) -> None:
    """Rules only around groups of months: each month is a row of its own."""
    doc = pymupdf.open()
    page = doc.new_page()
    groups = [
        [
            ("Apr-2015", "653,278", "107.5"),
            ("May-2015", "686,908", "110.9"),
            ("Jun-2015", "667,181", "108.0"),
        ],
        [("Q1 total", "2,007,367", "108.8")],
        [("Jul-2015", "698,352", "104.5"), ("Aug-2015", "721,817", "99.7")],
    ]
    top, line = 100.0, 12.0
    ys = [top, top + 20.0]
    page.insert_text((XS[0] + 5, top + 14), "Month", fontsize=10)
    page.insert_text((XS[1] + 5, top + 14), "Passengers", fontsize=10)
    page.insert_text((XS[2] + 5, top + 14), "y.o.y(%)", fontsize=10)
    y = ys[-1]
    for group in groups:
        for k, row in enumerate(group):
            for x, text in zip(XS, row, strict=False):
                page.insert_text((x + 5, y + 12 + line * k), text, fontsize=10)
        y += line * len(group) + 6
        ys.append(y)
    _ruledtext_grid(page, ys)
    (table,) = convert_tables(doc, tmp_path, "stacked")
    body = [row for g in groups for row in g]
    assert text_grid(table) == [["Month", "Passengers", "y.o.y(%)"], *map(list, body)]


def test_ruled_row_of_wrapped_words_stays_one_row(tmp_path: Path) -> None:
    """Two cells wrapping on the same baselines ("Northing / (metres)") hold words, not rows of
    figures: one row."""
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top, top + 32.0, top + 54.0, top + 76.0]
    for x, words in zip(XS, (("Site", ""), ("Northing", "(metres)"), ("Easting", "(metres)")), strict=False):
        for k, word in enumerate(words):
            if word:
                page.insert_text((x + 5, top + 13 + 12 * k), word, fontsize=10)
    _fill_rows(page, top + 32.0, ROWS[1:3])
    _ruledtext_grid(page, ys)
    (table,) = convert_tables(doc, tmp_path, "wrapped")
    assert text_grid(table)[0] == ["Site", "Northing (metres)", "Easting (metres)"]
    assert table.n_rows == 3


def test_cell_of_touching_spans_reads_as_one_word(tmp_path: Path) -> None:
    """ "60000≤Q" and "<80000" set in two fonts that touch: one word in the cell, as on the page."""
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top + 22.0 * k for k in range(len(ROWS) + 1)]
    _ruledtext_grid(page, ys)
    _fill_rows(page, top, [*ROWS[:-1], ("9", "", "559671")])
    x = XS[1] + 5
    page.insert_text((x, top + 22.0 * 3 + 15), "60000-Q", fontsize=10, fontname="helv")
    x += pymupdf.get_text_length("60000-Q", fontname="helv", fontsize=10)
    page.insert_text((x, top + 22.0 * 3 + 15), "<80000", fontsize=10, fontname="tiro")
    (table,) = convert_tables(doc, tmp_path, "touching")
    assert text_grid(table)[-1] == ["9", "60000-Q<80000", "559671"]


def test_overprinted_table_text_reads_once(tmp_path: Path) -> None:
    """Every cell drawn twice (fake bold) and a second, partial copy of one: each text once."""
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top + 22.0 * k for k in range(len(ROWS) + 1)]
    _ruledtext_grid(page, ys)
    _fill_rows(page, top)
    _fill_rows(page, top)
    page.insert_text((XS[1] + 5, top + 22.0 + 15), "5429 44", fontsize=10)  # a copy missing a glyph
    page.insert_text((72, 300), "Sites 7B and 8B have no coordinates.", fontsize=10)
    page.insert_text((72, 300), "Sites 7B and 8B have no coordinates.", fontsize=10)
    (table,) = convert_tables(doc, tmp_path, "overprint")
    assert text_grid(table) == [list(r) for r in ROWS]
    markdown = docpipe.to_markdown(docpipe.convert(tmp_path / "overprint.pdf"))
    assert markdown.count("Sites 7B and 8B") == 1


def test_body_without_column_rules_under_a_ruled_header_reads_as_rows(tmp_path: Path) -> None:
    """Column rules through the header only; the body is one open box of records, some wrapping
    their last column onto a second line."""
    doc = pymupdf.open()
    page = doc.new_page()
    xs = (60.0, 140.0, 220.0, 420.0, 500.0)
    top, head = 100.0, 120.0
    records = [
        ("DH0001", "05/03/2019", "STAFF TRANSPORTATION", "920.68"),
        ("DH0002", "05/24/2019", "STAFF TRANSPORTATION", "907.96"),
        ("DH0003", "05/03/2019", "SENATOR TRANSPORTATION", "737.94"),
    ]
    for x, text in zip(xs, ("DOCUMENT NO.", "DATE", "DESCRIPTION", "AMOUNT"), strict=False):
        page.insert_text((x + 4, top + 14), text, fontsize=9)
    y = head + 14
    for rec in records:
        for x, text in zip(xs, rec, strict=False):
            page.insert_text((x + 4, y), text, fontsize=9)
        page.insert_text((xs[2] + 4, y + 11), "AIRFARE TO WASHINGTON DC", fontsize=9)
        y += 26
    bottom = y
    for yy in (top, head, bottom):
        page.draw_line((xs[0], yy), (xs[-1], yy), width=0.6)
    for x in xs:
        page.draw_line((x, top), (x, head if x not in (xs[0], xs[-1]) else bottom), width=0.6)
    (table,) = convert_tables(doc, tmp_path, "open_band")
    grid = text_grid(table)
    assert grid[0] == ["DOCUMENT NO.", "DATE", "DESCRIPTION", "AMOUNT"]
    assert grid[1:] == [[a, b, f"{c} AIRFARE TO WASHINGTON DC", d] for a, b, c, d in records]


def test_text_columns_inside_a_ruled_column_are_columns(tmp_path: Path) -> None:
    """A frame whose one inner rule runs past it (PyMuPDF's finder reads it) around four columns
    of text, two of them to a ruled column; the text drawn twice. Four columns, each text once."""
    doc = pymupdf.open()
    page = doc.new_page()
    top, xs = 100.0, (70.0, 130.0, 250.0, 310.0)
    rows = [
        ("Kruger", "K2-1901", "56.4", "7.6"),
        ("Stine", "19RA02", "55.3", "7.6"),
        ("Hefty", "H17Y12", "53.7", "7.7"),
    ]
    rows += [("Asgrow", "AG1832", "52.9", "7.7")]
    for _ in range(2):
        for k, row in enumerate(rows):
            for x, text in zip(xs, row, strict=True):
                page.insert_text((x, top + 16 + 18 * k), text, fontsize=10)
    bottom = top + 18 * len(rows) + 6
    page.draw_rect(pymupdf.Rect(64, top, 360, bottom), width=0.6)
    page.draw_line((240, top - 12), (240, bottom), width=0.6)
    for k in range(1, len(rows)):
        page.draw_line((64, top + 3 + 18 * k), (360, top + 3 + 18 * k), width=0.6)
    (table,) = convert_tables(doc, tmp_path, "text_columns")
    assert text_grid(table) == [list(r) for r in rows]


def test_empty_spacer_row_and_column_are_dropped(tmp_path: Path) -> None:
    """A ruled spacer band under the header and an empty ruled column at the right edge."""
    doc = pymupdf.open()
    page = doc.new_page()
    top = 100.0
    ys = [top, top + 22.0, top + 28.0] + [top + 28.0 + 22.0 * k for k in range(1, len(ROWS))]
    _ruledtext_grid(page, ys, (*XS, 380.0))
    _fill_rows(page, top, ROWS[:1])
    _fill_rows(page, top + 28.0 - 22.0, [("", "", ""), *ROWS[1:]])
    (table,) = convert_tables(doc, tmp_path, "spacer")
    assert text_grid(table) == [list(r) for r in ROWS]


def test_group_key_on_the_first_line_spans_the_split_rows(tmp_path: Path) -> None:
    """ "6 | OTSL 0.965 / HTML 0.969": the layer count on the group's first line belongs to both
    rows it rules off together, so it spans them."""
    doc = pymupdf.open()
    page = doc.new_page()
    top, line = 100.0, 12.0
    ys = [top, top + 20.0]
    for x, text in zip(XS[:3], ("Layers", "Language", "TEDs"), strict=True):
        page.insert_text((x + 5, top + 14), text, fontsize=10)
    y = ys[-1]
    for layers, scores in (("6", ("0.965", "0.969")), ("4", ("0.938", "0.952"))):
        page.insert_text((XS[0] + 5, y + 12), layers, fontsize=10)
        for k, (lang, score) in enumerate(zip(("OTSL", "HTML"), scores, strict=True)):
            page.insert_text((XS[1] + 5, y + 12 + line * k), lang, fontsize=10)
            page.insert_text((XS[2] + 5, y + 12 + line * k), score, fontsize=10)
        y += 2 * line + 6
        ys.append(y)
    _ruledtext_grid(page, ys)
    (table,) = convert_tables(doc, tmp_path, "group_key")
    assert table.n_rows == 5 and table.header_rows == 1
    keys = [(c.row, c.row_span, c.text) for c in table.cells if c.col == 0]
    assert keys == [(0, 1, "Layers"), (1, 2, "6"), (3, 2, "4")]
    assert text_grid(table)[2] == ["", "HTML", "0.969"]
