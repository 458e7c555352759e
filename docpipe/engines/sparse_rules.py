"""Tables whose rules do not draw the whole grid: text positions fill in what the rules leave out.

Three layouts share this path: rules between rows but no column rules (each row's cells are read
off the columns the text forms, the header's columns carrying down), three-line tables (a rule
above and below the header and one at the end: the body between them is one band of many text
rows), and column rules with no row rules inside the body (every body row sits in one band).
Rules give what they give: a horizontal rule always ends a row band, a vertical rule always
separates columns. Inside a band, baselines that fill most columns are rows of their own; a band
whose extra baselines are only wrapped text is one row. Text just above the first rule that fits
the columns is the header of a table drawn with its top rule under the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docpipe.model import TableCell, TableData
from docpipe.model.raw import Line, Rect
from docpipe.util.intervals import merge_overlapping

HEADER_LINES = 3  # text lines above the first rule that can still be its header
FULL_ROW = 0.6  # share of the columns a baseline must fill to be a row of its own
MIN_FILL = 0.3  # share of a table's cells that must hold text
SAME_EXTENT = 0.03  # rules of one table start and end within this share of its width
_WIDE_SPACE = re.compile(r"\s{2,}")


@dataclass(slots=True)
class Run:
    """A piece of a line between wide gaps: the text of one cell on one baseline."""

    x0: float
    x1: float
    y: float  # vertical center
    size: float
    text: str
    bold: bool
    spaced: bool = True  # whitespace before it in the line (spans that touch without one are one word)


def line_runs(ln: Line) -> list[Run]:
    """A line cut at runs of two or more spaces (typewriter tables and tab-stop layouts put several
    cells into one text line), x positions estimated in proportion to characters."""
    out: list[Run] = []
    cy = (ln.bbox[1] + ln.bbox[3]) / 2
    prev_text = " "
    for span in ln.spans:
        text, before = span.text, prev_text
        prev_text = text or prev_text
        if not text.strip():
            continue
        x0, _, x1, _ = span.bbox
        per_char = (x1 - x0) / max(len(text), 1)
        pos = 0
        for piece in _WIDE_SPACE.split(text):
            start = text.index(piece, pos)
            pos = start + len(piece)
            stripped = piece.strip()
            if not stripped:
                continue
            lead = len(piece) - len(piece.lstrip())
            a = x0 + (start + lead) * per_char
            spaced = start + lead > 0 or before[-1:].isspace()
            out.append(Run(a, a + len(stripped) * per_char, cy, span.size, stripped, span.bold, spaced))
    # spans of one line that touch are one run (a bold word inside a cell)
    merged: list[Run] = []
    for run in sorted(out, key=lambda r: r.x0):
        last = merged[-1] if merged else None
        if last and run.x0 - last.x1 < 0.6 * max(run.size, 1.0):
            last.x1 = max(last.x1, run.x1)
            glued = not run.spaced and run.x0 - last.x1 < 0.15 * max(run.size, 1.0)
            last.text = f"{last.text}{'' if glued else ' '}{run.text}"
            last.bold = last.bold and run.bold
        else:
            merged.append(run)
    return merged


def _baselines(runs: list[Run]) -> list[list[Run]]:
    rows: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: r.y):
        if rows and abs(rows[-1][0].y - run.y) <= 0.45 * max(run.size, 1.0):
            rows[-1].append(run)
        else:
            rows.append([run])
    for row in rows:
        row.sort(key=lambda r: r.x0)
    return rows


def _columns(runs: list[Run], v_rules: list[float]) -> list[tuple[float, float]]:
    """x-extents of the body's text, merged where runs overlap, then cut at vertical rules."""
    out: list[tuple[float, float]] = []
    for lo, hi in merge_overlapping((r.x0, r.x1) for r in runs):
        cuts = [x for x in v_rules if lo < x < hi]
        edges = [lo, *cuts, hi]
        out += [(a, b) for a, b in zip(edges, edges[1:], strict=False)]
    return out


def _column_of(run: Run, cols: list[tuple[float, float]]) -> int:
    """The column overlapping most of the run (a header wider than its column still lands on it)."""
    best, best_ov = 0, -1.0
    for k, (a, b) in enumerate(cols):
        ov = min(run.x1, b) - max(run.x0, a)
        if ov > best_ov:
            best, best_ov = k, ov
    return best


def _band_rows(band: list[list[Run]], cols: list[tuple[float, float]], split: bool) -> list[list[list[Run]]]:
    """Baselines of one band grouped into rows: one row, or (split) a row per full baseline, with
    partial baselines that leave the first column empty continuing the row above."""
    rows: list[list[list[Run]]] = []
    for line in band:
        filled = {_column_of(r, cols) for r in line}
        starts = not rows or not split or len(filled) >= FULL_ROW * len(cols) or 0 in filled
        if rows and (not split or not starts):
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _holds_rows(band: list[list[Run]], cols: list[tuple[float, float]], min_rows: int) -> bool:
    """Whether a band holds several table rows rather than one row of wrapped cells: enough baselines
    fill most columns, and every column has text on at least half of them. Wrapped cells beside a
    label centred in its cell ("Target / group" between lines of text) leave the label's column
    empty on the others' baselines."""
    full = [
        filled for line in band if len(filled := {_column_of(r, cols) for r in line}) >= FULL_ROW * len(cols)
    ]
    if len(full) < min_rows:
        return False
    return all(sum(1 for f in full if k in f) >= 0.5 * len(full) for k in range(len(cols)))


