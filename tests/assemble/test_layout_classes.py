"""Reading order, furniture and misjoined lines on real-world layouts (issue 11: order, boxes,
furniture), on generated PDFs and on the engine's own line objects where MuPDF's quirk cannot be
produced on demand."""

from __future__ import annotations

from pathlib import Path

import pymupdf

import docpipe
from docpipe.assemble.regions import Region, attach_drop_caps, group_lines
from docpipe.engines.textlayer import split_misjoined_spans
from docpipe.model import BlockType
from docpipe.model.raw import Line, Span

W, H = 595.0, 842.0


def _convert(path: Path) -> tuple[docpipe.Document, str]:
    doc = docpipe.convert(path, engine="textlayer")
    return doc, docpipe.to_markdown(doc)


def _span(text: str, x0: float, y0: float, x1: float, y1: float, size: float) -> Span:
    return Span(text=text, bbox=(x0, y0, x1, y1), size=size)


# -- lines MuPDF joins wrongly ---------------------------------------------------------------------


def test_a_line_whose_spans_sit_on_two_rows_is_cut():
    # drawing order: big "Big", small "Small", big "Text" (back up on the title row)
    spans = [_span("Small", 99, 573, 130, 587, 12), _span("Text", 301, 426, 531, 564, 116)]
    parts = split_misjoined_spans(spans)
    assert parts is not None and [[s.text for s in p] for p in parts] == [["Small"], ["Text"]]


def test_superscripts_and_spaces_stay_on_their_line():
    spans = [
        _span("E = mc", 100, 100, 140, 112, 10),
        _span("2", 140, 97, 144, 105, 6),  # raised, but overlapping the line's rows
        _span(" ", 144, 100, 147, 112, 10),
        _span("holds", 147, 100, 175, 112, 10),
    ]
    assert split_misjoined_spans(spans) is None


def test_a_margin_note_is_cut_from_a_drop_cap_across_the_gutter():
    # a space span stretching across the gutter, then the paragraph's big first letter
    spans = [
        _span("Richard Henderson", 60, 301, 132, 312, 9),
        _span(" ", 132, 262, 165, 372, 47.6),
        _span("T", 165, 291, 200, 372, 47.6),
    ]
    parts = split_misjoined_spans(spans)
    assert parts is not None and [p[0].text for p in parts] == ["Richard Henderson", "T"]


def test_words_of_one_row_in_different_engine_blocks_are_joined():
    big = [
        Line([_span("Big", 99, 426, 277, 564, 116)], (99, 426, 277, 564), block_hint=0),
        Line([_span("Text", 301, 426, 531, 564, 116)], (301, 426, 531, 564), block_hint=1),
    ]
    small = [
        Line([_span("Small", 99, 573, 130, 587, 12)], (99, 573, 130, 587), block_hint=1),
        Line([_span("Text", 134, 573, 157, 587, 12)], (134, 573, 157, 587), block_hint=2),
    ]
    texts = [" ".join(ln.text for ln in r.lines) for r in group_lines(big + small)]
    assert texts == ["Big Text", "Small Text"]


def test_table_cells_a_column_gap_apart_stay_apart():
    cells = [
        Line([_span("Alabama", 50, 100, 90, 110, 10)], (50, 100, 90, 110), block_hint=0),
        Line([_span("12,345", 150, 100, 180, 110, 10)], (150, 100, 180, 110), block_hint=1),
    ]
    assert len(group_lines(cells)) == 2
    # typewriter cells: the left cell's box runs up to the next one through its trailing spaces
    typed = [
        Line(
            [_span("AMERICAN EAGLE      ", 101, 155, 212.3, 165, 8.5)], (101, 155, 212.3, 165), block_hint=0
        ),
        Line([_span("AIRLINES INC", 212.6, 155, 299, 165, 8.5)], (212.6, 155, 299, 165), block_hint=1),
    ]
    assert len(group_lines(typed)) == 2


def test_a_drop_cap_joins_its_paragraph():
    cap = Region(
        bbox=(165, 291, 200, 372), lines=[Line([_span("T", 165, 291, 200, 372, 47.6)], (165, 291, 200, 372))]
    )
    cap.text = "T"
    first = Line([_span("his release of the", 203, 301, 361, 312, 11)], (203, 301, 361, 312))
    under = Line([_span("projections which", 165, 380, 361, 391, 11)], (165, 380, 361, 391))
    para = Region(
        bbox=(165, 301, 361, 391), lines=[first, under], text="his release of the projections which"
    )
    out = attach_drop_caps([cap, para])
    assert [r.text for r in out] == ["This release of the projections which"]
    far = Line([_span("text further on", 400, 500, 500, 520, 11)], (400, 500, 500, 520))
    big_word = Region(bbox=cap.bbox, lines=cap.lines, text="A")  # not beside any paragraph
    assert len(attach_drop_caps([big_word, Region(bbox=far.bbox, lines=[far], text="text further on")])) == 2


# -- furniture -------------------------------------------------------------------------------------


