"""Tables without rules, found from the alignment of short text runs.

A row of such a table is a baseline carrying three or more separate runs of text with wide gaps
between them; a table is three or more such rows, one under another, whose runs fall into the same
columns. Prose laid out in columns is the look-alike to avoid, so cells must be short: few characters
and few words on average. A header row may sit above the body, aligned to its columns, in up to
three stacked lines ("State funded / legal aid").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from docpipe.model import TableCell, TableData
from docpipe.model.raw import Line, Rect
from docpipe.util.intervals import merge_overlapping

MIN_ROWS = 3
MIN_COLS = 3
MAX_MEAN_CHARS = 30  # cells of prose columns are whole lines of text
MAX_LONG_SHARE = 0.3  # share of cells with four words or more (a line of prose has more)
GAP_EM = 1.2  # runs of one baseline closer than this (in font sizes) are one cell
NARROW_GAP_EM = 0.35  # the second look, for tables set tight (a word space is about 0.25)
ROW_GAP_EM = 2.6  # body rows further apart than this end the table
HEADER_LINES = 3
_MONO_GAP = re.compile(r"\S\s{2,}\S")
_WIDE_GAP = re.compile(r"\S\s{3,}\S")
# runs of text between such gaps
_MONO_RUN = re.compile(r"\S+(?: \S+)*")
_WIDE_RUN = re.compile(r"\S+(?: {1,2}\S+)*")


@dataclass
class _Row:
    lines: list[Line]  # left to right
    top: float
    bottom: float
    size: float
    gap_em: float = 1.2  # runs closer than this (in font sizes) are one cell

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


def _rows(lines: list[Line], gap_em: float) -> list[_Row]:
    rows: list[_Row] = []
    for ln in sorted(lines, key=lambda x: ((x.bbox[1] + x.bbox[3]) / 2, x.bbox[0])):
        cy = (ln.bbox[1] + ln.bbox[3]) / 2
        size = max(ln.size, 1.0)
        if rows and abs(rows[-1].cy - cy) <= 0.45 * min(size, rows[-1].size):
            row = rows[-1]
            row.lines.append(ln)
            row.top, row.bottom = min(row.top, ln.bbox[1]), max(row.bottom, ln.bbox[3])
        else:
            rows.append(_Row([ln], ln.bbox[1], ln.bbox[3], size, gap_em))
    for row in rows:
        row.lines.sort(key=lambda x: x.bbox[0])
    return rows


def _cells(row: _Row) -> list[list[Line]]:
    """Runs of the row separated by wide gaps."""
    cells: list[list[Line]] = []
    for ln in row.lines:
        if cells and ln.bbox[0] - cells[-1][-1].bbox[2] < row.gap_em * row.size:
            cells[-1].append(ln)
        else:
            cells.append([ln])
    return cells


def _span(cell: list[Line]) -> tuple[float, float]:
    return min(ln.bbox[0] for ln in cell), max(ln.bbox[2] for ln in cell)


def _text(cell: list[Line]) -> str:
    return " ".join(" ".join(ln.text.split()) for ln in cell).strip()


def _columns(body: list[list[list[Line]]]) -> list[tuple[float, float]]:
    """Column extents: x-intervals of all body cells, merged where they overlap."""
    return merge_overlapping(_span(c) for row in body for c in row)


def _column_of(
    cell: list[Line], cols: list[tuple[float, float]], tol: float, by_center: bool = False
) -> int | None:
    """The column holding the cell: inside its extent (body), or, for headers, which are often
    wider than the column under them, the column under the cell's center."""
    lo, hi = _span(cell)
    if by_center:
        lo = hi = (lo + hi) / 2
    hits = [i for i, (a, b) in enumerate(cols) if lo >= a - tol and hi <= b + tol]
    if len(hits) == 1:
        return hits[0]
    if by_center and not hits and cols[0][0] - tol <= lo <= cols[-1][1] + tol:
        # a label over a group of columns is centred over the gap between two: the nearer one
        return min(range(len(cols)), key=lambda i: min(abs(lo - cols[i][0]), abs(lo - cols[i][1])))
    return None