def sparse_table(
    region: Rect, h_rules: list[float], v_rules: list[float], lines: list[Line]
) -> TableData | None:
    """The table in `region` (x0, top rule, x1, bottom rule) from its rules and the text lines near it,
    or None when the text does not form at least two columns and two rows."""
    x0, top, x1, bottom = region
    inside = [ln for ln in lines if x0 - 2 <= (ln.bbox[0] + ln.bbox[2]) / 2 <= x1 + 2]
    runs = [r for ln in inside for r in line_runs(ln)]
    body = [r for r in runs if top < r.y < bottom]
    if not body:
        return None
    size = max(r.size for r in body)
    inner_v = [x for x in v_rules if x0 + size < x < x1 - size]
    ys = sorted({top, bottom, *(y for y in h_rules if top <= y <= bottom)})
    # The body's columns: text below the first band when it is a header band, else all of it.
    header_band = len(ys) >= 3
    col_runs = [r for r in body if r.y > ys[1]] if header_band else body
    cols = _columns(col_runs or body, inner_v)
    if len(cols) < 2:
        return None
    # Header lines above the top rule: close to it, each fitting the columns.
    header_lines: list[list[Run]] = []
    edge = top
    for line in _baselines([r for r in runs if r.y < top])[::-1][:HEADER_LINES]:
        if edge - max(r.y for r in line) > 2.2 * size or len(line) < 2 and not header_lines:
            break
        if not all(min(x0, cols[0][0]) - size <= r.x0 and r.x1 <= max(x1, cols[-1][1]) + size for r in line):
            break
        header_lines.insert(0, line)
        edge = min(r.y for r in line) - size / 2
    grid_rows: list[list[list[Run]]] = []
    n_head = 0
    if header_lines and sum(len(line) for line in header_lines) >= 2:
        grid_rows.append(header_lines)
        n_head = 1
    for i, (a, b) in enumerate(zip(ys, ys[1:], strict=False)):
        band = _baselines([r for r in body if a < r.y < b])
        if not band:
            continue
        is_header = header_band and i == 0 and not n_head
        # A table whose body is one band (three-line, column rules only) splits at every full
        # baseline; a band among ruled rows only when it holds several (wrapped cells fill two).
        body_bands = len(ys) - 2 if header_band and not n_head else len(ys) - 1
        split = not is_header and _holds_rows(band, cols, 2 if body_bands == 1 else 3)
        rows = _band_rows(band, cols, split=split)
        grid_rows += rows
        if is_header:
            n_head = len(rows)
    if len(grid_rows) < 2:
        return None
    cells: list[TableCell] = []
    for r, row in enumerate(grid_rows):
        texts = [""] * len(cols)
        for line in row:
            for run in line:
                k = _column_of(run, cols)
                texts[k] = f"{texts[k]} {run.text}".strip()
        cells += [TableCell(row=r, col=c, text=t, is_header=r < n_head) for c, t in enumerate(texts)]
    if sum(1 for c in cells if c.text) < 4:
        return None
    return TableData(n_rows=len(grid_rows), n_cols=len(cols), cells=cells, header_rows=n_head)


def looks_tabular(table: TableData) -> bool:
    """Short cells in two or more filled columns: prose between rules has long ones."""
    texts = [c.text for c in table.cells if c.text]
    # labels of a drawing: single letters and symbols
    if sum(1 for t in texts if len(t) == 1 and not t.isdigit()) > 0.3 * len(texts):
        return False
    words = [len(t.split()) for t in texts]
    if not texts or sum(words) / len(texts) > 6 or sum(1 for w in words if w >= 10) > 0.2 * len(texts):
        return False
    filled = [sum(1 for c in table.cells if c.col == k and c.text) for k in range(table.n_cols)]
    # columns drawn from text that does not line up (a form's sections) are mostly empty
    if len(texts) < MIN_FILL * table.n_rows * table.n_cols:
        return False
    return sum(1 for n in filled if n >= 2) >= 2


def rule_stacks(
    h_rules: list[tuple[float, float, float]], min_rules: int = 3
) -> list[list[tuple[float, float, float]]]:
    """Horizontal rules (y, x0, x1) stacked under one another over the same width: the row rules of
    a table without column rules, or the three rules of a three-line table."""
    stacks: list[list[tuple[float, float, float]]] = []
    for rule in sorted(h_rules):
        y, lo, hi = rule
        for stack in stacks:
            a, b = min(r[1] for r in stack), max(r[2] for r in stack)
            # a table's rules run its full width; rules of other lengths are a figure's
            if abs(lo - a) <= SAME_EXTENT * (b - a) and abs(hi - b) <= SAME_EXTENT * (b - a):
                stack.append(rule)
                break
        else:
            stacks.append([rule])
    return [s for s in stacks if len({round(r[0]) for r in s}) >= min_rules]


def table_top(table: TableData, region: Rect, lines: list[Line]) -> float:
    """Top of the table, header lines found above its first rule included."""
    if not table.header_rows:
        return region[1]
    head = " ".join(c.text for c in table.cells if c.is_header and c.text)
    tops = [
        ln.bbox[1]
        for ln in lines
        if region[1] - 4 * max(ln.size, 1.0) < ln.bbox[3] <= region[1] + 1
        and region[0] - 2 <= (ln.bbox[0] + ln.bbox[2]) / 2 <= region[2] + 2
        and ln.text.strip()
        and all(piece in head for piece in _WIDE_SPACE.split(ln.text.strip()))
    ]
    return min(tops, default=region[1])
