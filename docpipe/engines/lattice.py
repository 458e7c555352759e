"""Fast path for fully ruled tables: cells from the page's vector rules, text from spans we already have.

A lattice is a connected set of horizontal and vertical rules (lines, or rectangles thinner than
RULE_MAX points). Its distinct rule positions give a grid of slots; two neighbouring slots belong to
one cell when no rule separates them, which is how row and column spans are drawn. This costs about
a millisecond a table, against 30-150 ms for PyMuPDF's general finder, which stays the fallback for
everything this does not recognise (rules on one axis only, non-rectangular merges, dense art).
"""

from __future__ import annotations

from dataclasses import dataclass

from docpipe.engines.stacked_rows import Piece, join_pieces, split_open_bands, split_stacked_rows
from docpipe.model import TableCell, TableData
from docpipe.model.raw import Line, Rect, Span
from docpipe.util.disjoint_set import DisjointSet

RULE_MAX = 2.0  # points: thicker filled rectangles are shading, not rules
SNAP = 1.5  # points: rule positions closer than this are the same grid line
TOUCH = 2.0  # points: rules closer than this are connected
DOUBLE = 4.0  # points: parallel rules closer than this are one double rule
MAX_RULES = 600  # beyond this, the page is art or a chart; leave it to the general finder


@dataclass(slots=True)
class _Seg:
    horizontal: bool
    pos: float  # y of a horizontal rule, x of a vertical one
    lo: float  # extent along the rule
    hi: float


def rules_from_drawings(drawings: list[dict]) -> list[_Seg]:
    segs: list[_Seg] = []
    for path in drawings:
        stroked = path.get("type", "") in ("s", "fs") or path.get("color") is not None
        for item in path.get("items", ()):
            kind = item[0]
            if kind == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                if abs(y0 - y1) < 0.5 and abs(x1 - x0) > TOUCH:
                    segs.append(_Seg(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1)))
                elif abs(x0 - x1) < 0.5 and abs(y1 - y0) > TOUCH:
                    segs.append(_Seg(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1)))
            elif kind == "re":
                # rectangles drawn right to left or bottom up come with their corners swapped
                ax, ay, bx, by = item[1]
                x0, x1, y0, y1 = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
                w, h = x1 - x0, y1 - y0
                if h <= RULE_MAX and w > TOUCH:
                    segs.append(_Seg(True, (y0 + y1) / 2, x0, x1))
                elif w <= RULE_MAX and h > TOUCH:
                    segs.append(_Seg(False, (x0 + x1) / 2, y0, y1))
                elif stroked:  # a framed box: its four edges are rules
                    segs += [
                        _Seg(True, y0, x0, x1),
                        _Seg(True, y1, x0, x1),
                        _Seg(False, x0, y0, y1),
                        _Seg(False, x1, y0, y1),
                    ]
    return _join_collinear(segs)


def _join_collinear(segs: list[_Seg]) -> list[_Seg]:
    """Rules are often drawn one cell at a time; join pieces that continue each other."""
    segs = sorted(segs, key=lambda s: (s.horizontal, round(s.pos / SNAP), s.lo))
    out: list[_Seg] = []
    for s in segs:
        last = out[-1] if out else None
        if (
            last
            and last.horizontal == s.horizontal
            and abs(last.pos - s.pos) <= SNAP
            and s.lo <= last.hi + TOUCH
            # rules a little apart in height can sort out of x order: never bridge a gap
            and s.hi >= last.lo - TOUCH
        ):
            last.lo, last.hi = min(last.lo, s.lo), max(last.hi, s.hi)
        else:
            out.append(_Seg(s.horizontal, s.pos, s.lo, s.hi))
    return out


def _components(segs: list[_Seg]) -> list[list[_Seg]]:
    sets = DisjointSet(len(segs))
    hs = [i for i, s in enumerate(segs) if s.horizontal]
    vs = [i for i, s in enumerate(segs) if not s.horizontal]
    for i in hs:  # rules connect where a horizontal one crosses or touches a vertical one
        h = segs[i]
        for j in vs:
            v = segs[j]
            if h.lo - TOUCH <= v.pos <= h.hi + TOUCH and v.lo - TOUCH <= h.pos <= v.hi + TOUCH:
                sets.union(i, j)
    return sets.groups(segs)


