"""Ruled tables from the text layer, as cell grids with row/column spans and header rows.

Fully ruled grids take the fast lattice path (lattice.py). Grids the rules draw only in part (row
rules without column rules, three-line tables, column rules without row rules in the body) are read
from the rules plus the text's columns and baselines (sparse_rules.py). Other clusters of rules go
to PyMuPDF's finder, restricted to their area: with `refine=True` it resolves merged cells into HTML-like
placements (each row lists the cells that start in it). Pages without rules skip both.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right

import pymupdf

from docpipe.engines.empty_lines import drop_empty_lines
from docpipe.engines.finder_edges import FinderEdges
from docpipe.engines.lattice import find_lattice_tables, rules_from_drawings, split_span
from docpipe.engines.sparse_rules import looks_tabular, rule_stacks, sparse_table, table_top
from docpipe.engines.stacked_rows import Piece, join_pieces
from docpipe.engines.text_columns import split_text_columns
from docpipe.model import TableCell, TableData
from docpipe.model.raw import Line, Rect, overlap_ratio


def _clean(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(text.replace("\u00ad", "").split())


def _edges(values: list[float], tol: float = 3.0) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _nearest(edges: list[float], v: float) -> int:
    return min(range(len(edges)), key=lambda k: abs(edges[k] - v))


def _finder_cell(cell, row: int, col: int, rs: int, cs: int, header_rows: int, bbox) -> TableCell:
    """One of the finder's placed cells, as docpipe's cell."""
    return TableCell(
        row=row,
        col=col,
        row_span=rs,
        col_span=cs,
        text=_clean(cell.text),
        is_header=getattr(cell, "tag", "td") == "th" or row < header_rows,
        bbox=bbox,
    )


def _placed_by_bbox(placements: list[list], header_rows: int) -> TableData | None:
    """Cells laid on the grid their boxes draw. The finder leaves out cells that no rule closes (the
    empty corner over a label column), and laying the rest left to right would shift their row."""
    boxes = [cell.bbox for row in placements for cell in row]
    if not boxes or any(b is None for b in boxes):
        return None
    xs = _edges([v for b in boxes for v in (b[0], b[2])])
    ys = _edges([v for b in boxes for v in (b[1], b[3])])
    cells: list[TableCell] = []
    taken: set[tuple[int, int]] = set()
    for row in placements:
        for cell in row:
            x0, y0, x1, y1 = (float(v) for v in cell.bbox)
            r, c = _nearest(ys, y0), _nearest(xs, x0)
            rs, cs = max(1, _nearest(ys, y1) - r), max(1, _nearest(xs, x1) - c)
            slots = {(r + i, c + j) for i in range(rs) for j in range(cs)}
            if slots & taken:
                return None  # overlapping boxes: keep the finder's own order
            taken |= slots
            cells.append(_finder_cell(cell, r, c, rs, cs, header_rows, (x0, y0, x1, y1)))
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    if n_rows < 1 or n_cols < 1:
        return None
    return TableData(n_rows=n_rows, n_cols=n_cols, cells=cells, header_rows=header_rows)


def placements_to_table(placements: list[list], header_rows: int) -> TableData:
    """Lay HTML-style rows of (colspan, rowspan) cells onto a grid by their boxes, or, without
    boxes, as a browser would."""
    placed = _placed_by_bbox(placements, header_rows)
    if placed is not None:
        return placed
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
            cells.append(_finder_cell(cell, r, c, rs, cs, header_rows, bbox))
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


def _text_from_lines(data: TableData, lines: list[Line]) -> TableData:
    """Cell text from the page's own lines (copies of overprinted text dropped, spaces restored),
    spans cut at the cell's sides, rather than the finder's raw characters."""
    if not lines or any(c.bbox is None for c in data.cells):
        return data
    # lines by the height of their centre: a cell looks only at those within its rows (a page-wide
    # table has thousands of cells and hundreds of lines)
    centres = sorted(((ln.bbox[1] + ln.bbox[3]) / 2, k) for k, ln in enumerate(lines))
    keys = [cy for cy, _ in centres]
    by_cell: dict[int, list[Piece]] = {}
    for cell in data.cells:
        x0, y0, x1, y1 = cell.bbox
        pieces: list[Piece] = []
        near = centres[bisect_left(keys, y0) : bisect_right(keys, y1)]
        for cy, k in sorted(near, key=lambda item: item[1]):  # in the lines' own order
            ln = lines[k]
            if ln.bbox[2] < x0 or ln.bbox[0] > x1:
                continue
            for span in ln.spans:
                a, b = max(span.bbox[0], x0), min(span.bbox[2], x1)
                for cx, _, text in split_span(span, [x0, x1]):
                    if x0 <= cx <= x1:
                        pieces.append(Piece(cy, cx, text, span.bbox[3] - span.bbox[1], k, a, b))
        cell.text = _clean(join_pieces(pieces))
        by_cell[id(cell)] = pieces
    return split_text_columns(data, by_cell)


def _open_sides(segs: list, clip: Rect) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Side edges of a table whose row rules run on past its outermost column rules (a label
    column with no rule on its left): the finder only sees cells that rules close on all sides."""
    x0, y0, x1, y1 = clip
    hs = [s for s in segs if s.horizontal and y0 - 2 <= s.pos <= y1 + 2 and s.lo < x1 and s.hi > x0]
    vs = [s.pos for s in segs if not s.horizontal and x0 - 2 <= s.pos <= x1 + 2 and s.hi > y0 and s.lo < y1]
    if len(hs) < 2 or not vs:
        return []
    top, bottom = min(s.pos for s in hs), max(s.pos for s in hs)
    lo, hi = min(s.lo for s in hs), max(s.hi for s in hs)
    edges = []
    if lo < min(vs) - 2:
        edges.append(((lo, top), (lo, bottom)))
    if hi > max(vs) + 2:
        edges.append(((hi, top), (hi, bottom)))
    return edges


