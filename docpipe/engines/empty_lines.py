"""Rows and columns of a table that hold no text anywhere: the slot between a double rule the
grid did not merge, a rotated label's column left empty, the strip under a shaded band. A reader
sees no row or column there, and an empty cell between a label and its value breaks the pair."""

from __future__ import annotations

from docpipe.model import TableCell, TableData


def _first(c: TableCell, axis: str) -> int:
    return c.col if axis == "col" else c.row


def _span(c: TableCell, axis: str) -> int:
    return c.col_span if axis == "col" else c.row_span


def _empty_slots(cells: list[TableCell], n: int, axis: str) -> set[int]:
    """Slots whose own cells (one slot wide) are all empty; wider cells over them just shrink."""
    out: set[int] = set()
    for k in range(n):
        single = [c for c in cells if _first(c, axis) == k and _span(c, axis) == 1]
        if single and all(not c.text.strip() for c in single):
            out.add(k)
    return out


def _drop(cells: list[TableCell], n: int, gone: set[int], axis: str) -> tuple[list[TableCell], int]:
    new_index = [0] * (n + 1)
    for k in range(n):
        new_index[k + 1] = new_index[k] + (0 if k in gone else 1)
    out: list[TableCell] = []
    for c in cells:
        first, span = _first(c, axis), _span(c, axis)
        if span == 1 and first in gone:
            continue
        a, b = new_index[first], new_index[first + span]
        if b <= a:
            continue
        if axis == "col":
            c.col, c.col_span = a, b - a
        else:
            c.row, c.row_span = a, b - a
        out.append(c)
    return out, new_index[n]


def drop_empty_lines(table: TableData) -> TableData:
    """`table` without rows and columns that are empty in every cell."""
    cells = list(table.cells)
    rows = _empty_slots(cells, table.n_rows, "row")
    cols = _empty_slots(cells, table.n_cols, "col")
    if not rows and not cols:
        return table
    if len(rows) >= table.n_rows or len(cols) >= table.n_cols:
        return table
    header_rows = table.header_rows - sum(1 for r in rows if r < table.header_rows)
    cells, n_rows = _drop(cells, table.n_rows, rows, "row")
    cells, n_cols = _drop(cells, table.n_cols, cols, "col")
    return TableData(n_rows=n_rows, n_cols=n_cols, cells=cells, header_rows=max(header_rows, 0))