def _snap(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > SNAP:
            out.append(v)
    return out


def _covered(segs: list[_Seg], pos: float, at: float) -> bool:
    return any(abs(s.pos - pos) <= SNAP and s.lo - SNAP <= at <= s.hi + SNAP for s in segs)


def _slot_of(edges: list[float], v: float) -> int | None:
    for i in range(len(edges) - 1):
        if edges[i] <= v < edges[i + 1]:
            return i
    return None


def split_span(span: Span, xs: list[float]) -> list[tuple[float, float, str]]:
    """(center x, center y, text) pieces of a span, cut where it crosses a column rule."""
    x0, y0, x1, y1 = span.bbox
    cy = (y0 + y1) / 2
    inner = [x for x in xs if x0 + 1 < x < x1 - 1]
    if not inner or not span.text:
        return [((x0 + x1) / 2, cy, span.text)]
    per_char = (x1 - x0) / len(span.text)
    pieces, start_x, start_i = [], x0, 0
    for cut in [*inner, x1]:
        end_i = len(span.text) if cut == x1 else int(round((cut - x0) / per_char))
        pieces.append(((start_x + cut) / 2, cy, span.text[start_i:end_i]))
        start_x, start_i = cut, end_i
    return pieces


def _merge_doubles(segs: list[_Seg]) -> tuple[list[_Seg], list[float]]:
    """Grid positions of rules on one axis, a double rule (a frame drawn twice, a double line under
    the header) taken as one: its slot would be an empty row or column. Rules move onto the kept
    position."""
    kept: list[float] = []
    for v in _snap([s.pos for s in segs]):
        if not kept or v - kept[-1] > DOUBLE:
            kept.append(v)
    moved = [_Seg(s.horizontal, min(kept, key=lambda k: abs(k - s.pos)), s.lo, s.hi) for s in segs]
    return moved, kept


def _lattice_table(comp: list[_Seg], lines: list[Line]) -> tuple[Rect, TableData] | None:
    hs, ys = _merge_doubles([s for s in comp if s.horizontal])
    vs, xs = _merge_doubles([s for s in comp if not s.horizontal])
    if len(ys) < 3 or len(xs) < 3:
        return None  # fewer than 2x2 slots: a box or an underline, not a table
    # Open-sided tables (no outer vertical rules; the horizontal ones run to the table's edges) get
    # implicit side edges where the horizontal rules end.
    h_lo, h_hi = min(s.lo for s in hs), max(s.hi for s in hs)
    if h_lo < xs[0] - 2 * SNAP:
        vs = [*vs, _Seg(False, h_lo, ys[0], ys[-1])]
        xs = [h_lo, *xs]
    if h_hi > xs[-1] + 2 * SNAP:
        vs = [*vs, _Seg(False, h_hi, ys[0], ys[-1])]
        xs = [*xs, h_hi]
    if any(s.lo < ys[0] - 2 * SNAP or s.hi > ys[-1] + 2 * SNAP for s in vs):
        return None  # vertical rules running past the top or bottom rule: not a lattice
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    # outer frame must be closed, or this is not a lattice
    mid_y = [(ys[r] + ys[r + 1]) / 2 for r in range(n_rows)]
    mid_x = [(xs[c] + xs[c + 1]) / 2 for c in range(n_cols)]
    if not all(_covered(vs, xs[0], y) and _covered(vs, xs[-1], y) for y in mid_y):
        return None
    if not all(_covered(hs, ys[0], x) and _covered(hs, ys[-1], x) for x in mid_x):
        return None
    # merge slots not separated by a rule
    sets = DisjointSet(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not _covered(vs, xs[c + 1], mid_y[r]):
                sets.union(r * n_cols + c, r * n_cols + c + 1)
            if r + 1 < n_rows and not _covered(hs, ys[r + 1], mid_x[c]):
                sets.union(r * n_cols + c, (r + 1) * n_cols + c)
    slots_rc = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    slot_cell: dict[tuple[int, int], tuple[int, int]] = {}
    extents: dict[tuple[int, int], tuple[int, int]] = {}
    for slots in sets.groups(slots_rc):
        r0, r1 = min(s[0] for s in slots), max(s[0] for s in slots)
        c0, c1 = min(s[1] for s in slots), max(s[1] for s in slots)
        if len(slots) != (r1 - r0 + 1) * (c1 - c0 + 1):
            return None  # an L-shaped merge: leave it to the general finder
        extents[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        for s in slots:
            slot_cell[s] = (r0, c0)
    # text: spans inside the frame, cut at column rules, assigned by their centers
    texts: dict[tuple[int, int], list[Piece]] = {}
    bold: dict[tuple[int, int], list[bool]] = {}
    frame = (xs[0], ys[0], xs[-1], ys[-1])
    for line_no, ln in enumerate(lines):
        lx = (ln.bbox[0] + ln.bbox[2]) / 2
        ly = (ln.bbox[1] + ln.bbox[3]) / 2
        if not (frame[0] <= lx <= frame[2] and frame[1] <= ly <= frame[3]):
            continue
        cy_line = (ln.bbox[1] + ln.bbox[3]) / 2
        # only the column rules on the line's own row cut it (a header over a group of columns)
        cuts = [x for x in xs[1:-1] if _covered(vs, x, cy_line)]
        for span in ln.spans:
            for cx, cy, text in split_span(span, cuts):
                r, c = _slot_of(ys, cy), _slot_of(xs, cx)
                if r is None or c is None or not text:
                    continue
                key = slot_cell[(r, c)]
                height = span.bbox[3] - span.bbox[1]
                texts.setdefault(key, []).append(Piece(cy_line, cx, text, height, line_no))
                if text.strip():
                    bold.setdefault(key, []).append(span.bold)
    cells: list[TableCell] = []
    for (r0, c0), (rs, cs) in sorted(extents.items()):
        text = join_pieces(texts.get((r0, c0), []))
        cells.append(
            TableCell(
                row=r0,
                col=c0,
                row_span=rs,
                col_span=cs,
                text=text,
                bbox=(xs[c0], ys[r0], xs[c0 + cs], ys[r0 + rs]),
            )
        )
    if sum(1 for c in cells if c.text) < 2:
        return None
    header_rows = _header_rows(cells, bold, n_rows)
    cells, texts, n_rows, start = split_open_bands(cells, texts, xs, n_rows)
    header_rows = start[header_rows]
    cells, n_rows, header_rows = split_stacked_rows(cells, texts, n_rows, header_rows)
    for cell in cells:
        cell.is_header = cell.row < header_rows
    return frame, TableData(n_rows=n_rows, n_cols=n_cols, cells=cells, header_rows=header_rows)


def _header_rows(cells: list[TableCell], bold: dict[tuple[int, int], list[bool]], n_rows: int) -> int:
    """Leading rows whose text is all bold while the body is not; a row span in the first row
    stretches the header down with it."""
    rows_bold: dict[int, bool] = {}
    for cell in cells:
        flags = bold.get((cell.row, cell.col))
        if flags:
            rows_bold[cell.row] = rows_bold.get(cell.row, True) and all(flags)
    if not any(any(flags) for flags in bold.values()):
        # No font information (OCR): merged cells in the first row are column-group headers.
        spans = [c.row + c.row_span for c in cells if c.row == 0 and (c.row_span > 1 or c.col_span > 1)]
        return min(max(spans, default=0), n_rows - 1)
    n = 0
    while n < n_rows - 1 and rows_bold.get(n, False):
        n += 1
    if n and all(rows_bold.get(r, False) for r in range(n_rows)):
        n = 1  # everything bold: only the first row is a header
    if n:
        n = max([n] + [c.row + c.row_span for c in cells if c.row == 0 and c.row_span > 1])
    return min(n, n_rows - 1)


def find_lattice_tables(
    drawings: list[dict], lines: list[Line], segs: list[_Seg] | None = None
) -> tuple[list[tuple[Rect, TableData]], list[Rect]]:
    """Tables recognised from rules, and the boxes of rule clusters that look tabular but could not
    be resolved here (for the general finder). `segs`: the drawings' rules, where the caller has
    them already (they are only read)."""
    if segs is None:
        segs = rules_from_drawings(drawings)
    if len(segs) > MAX_RULES:
        return [], [(0.0, 0.0, 1e9, 1e9)]
    found: list[tuple[Rect, TableData]] = []
    unresolved: list[Rect] = []
    for comp in _components(segs):
        n_h = sum(1 for s in comp if s.horizontal)
        if n_h < 2 or len(comp) - n_h < 2:
            if n_h >= 3 and len(comp) == n_h:
                xs = [s.lo for s in comp] + [s.hi for s in comp]
                ys = [s.pos for s in comp]
                unresolved.append((min(xs), min(ys), max(xs), max(ys)))  # rules on one axis only
            continue
        table = _lattice_table(comp, lines)
        if table is not None:
            found.append(table)
        else:
            xs = [s.lo if s.horizontal else s.pos for s in comp] + [
                s.hi if s.horizontal else s.pos for s in comp
            ]
            ys = [s.pos if s.horizontal else s.lo for s in comp] + [
                s.pos if s.horizontal else s.hi for s in comp
            ]
            unresolved.append((min(xs), min(ys), max(xs), max(ys)))
    return found, unresolved


def horizontal_rules(drawings: list[dict]) -> list[Rect]:
    """Every horizontal rule as a thin rectangle: fraction bars and radical overbars for formulas."""
    return [(s.lo, s.pos - 0.5, s.hi, s.pos + 0.5) for s in rules_from_drawings(drawings) if s.horizontal]
