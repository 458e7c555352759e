"""Ruled tables from the text layer, as cell grids with row/column spans and header rows.

PyMuPDF's finder with `refine=True` resolves merged cells into HTML-like placements (each row lists
the cells that start in it). We skip it on pages without enough straight vector segments to draw a
grid: the finder would find nothing there and costs 30-120 ms a page.
"""

from __future__ import annotations

import unicodedata

import pymupdf

from docpipe.engines.base import Rect
from docpipe.model import TableCell, TableData

MIN_RULE_SEGMENTS = 4


def _count_rules(page: pymupdf.Page) -> int:
    """Horizontal/vertical line segments and thin rectangles: what a ruled table is drawn with."""
    count = 0
    for path in page.get_cdrawings():
        for item in path.get("items", ()):
            kind = item[0]
            if kind == "l":
                p1, p2 = item[1], item[2]
                if abs(p1[0] - p2[0]) < 1 or abs(p1[1] - p2[1]) < 1:
                    count += 1
            elif kind == "re":
                r = pymupdf.Rect(item[1])
                count += 4 if min(r.width, r.height) > 3 else 1
    return count


def _clean(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(text.replace("\u00ad", "").split())


def placements_to_table(placements: list[list], header_rows: int) -> TableData:
    """Lay HTML-style rows of (colspan, rowspan) cells onto a grid, as a browser would."""
    occupied: set[tuple[int, int]] = set()
    cells: list[TableCell] = []
    n_cols = 0
    for r, row in enumerate(placements):
        c = 0
        for cell in row:
            while (r, c) in occupied:
                c += 1
            rs, cs = max(1, int(cell.rowspan)), max(1, int(cell.colspan))
            for dr in range(rs):
                for dc in range(cs):
                    occupied.add((r + dr, c + dc))
            bbox = tuple(float(v) for v in cell.bbox) if cell.bbox is not None else None
            cells.append(
                TableCell(
                    row=r,
                    col=c,
                    row_span=rs,
                    col_span=cs,
                    text=_clean(cell.text),
                    is_header=getattr(cell, "tag", "td") == "th" or r < header_rows,
                    bbox=bbox,
                )
            )
            c += cs
            n_cols = max(n_cols, c)
    n_rows = max((r for r, _ in occupied), default=-1) + 1
    return TableData(n_rows=n_rows, n_cols=n_cols, cells=cells, header_rows=header_rows)


def grid_to_table(rows: list[list[str | None]], header_rows: int) -> TableData:
    cells = [
        TableCell(row=r, col=c, text=_clean(text), is_header=r < header_rows)
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    n_cols = max((len(r) for r in rows), default=0)
    return TableData(n_rows=len(rows), n_cols=n_cols, cells=cells, header_rows=header_rows)


def extract_tables(page: pymupdf.Page) -> list[tuple[Rect, TableData]]:
    if _count_rules(page) < MIN_RULE_SEGMENTS:
        return []
    found = page.find_tables(use_layout=False, refine=True)
    out: list[tuple[Rect, TableData]] = []
    for table in found.tables:
        header_rows = int(getattr(table, "header_rows", 0) or 0)
        if table.placements:
            data = placements_to_table(table.placements, header_rows)
        else:
            data = grid_to_table(table.extract(), header_rows)
        # A 1x1 "table" is a framed box (a note, a code listing), not tabular data.
        if data.n_rows < 2 and data.n_cols < 2:
            continue
        if not any(c.text for c in data.cells):
            continue
        out.append((tuple(table.bbox), data))
    return out
