"""Tables drawn without rules, found from aligned runs of short text."""

from __future__ import annotations

from docpipe.assemble.stream_tables import find_stream_tables
from docpipe.model.raw import Line, Span


def line(text: str, x: float, y: float, *, bold: bool = False, size: float = 10.0) -> Line:
    bbox = (x, y, x + 5.0 * len(text), y + size)
    return Line(spans=[Span(text=text, bbox=bbox, size=size, bold=bold)], bbox=bbox)


def grid(rows: list[list[str]], top: float = 100.0, bold_first: bool = False) -> list[Line]:
    return [
        line(text, 72.0 + 60.0 * c, top + 14.0 * r, bold=bold_first and r == 0)
        for r, cells in enumerate(rows)
        for c, text in enumerate(cells)
    ]


def test_aligned_short_runs_make_a_table_and_leave_the_prose():
    prose = [line("A paragraph above the table, written as one long line of text.", 72.0, 40.0)]
    cells = grid(
        [["Name", "Count", "Share"], ["alpha", "12", "40%"], ["beta", "9", "30%"], ["gamma", "9", "30%"]]
    )
    tables, left = find_stream_tables(prose + cells)
    assert len(tables) == 1
    bbox, table = tables[0]
    assert (table.n_rows, table.n_cols) == (4, 3)
    assert [c.text for c in table.cells if c.row == 2] == ["beta", "9", "30%"]
    assert bbox[0] == 72.0 and bbox[1] == 100.0
    assert left == prose  # the table's lines are taken out of the running text


def test_a_bold_first_row_is_the_header():
    cells = grid([["Name", "Count", "Share"], ["alpha", "12", "40%"], ["beta", "9", "30%"]], bold_first=True)
    ((_, table),) = find_stream_tables(cells)[0]
    assert table.header_rows == 1 and all(c.is_header for c in table.cells if c.row == 0)


def test_prose_in_columns_and_two_column_rows_are_not_tables():
    words = "words that make up a normal sentence of prose"
    prose = grid([[words, words, words]] * 4)
    assert find_stream_tables(prose) == ([], prose)
    pairs = grid([["key", "value"]] * 5)  # fewer than three columns
    assert find_stream_tables(pairs) == ([], pairs)
