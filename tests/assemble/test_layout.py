"""Content, order and structure of generated born-digital PDFs through the textlayer engine."""

from __future__ import annotations

import docpipe
from docpipe.model import BlockType


def _blocks(doc, *types):
    return [b for p in doc.pages for b in p.blocks if not types or b.type in types]


def test_two_columns_read_top_to_bottom_then_left_to_right(pdfs, fixtures_mod):
    f = fixtures_mod
    doc = docpipe.convert(pdfs["two_column"], engine="textlayer")
    texts = [b.text for b in _blocks(doc)]
    expected = [f.TITLE, *f.LEFT_COLUMN, *f.RIGHT_COLUMN, f.FULL_WIDTH_HEADING, f.BOTTOM_LEFT, f.BOTTOM_RIGHT]
    assert texts == expected
    title, *_ = _blocks(doc)
    assert title.type is BlockType.title and title.level == 1
    heading = _blocks(doc, BlockType.heading)[0]
    assert heading.text == f.FULL_WIDTH_HEADING and heading.level == 2


def test_hyphenation_lists_and_code(pdfs, fixtures_mod):
    doc = docpipe.convert(pdfs["hyphenated"], engine="textlayer")
    paragraphs = [b.text for b in _blocks(doc, BlockType.paragraph)]
    assert paragraphs[0] == fixtures_mod.HYPHEN_JOINED
    assert "state-of-the-art result" in paragraphs[1]
    items = [b.text for b in _blocks(doc, BlockType.list_item)]
    assert items == ["First item of the list", "Second item of the list"]
    code = _blocks(doc, BlockType.code)
    assert len(code) == 1 and code[0].text == "def area(r):\n    return 3.14159 * r * r"
    footnotes = _blocks(doc, BlockType.footnote)
    assert [b.text for b in footnotes] == [fixtures_mod.FOOTNOTE]
    md = docpipe.to_markdown(doc)
    assert "- First item of the list\n\n- Second item of the list" in md
    assert "```\ndef area(r):\n    return 3.14159 * r * r\n```" in md


def test_table_with_spans_and_header_rows(pdfs):
    doc = docpipe.convert(pdfs["table_spans"], engine="textlayer")
    tables = _blocks(doc, BlockType.table)
    assert len(tables) == 1
    t = tables[0].table
    assert (t.n_rows, t.n_cols, t.header_rows) == (4, 3, 2)
    cells = {(c.row, c.col): c for c in t.cells}
    assert (cells[0, 0].text, cells[0, 0].row_span, cells[0, 0].col_span) == ("Region", 2, 1)
    assert (cells[0, 1].text, cells[0, 1].row_span, cells[0, 1].col_span) == ("Sales", 1, 2)
    assert [cells[3, c].text for c in range(3)] == ["South", "98", "110"]
    assert all(cells[r, c].is_header for r, c in cells if r < 2)
    md = docpipe.to_markdown(doc)
    assert '<th rowspan="2">Region</th><th colspan="2">Sales</th>' in md
    # the table's words are not repeated as loose paragraphs
    assert [b.text for b in _blocks(doc, BlockType.paragraph)] == [
        "The table below lists sales figures for two years.",
        "Sales grew in both regions.",
    ]


def test_running_headers_footers_and_page_numbers_stay_out_of_markdown(pdfs, fixtures_mod):
    doc = docpipe.convert(pdfs["furniture"], engine="textlayer")
    for i, page in enumerate(doc.pages):
        types = {b.type: b.text for b in page.blocks}
        assert types[BlockType.page_header] == fixtures_mod.HEADER_TEXT
        assert types[BlockType.page_footer] == fixtures_mod.FOOTER_TEXT
        assert types[BlockType.page_number] == str(i + 1)
    md = docpipe.to_markdown(doc)
    assert fixtures_mod.HEADER_TEXT not in md and fixtures_mod.FOOTER_TEXT not in md
    assert md.count("body text that is unique") == 4


def test_pipe_table_without_spans():
    from docpipe.model import TableCell, TableData
    from docpipe.writers.tables import to_markdown

    t = TableData(
        n_rows=2,
        n_cols=2,
        header_rows=1,
        cells=[
            TableCell(row=r, col=c, text=f"r{r}|c{c}", is_header=r == 0) for r in range(2) for c in range(2)
        ],
    )
    assert to_markdown(t) == "| r0\\|c0 | r0\\|c1 |\n|---|---|\n| r1\\|c0 | r1\\|c1 |"


def test_table_without_rules_and_prose_columns_that_stay_prose(pdfs, fixtures_mod):
    doc = docpipe.convert(pdfs["borderless"], engine="textlayer")
    tables = _blocks(doc, BlockType.table)
    assert len(tables) == 1
    t = tables[0].table
    grid = [[c.text for c in t.cells if c.row == r] for r in range(t.n_rows)]
    assert grid == fixtures_mod.BORDERLESS_ROWS and t.header_rows == 1
    paragraphs = [b.text for b in _blocks(doc, BlockType.paragraph)]
    assert paragraphs == ["Water quality by station.", *fixtures_mod.PROSE_COLUMNS]