def _finder_tables(
    page: pymupdf.Page, clip: Rect | None, lines: list[Line], segs: list, edges: FinderEdges | None = None
) -> list[tuple[Rect, TableData]]:
    """PyMuPDF's finder in `clip` (the whole page for None). `edges`, the page's drawings on an
    unrotated page, lets calls that cannot find a table be skipped and saves the finder reading
    the drawings again."""
    kwargs: dict = {"clip": pymupdf.Rect(clip) & page.rect} if clip is not None else {}
    sides = _open_sides(segs, clip) if clip is not None else []
    if sides:
        kwargs["add_lines"] = sides
    if edges is not None:
        area = tuple(kwargs["clip"]) if clip is not None else tuple(page.rect)
        if not edges.can_find_table(area, sides):
            return []
        # The finder reads the page's drawings through this per-call cache (once for its edges, on
        # copies it may edit, and again for each table it refines); filled here, every call on the
        # page shares one extraction.
        page._table_drawings_cache = [edges.paths]
        if clip is not None:
            paths = edges.paths_for(area)
            if paths is not None:
                kwargs["paths"] = paths
    try:
        found = page.find_tables(use_layout=False, refine=True, **kwargs)
    finally:
        if edges is not None:
            del page._table_drawings_cache
    out: list[tuple[Rect, TableData]] = []
    for table in found.tables:
        header_rows = int(getattr(table, "header_rows", 0) or 0)
        if table.placements:
            data = placements_to_table(table.placements, header_rows)
        else:
            data = grid_to_table(table.extract(), header_rows)
        data = _text_from_lines(data, lines)
        # A 1x1 "table" is a framed box (a note, a code listing), not tabular data.
        if data.n_rows < 2 and data.n_cols < 2:
            continue
        if not any(c.text for c in data.cells):
            continue
        out.append((tuple(table.bbox), data))
    return out


