"""Reading tables out of Markdown: pipe tables and HTML tables with spans."""

from __future__ import annotations

from docpipe.eval.tables import extract_tables, parse_html_tables, parse_markdown_tables


def test_pipe_table_cells_and_header() -> None:
    md = "intro\n\n| a | b \\| c |\n| :-- | --: |\n| **1** | 2 |\n| 3 |\n\nafter"
    (table,) = parse_markdown_tables(md)
    assert (table.n_rows, table.n_cols) == (3, 2)
    assert [c.text for c in table.cells] == ["a", "b | c", "**1**", "2", "3", ""]
    assert [c.header for c in table.cells[:2]] == [True, True]
    assert not table.cells[2].header


def test_pipe_tables_inside_code_fences_are_ignored() -> None:
    md = "```\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n"
    assert parse_markdown_tables(md) == []


def test_html_spans_fill_the_grid() -> None:
    html = (
        '<table><tr><td rowspan="2">A</td><td colspan="2">B</td></tr>'
        "<tr><td>C</td><td>D<br>E</td></tr></table>"
    )
    (table,) = parse_html_tables(html)
    assert (table.n_rows, table.n_cols) == (2, 3)
    grid = table.grid()
    assert grid == [[0, 1, 1], [0, 2, 3]]
    assert table.cells[3].text == "D E"
    assert (table.cells[2].row, table.cells[2].col) == (1, 1)


def test_thead_and_th_mark_headers_and_nested_tables_stay_inside() -> None:
    html = (
        "<table><thead><tr><td>h</td></tr></thead><tbody><tr><th>x</th></tr>"
        "<tr><td><table><tr><td>inner</td></tr></table></td></tr></tbody></table>"
    )
    (table,) = parse_html_tables(html)
    assert [c.header for c in table.cells] == [True, True, False]
    assert table.cells[2].text == "inner"


def test_extract_tables_keeps_document_order() -> None:
    md = "| p |\n|---|\n| 1 |\n\n<table><tr><td>h</td></tr></table>\n\n| q |\n|---|\n| 2 |\n"
    assert [t.cells[0].text for t in extract_tables(md)] == ["p", "h", "q"]


def test_malformed_spans_are_clamped() -> None:
    (table,) = parse_html_tables(
        '<table><tr><td colspan="x">a</td><td rowspan="99999999">b</td></tr></table>'
    )
    assert table.cells[0].colspan == 1
    assert table.cells[1].rowspan == 1000