def test_framed_notice_in_the_top_margin_of_a_one_page_document_is_content(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    page.draw_rect(pymupdf.Rect(40, 24, 555, 66), color=(0, 0, 0), width=0.3)
    page.insert_text((150, 40), "The full text archive of this journal is available online", fontsize=7)
    page.insert_text((150, 54), "www.example.org/archive", fontsize=7)
    for i in range(20):
        page.insert_text(
            (72, 120 + 16 * i), f"Body line {i} of the article, set in the running text size.", fontsize=10
        )
    path = tmp_path / "framed.pdf"
    doc.save(path)
    d, md = _convert(path)
    assert "full text archive of this journal" in md and "www.example.org/archive" in md
    # without the frame the same line is a running head (single-occurrence furniture)
    doc = pymupdf.open(path)
    doc[0].add_redact_annot(pymupdf.Rect(30, 20, 565, 30))
    doc[0].add_redact_annot(pymupdf.Rect(30, 62, 565, 70))
    doc[0].apply_redactions(images=0, graphics=2, text=1)
    doc.save(tmp_path / "unframed.pdf")
    _, md = _convert(tmp_path / "unframed.pdf")
    assert "full text archive of this journal" not in md


def test_a_note_beside_the_page_number_is_content(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    for i in range(20):
        page.insert_text(
            (72, 100 + 16 * i), f"Row {i} of the disclosure report with its amounts.", fontsize=10
        )
    page.insert_text(
        (72, H - 40), "*Some payments have been made in conjunction with business partners.", fontsize=7
    )
    page.insert_text((W - 60, H - 38), "1", fontsize=7)
    path = tmp_path / "note.pdf"
    doc.save(path)
    d, md = _convert(path)
    assert "Some payments have been made in conjunction with business partners." in md
    assert [b.text for b in d.pages[0].blocks if b.type is BlockType.page_number] == ["1"]


def test_running_heads_and_folios_in_a_side_column_are_furniture(tmp_path):
    doc = pymupdf.open()
    for i in range(6):
        page = doc.new_page(width=W, height=H)
        left = i % 2 == 0
        side_x = 30 if left else W - 110
        body_x = 150 if left else 60
        page.insert_text((side_x, 110), "ER 29,2" if left else "Shift work", fontsize=11)
        page.insert_text((side_x, 170), str(161 + i), fontsize=11)
        for n in range(30):
            page.insert_text(
                (body_x, 100 + 18 * n), f"Page {i} line {n}: running text of the article body.", fontsize=10
            )
    path = tmp_path / "side.pdf"
    doc.save(path)
    d, md = _convert(path)
    assert "ER 29,2" not in md and "Shift work" not in md
    for n in range(161, 167):
        assert f"\n{n}\n" not in f"\n{md}\n"
    folios = [b.text for p in d.pages for b in p.blocks if b.type is BlockType.page_number]
    assert folios == [str(161 + i) for i in range(6)]


def test_fixed_numbers_of_a_form_are_not_folios(tmp_path):
    doc = pymupdf.open()
    for _ in range(3):
        page = doc.new_page(width=W, height=H)
        page.insert_text((300, 300), "7", fontsize=11)  # the same number on every page: not counting up
        page.insert_text((72, 200), "Question seven asks for the number of dependants.", fontsize=10)
    path = tmp_path / "form.pdf"
    doc.save(path)
    d, _ = _convert(path)
    assert all(b.type is not BlockType.page_number for p in d.pages for b in p.blocks)


# -- reading order ---------------------------------------------------------------------------------


def test_a_title_above_form_fields_comes_first(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    page.insert_text((167, 95), "Example for a Form", fontsize=24)
    page.insert_text((57, 132), "First Name", fontsize=10)
    page.insert_text((122, 132), "Alice", fontsize=10)
    page.insert_text((216, 132), "Last Name", fontsize=10)
    page.insert_text((57, 178), "Gender:", fontsize=10)
    page.insert_text((57, 220), "Nationality:", fontsize=10)
    path = tmp_path / "form.pdf"
    doc.save(path)
    _, md = _convert(path)
    assert md.index("Example for a Form") < md.index("First Name")


def test_a_grid_of_labels_reads_row_by_row(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((77, 105), "Create Basic Shapes", fontsize=14)
    rows = [
        ("Isosceles Triangle", "Pentagon"),
        ("Right Arrow", "Four Point Star"),
        ("Rounded Callout", "Heart"),
    ]
    for r, (left, right) in enumerate(rows):
        y = 235 + 95 * r
        page.insert_text((36, y), left, fontsize=10)
        page.insert_text((325, y), right, fontsize=10)
    path = tmp_path / "grid.pdf"
    doc.save(path)
    _, md = _convert(path)
    order = [md.index(t) for row in rows for t in row]
    assert order == sorted(order)
    assert md.index("Create Basic Shapes") < order[0]


def test_two_text_columns_still_read_column_by_column(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    page.insert_text((60, 80), "A Title Across the Page", fontsize=20)
    for col, x in enumerate((60, 320)):
        for para in range(3):
            for n in range(4):
                y = 120 + para * 90 + n * 14
                page.insert_text((x, y), f"Column {col} paragraph {para} line {n} of text.", fontsize=10)
    path = tmp_path / "cols.pdf"
    doc.save(path)
    _, md = _convert(path)
    assert md.index("Column 0 paragraph 2") < md.index("Column 1 paragraph 0")


def test_a_right_column_heading_set_higher_than_the_left_column_stays_in_its_column(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    for n in range(12):
        page.insert_text(
            (60, 160 + 14 * n), f"Left column line {n} continuing the running text.", fontsize=10
        )
    page.insert_text((320, 110), "(3) A Later Section", fontsize=14)
    for n in range(8):
        page.insert_text(
            (320, 140 + 14 * n), f"Right column line {n} under the section heading.", fontsize=10
        )
    path = tmp_path / "right_heading.pdf"
    doc.save(path)
    _, md = _convert(path)
    assert md.index("Left column line 11") < md.index("(3) A Later Section") < md.index("Right column line 0")