def _looks_tabular(body: list[list[list[Line]]]) -> bool:
    cells = [_text(c) for row in body for c in row]
    if not cells:
        return False
    mean_chars = sum(len(t) for t in cells) / len(cells)
    long_share = sum(1 for t in cells if len(t.split()) >= 4) / len(cells)
    return mean_chars <= MAX_MEAN_CHARS and long_share <= MAX_LONG_SHARE


def _is_section(row: _Row, cols: list[tuple[float, float]], tol: float) -> bool:
    """A row with one run starting at the first column: a label for the rows under it ("Male")."""
    cells = _cells(row)
    return len(cells) == 1 and abs(_span(cells[0])[0] - cols[0][0]) <= tol


def _is_number(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= 0.5 * len(text.replace(" ", ""))


def _numeric_share(table: TableData) -> float:
    body = [c.text for c in table.cells if c.text and not c.is_header]
    return sum(1 for t in body if _is_number(t)) / len(body) if body else 0.0


def _labels_numbers(row: list[str], below: list[list[str]]) -> bool:
    """A row of words over columns of numbers is their header ("Lowest" over "11,500")."""
    cols = [k for k in range(1, len(row)) if row[k]]
    if len(cols) < 2 or any(ch.isdigit() for k in cols for ch in row[k]):
        return False
    numbers = [r[k] for r in below for k in cols if r[k]]
    return len(numbers) >= 2 * len(cols) and sum(1 for t in numbers if _is_number(t)) >= 0.8 * len(numbers)


def _table(
    header: list[_Row], body: list[_Row], cols: list[tuple[float, float]], sections: set[int] = frozenset()
) -> TableData:
    tol = 0.8 * body[0].size
    grid: list[list[str]] = []
    if header:
        cells = [""] * len(cols)
        for row in header:
            for cell in _cells(row):
                k = _column_of(cell, cols, tol, by_center=True)
                if k is not None:
                    cells[k] = f"{cells[k]} {_text(cell)}".strip()
        grid.append(cells)
    for row in body:
        cells = [""] * len(cols)
        if id(row) in sections:  # its text may run across the columns: it belongs to the first
            cells[0] = " ".join(_text(c) for c in _cells(row))
            grid.append(cells)
            continue
        for cell in _cells(row):
            k = _column_of(cell, cols, tol)
            if k is not None:
                cells[k] = f"{cells[k]} {_text(cell)}".strip()
        grid.append(cells)
    n_head = 1 if header else 0
    if not header and len(body) > 1 and all(ln.bold for ln in body[0].lines):
        # a bold first row over a regular body is the header
        n_head = 0 if all(ln.bold for ln in body[1].lines) else 1
    first = len(grid) - len(body)  # the body's first row in the grid
    if len(body) > 2 and n_head == first and _labels_numbers(grid[first], grid[first + 1 :]):
        n_head += 1
    return TableData(
        n_rows=len(grid),
        n_cols=len(cols),
        header_rows=n_head,
        cells=[
            TableCell(row=r, col=c, text=text, is_header=r < n_head)
            for r, row in enumerate(grid)
            for c, text in enumerate(row)
        ],
    )


def _continues(cols: list[tuple[float, float]], cells: list[list[Line]]) -> list[tuple[float, float]] | None:
    """The columns with a row of `cells` added to the body whose columns are `cols`, or None when
    the row would bridge two of them. The union of all body cells' extents with the row's is the
    union of `cols` with the row's."""
    if len(cells) < MIN_COLS - 1:
        return None
    joined = merge_overlapping([*cols, *map(_span, cells)])
    return joined if len(joined) == len(cols) else None


def _fits(row: _Row, cols: list[tuple[float, float]], tol: float, by_center: bool = False) -> bool:
    return all(_column_of(c, cols, tol, by_center) is not None for c in _cells(row))


def _page_columns(lines: list[Line], min_gutter: float = 72.0) -> list[list[Line]]:
    """Split at wide gutters that run down the whole page (two pages printed side by side), so that
    rows of separate pages that merely share baselines are never read as one table row. Narrow
    article gutters are left alone: prose columns are told apart by their long cells."""
    spans = sorted((ln.bbox[0], ln.bbox[2], k) for k, ln in enumerate(lines))
    groups: list[list[Line]] = []
    end = None
    for lo, hi, k in spans:
        if end is None or lo - end >= min_gutter:
            groups.append([])
            end = hi
        groups[-1].append(lines[k])
        end = max(end, hi)
    return groups


def split_at_wide_spaces(ln: Line) -> list[Line]:
    """A line cut at column gaps: runs of spaces (two in a monospaced font, as typewriter tables set
    them; three in a proportional one, as tab stops leave them; positions proportional to
    characters), and gaps of half a font size or more between spans, which the extractor puts into
    one line when columns are set tight."""
    pieces: list[Line] = []
    for span in ln.spans:
        gap, run = (_MONO_GAP, _MONO_RUN) if span.mono else (_WIDE_GAP, _WIDE_RUN)
        if not gap.search(span.text):
            pieces.append(Line([span], span.bbox, ln.block_hint, ln.confidence, ln.vertical))
            continue
        x0, y0, x1, y1 = span.bbox
        per_char = (x1 - x0) / max(len(span.text), 1)
        for m in run.finditer(span.text.replace("\t", " ")):
            text, start = m.group(0), m.start()
            box = (x0 + start * per_char, y0, x0 + (start + len(text)) * per_char, y1)
            piece = replace(span, text=text, bbox=box)
            pieces.append(Line([piece], box, ln.block_hint, ln.confidence, ln.vertical))
    if len(pieces) == 1:
        return [ln]
    # spans closer than a narrow gap stay one piece (a bold word inside a cell)
    out: list[Line] = []
    for piece in pieces:
        last = out[-1] if out else None
        narrow = NARROW_GAP_EM * max(piece.size, 1.0)
        if not piece.text.strip() and piece.bbox[2] - piece.bbox[0] >= narrow:
            out.append(piece)  # a space the extractor put into a column gap: a cut, dropped below
        elif last and last.text.strip() and piece.bbox[0] - last.bbox[2] < narrow:
            last.spans = [*last.spans, *piece.spans]
            last.bbox = (
                last.bbox[0],
                min(last.bbox[1], piece.bbox[1]),
                piece.bbox[2],
                max(last.bbox[3], piece.bbox[3]),
            )
        else:
            out.append(piece)
    out = [p for p in out if p.text.strip()]
    return [ln] if len(out) == 1 else out


def find_stream_tables(lines: list[Line]) -> tuple[list[tuple[Rect, TableData]], list[Line]]:
    """Tables found among `lines`, and the lines left over for the running text."""
    tables: list[tuple[Rect, TableData]] = []
    origin: dict[int, int] = {}  # piece -> the line it was cut from
    pieces: list[Line] = []
    for ln in lines:
        if ln.vertical:
            continue
        for piece in split_at_wide_spaces(ln):
            origin[id(piece)] = id(ln)
            pieces.append(piece)
    taken: set[int] = set()
    for group in _page_columns(pieces):
        found, left = _find_in_column(group, GAP_EM)
        # Columns set closer than a wide gap are columns still when those gaps line up over whole
        # rows, which the column checks demand: the tight reading wins when it takes as much text
        # into tables and keeps more columns apart.
        tight, tight_left = _find_in_column(group, NARROW_GAP_EM)
        if (
            tight
            and len(tight_left) <= len(left)
            and (not found or len(tight) <= len(found))
            and sum(t.n_cols for _, t in tight) > sum(t.n_cols for _, t in found)
            # justified prose and spaced-out formulas have gaps this narrow too; figures do not
            and all(_numeric_share(t) >= 0.5 for _, t in tight)
        ):
            found, left = tight, tight_left
        tables += found
        left_ids = {id(p) for p in left}
        taken.update(origin[id(p)] for p in group if id(p) not in left_ids)
    if not tables:
        return [], lines
    # the engine's own line order is kept: paragraph grouping relies on it
    return tables, [ln for ln in lines if ln.vertical or id(ln) not in taken]


def _find_in_column(lines: list[Line], gap_em: float) -> tuple[list[tuple[Rect, TableData]], list[Line]]:
    rows = _rows(lines, gap_em)
    row_cells = [_cells(r) for r in rows]  # rows are not changed below: cut each once
    tables: list[tuple[Rect, TableData]] = []
    used: set[int] = set()
    i = 0
    while i < len(rows):
        if len(row_cells[i]) < MIN_COLS:
            i += 1
            continue
        tol = 0.8 * rows[i].size
        cell_rows = [row_cells[i]]
        cols = _columns(cell_rows)  # kept up to date as rows join
        sections: set[int] = set()
        j = i + 1
        while j < len(rows) and rows[j].top - rows[j - 1].bottom <= ROW_GAP_EM * rows[j].size:
            # a row joins only if it keeps the columns found so far apart (prose below a table
            # would bridge them)
            joined = _continues(cols, row_cells[j])
            if joined is not None:
                cell_rows.append(row_cells[j])
                cols = joined
                j += 1
            elif (
                j + 1 < len(rows)
                and _is_section(rows[j], cols, tol)
                and rows[j + 1].top - rows[j].bottom <= ROW_GAP_EM * rows[j + 1].size
                and _continues(cols, row_cells[j + 1]) is not None
            ):
                sections.add(id(rows[j]))
                j += 1
            else:
                break
        # a section label right under the header opens the body
        start = i
        if (
            i >= 2
            and id(rows[i - 1]) not in used
            and _is_section(rows[i - 1], cols, tol)
            and rows[i].top - rows[i - 1].bottom <= ROW_GAP_EM * rows[i].size
            and len(row_cells[i - 2]) >= 2
        ):
            start = i - 1
            sections.add(id(rows[start]))
        body = rows[start:j]
        if (
            len(body) - len(sections) >= MIN_ROWS
            and len(cols) >= MIN_COLS
            and _looks_tabular(cell_rows)
            and all(_fits(r, cols, tol) for r in body if id(r) not in sections)
        ):
            header: list[_Row] = []
            k = start - 1
            while (
                k >= 0
                and len(header) < HEADER_LINES
                and (header[0] if header else body[0]).top - rows[k].bottom <= ROW_GAP_EM * rows[k].size
                and _fits(rows[k], cols, tol, by_center=True)
                and id(rows[k]) not in used
            ):
                header.insert(0, rows[k])
                k -= 1
            # a header starts with a row that labels two columns or more; one-run lines above it
            # are prose ("Please select all that apply"), one-run lines below it continue it
            # (a one-run line off the first column is a label over a group of columns)
            while header and len(_cells(header[0])) < 2 and _is_section(header[0], cols, tol):
                header.pop(0)
            members = header + body
            bbox = (
                min(ln.bbox[0] for r in members for ln in r.lines),
                min(r.top for r in members),
                max(ln.bbox[2] for r in members for ln in r.lines),
                max(r.bottom for r in members),
            )
            tables.append((bbox, _table(header, body, cols, sections)))
            used.update(id(r) for r in members)
            i = j
        else:
            i += 1
    if not tables:
        return [], lines
    taken = {id(ln) for r in rows if id(r) in used for ln in r.lines}
    return tables, [ln for ln in lines if id(ln) not in taken]