def _rules_in(segs: list, box: Rect) -> tuple[list[float], list[float]]:
    """Positions of the horizontal rules spanning most of `box`'s width and of the vertical rules
    crossing it."""
    x0, y0, x1, y1 = box
    hs = [
        s.pos
        for s in segs
        if s.horizontal and y0 - 2 <= s.pos <= y1 + 2 and min(s.hi, x1) - max(s.lo, x0) >= 0.5 * (x1 - x0)
    ]
    vs = [s.pos for s in segs if not s.horizontal and x0 - 2 <= s.pos <= x1 + 2 and s.hi > y0 and s.lo < y1]
    return hs, vs


def _sparse(segs: list, box: Rect, lines: list[Line]) -> tuple[Rect, TableData] | None:
    hs, vs = _rules_in(segs, box)
    data = sparse_table(box, hs, vs, lines)
    if data is None or not looks_tabular(data):
        return None
    return (box[0], table_top(data, box, lines), box[2], box[3]), data


def _runs_past(box: Rect, lines: list[Line]) -> bool:
    """Whether text rows between the rules go on just beyond their ends (row labels left of rules
    that only underline the figures)."""
    x0, y0, x1, y1 = box
    inside = [ln for ln in lines if y0 < (ln.bbox[1] + ln.bbox[3]) / 2 < y1]
    near = [
        ln
        for ln in inside
        if -1 < x0 - ln.bbox[2] < max(ln.size, 1.0) or -1 < ln.bbox[0] - x1 < max(ln.size, 1.0)
    ]
    return len(near) >= 2


def _collapsed(data: TableData, regrid: TableData) -> bool:
    """Whether a ruled table is a header and a body (and a footer) whose rows no rule separates, so
    that the text splits it into more rows, keeping the columns. Tables with row rules keep the
    lattice's reading: its spans are drawn, the text's would be guessed."""
    return data.n_rows <= 3 and regrid.n_rows >= data.n_rows + 2 and regrid.n_cols >= data.n_cols


def extract_tables(
    page: pymupdf.Page, lines: list[Line], drawings: list[dict]
) -> list[tuple[Rect, TableData]]:
    """Fully ruled grids through the fast lattice path (their bodies split by text lines where no
    rule separates the rows); stacks of row rules without column rules from the rules and the text;
    other rule clusters through PyMuPDF's finder, restricted to their area. `drawings` is
    `page.get_cdrawings()`."""
    segs = rules_from_drawings(drawings)
    found, unresolved = find_lattice_tables(drawings, lines, segs)
    tables: list[tuple[Rect, TableData]] = []
    for bbox, data in found:
        regrid = _sparse(segs, bbox, lines)
        tables.append(regrid if regrid is not None and _collapsed(data, regrid[1]) else (bbox, data))
    # The finder's input, built once a page: on an unrotated page `drawings` are its own drawings.
    edges = FinderEdges(drawings) if unresolved and page.rotation == 0 else None
    for clip in unresolved:
        for bbox, data in _finder_tables(page, clip if clip[2] < 1e8 else None, lines, segs, edges):
            if not any(overlap_ratio(bbox, t[0]) > 0.5 for t in tables):
                tables.append((bbox, data))
    # Row rules with no column rules at all: never a lattice, so never in `unresolved`.
    for stack in rule_stacks([(s.pos, s.lo, s.hi) for s in segs if s.horizontal and s.hi - s.lo > 40]):
        box = (min(r[1] for r in stack), stack[0][0], max(r[2] for r in stack), stack[-1][0])
        if any(overlap_ratio(box, t[0]) > 0.2 or overlap_ratio(t[0], box) > 0.2 for t in tables):
            continue
        if _runs_past(box, lines):
            continue  # rules under part of a table (its number columns): the text finder's case
        sparse = _sparse(segs, box, lines)
        if sparse is not None:
            tables.append(sparse)
    return [(bbox, drop_empty_lines(data)) for bbox, data in tables]
