"""Columns that the text forms inside one ruled column.

A frame with shaded bands or a few rules around a block of figures gives PyMuPDF's finder fewer
columns than the table has: "Kruger  K2-1901  RR2Y  1.9" lands in one cell of every row. When the
runs of text in a column's body cells fall into the same separate x-intervals row after row, each
interval is a column of its own.
"""

from __future__ import annotations

from docpipe.engines.stacked_rows import Piece, join_pieces
from docpipe.model import TableCell, TableData
from docpipe.util.intervals import merge_overlapping

MIN_ROWS = 3  # body rows a column must fill before its text can say where it splits
PRESENT = 0.5  # share of those rows each sub-column must have text in
WORD_GAP = 0.6  # pieces of a line closer than this (in heights) are one run


def _runs(pieces: list[Piece]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for p in sorted((p for p in pieces if p.text.strip()), key=lambda p: (p.line, p.x0)):
        if out and out[-1][2] == p.line and p.x0 - out[-1][1] < WORD_GAP * max(p.height, 1.0):
            out[-1][1] = max(out[-1][1], p.x1)
        else:
            out.append([p.x0, p.x1, p.line])
    return [(a, b) for a, b, _ in out]


def _cuts(cells: list[TableCell], pieces: dict[int, list[Piece]]) -> list[float]:
    """x positions splitting one column, or none."""
    body = [c for c in cells if not c.is_header and any(p.text.strip() for p in pieces.get(id(c), []))]
    if len(body) < MIN_ROWS:
        return []
    runs = {id(c): _runs(pieces[id(c)]) for c in body}
    intervals = merge_overlapping(r for rs in runs.values() for r in rs)
    if len(intervals) < 2:
        return []
    height = sorted(p.height for c in body for p in pieces[id(c)])[len(body) // 2]
    if any(b[0] - a[1] < 0.5 * height for a, b in zip(intervals, intervals[1:], strict=False)):
        return []
    for lo, hi in intervals:
        rows = sum(1 for rs in runs.values() if any(lo <= a and b <= hi for a, b in rs))
        if rows < PRESENT * len(body):
            return []
    return [(a[1] + b[0]) / 2 for a, b in zip(intervals, intervals[1:], strict=False)]


def split_text_columns(data: TableData, pieces: dict[int, list[Piece]]) -> TableData:
    """`data` with each column whose body text forms separate aligned runs split into them.
    `pieces` holds each cell's text pieces, keyed by id(cell)."""
    cuts: dict[int, list[float]] = {}
    for c in range(data.n_cols):
        found = _cuts([cell for cell in data.cells if cell.col == c and cell.col_span == 1], pieces)
        if found:
            cuts[c] = found
    if not cuts:
        return data
    start = [0] * (data.n_cols + 1)
    for c in range(data.n_cols):
        start[c + 1] = start[c] + len(cuts.get(c, [])) + 1
    out: list[TableCell] = []
    for cell in data.cells:
        xs = cuts.get(cell.col) if cell.col_span == 1 else None
        if xs is None:
            span = start[cell.col + cell.col_span] - start[cell.col]
            out.append(cell.moved(col=start[cell.col], col_span=span))
            continue
        own = pieces.get(id(cell), [])
        edges = [float("-inf"), *xs, float("inf")]
        for k in range(len(xs) + 1):
            mine = [p for p in own if edges[k] <= p.cx < edges[k + 1]]
            bbox = cell.bbox
            if bbox is not None:
                bbox = (max(bbox[0], edges[k]), bbox[1], min(bbox[2], edges[k + 1]), bbox[3])
            out.append(cell.moved(col=start[cell.col] + k, col_span=1, text=join_pieces(mine), bbox=bbox))
    return TableData(n_rows=data.n_rows, n_cols=start[-1], cells=out, header_rows=data.header_rows)
