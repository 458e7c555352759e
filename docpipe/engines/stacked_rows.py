"""Ruled tables that draw a rule only every few rows: one ruled row holds several table rows.

Statistical tables often rule off groups ("Apr-2015 / May-2015 / Jun-2015" and their figures)
instead of single rows, so a grid read from the rules alone puts three rows of figures into each
cell. Such a row is told from a row of wrapped cells by its baselines: the text of two or more
cells sits on the same several baselines, and at least one of those cells holds a number on every
one of them (a wrapped label or header has words, not figures, on each line).
"""

from __future__ import annotations

from dataclasses import dataclass

from docpipe.model import TableCell

FULL_SHARE = 0.6  # share of a row's filled cells that must have text on every baseline


@dataclass(slots=True)
class Piece:
    """A piece of cell text on one baseline."""

    cy: float  # vertical center
    cx: float
    text: str
    height: float
    line: int  # the text line it was cut from: pieces of one line join as the line does
    x0: float = 0.0  # extent, where the reader needs it
    x1: float = 0.0


def _is_figure(text: str) -> bool:
    chars = text.replace(" ", "")
    return bool(chars) and sum(ch.isdigit() for ch in chars) >= 0.5 * len(chars)


def _baselines(pieces: list[Piece]) -> list[list[Piece]]:
    groups: list[list[Piece]] = []
    for p in sorted(pieces, key=lambda p: p.cy):
        if groups and p.cy - groups[-1][-1].cy <= 0.5 * max(p.height, 1.0):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _row_split(cells: list[TableCell], parts: dict[tuple[int, int], list[Piece]]) -> list[float] | None:
    """The baselines (y) one ruled row splits at, or None when it is one table row."""
    parts = {key: [p for p in found if p.text.strip()] for key, found in parts.items()}
    filled = [c for c in cells if parts.get((c.row, c.col))]
    if len(filled) < 2:
        return None
    lines = _baselines([p for c in filled for p in parts[(c.row, c.col)]])
    if len(lines) < 2:
        return None
    line_of = {id(p): k for k, group in enumerate(lines) for p in group}
    full = []
    for cell in filled:
        used = {line_of[id(p)] for p in parts[(cell.row, cell.col)]}
        if len(used) == len(lines):
            full.append(cell)
    if len(full) < 2 or len(full) < FULL_SHARE * len(filled):
        return None
    # a number on every baseline of some cell: rows of figures, not wrapped words
    for cell in full:
        own = parts[(cell.row, cell.col)]
        per_line = [" ".join(p.text for p in own if line_of[id(p)] == k) for k in range(len(lines))]
        if all(_is_figure(t) for t in per_line):
            return [sum(p.cy for p in group) / len(group) for group in lines]
    return None


def join_pieces(pieces: list[Piece]) -> str:
    """Cell text: pieces of one text line joined as the line joins its spans (the extractor already
    put the spaces in), lines joined by a space, in reading order."""
    lines: list[str] = []
    for baseline in _baselines(pieces):
        last = None
        for p in sorted(baseline, key=lambda p: (p.cx, p.line)):
            if lines and p.line == last:
                lines[-1] += p.text
            else:
                lines.append(p.text)
            last = p.line
    out = ""
    for text in (" ".join(t.split()) for t in lines):
        if not text:
            continue
        # Chinese and Japanese wrap inside words and set no spaces: their lines join without one
        glue = "" if out and _wide(out[-1]) and _wide(text[0]) else " "
        out = f"{out}{glue}{text}" if out else text
    return out


def _wide(ch: str) -> bool:
    """A CJK ideograph, kana or full-width form."""
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or o >= 0x20000


def split_stacked_rows(
    cells: list[TableCell], parts: dict[tuple[int, int], list[Piece]], n_rows: int, header_rows: int
) -> tuple[list[TableCell], int, int]:
    """Body rows holding several table rows split into them; cells spanning several ruled rows
    (a group label) span the split rows too. Returns the cells, the row count and the header rows."""
    splits: dict[int, list[float]] = {}
    for r in range(header_rows, n_rows):
        own = [c for c in cells if c.row == r and c.row_span == 1]
        ys = _row_split(own, parts)
        if ys is not None:
            splits[r] = ys
    if not splits:
        return cells, n_rows, header_rows
    if header_rows == 0:
        # ruled rows of words over rows of figures that need no rules of their own: the header
        while (
            header_rows < n_rows
            and header_rows not in splits
            and not any(_is_figure(c.text) for c in cells if c.row == header_rows)
        ):
            header_rows += 1
        if header_rows == n_rows:
            header_rows = 0
    start = [0] * (n_rows + 1)  # first new row of each ruled row
    for r in range(n_rows):
        start[r + 1] = start[r] + len(splits.get(r, [0.0]))

    def sub_row(p: Piece, ys: list[float]) -> int:
        return min(range(len(ys)), key=lambda i: abs(ys[i] - p.cy))

    # Key columns left of the first cell filled on every sub-row, with text on the first one only,
    # hold what the sub-rows share ("6 layers" for its OTSL and HTML rows): they span them.
    first_full: dict[int, int] = {}
    for cell in cells:
        ys = splits.get(cell.row) if cell.row_span == 1 else None
        pieces = [p for p in parts.get((cell.row, cell.col), []) if p.text.strip()]
        if ys is not None and len({sub_row(p, ys) for p in pieces}) == len(ys):
            first_full[cell.row] = min(first_full.get(cell.row, cell.col), cell.col)
    out: list[TableCell] = []
    for cell in cells:
        ys = splits.get(cell.row) if cell.row_span == 1 else None
        pieces = parts.get((cell.row, cell.col), [])
        shared = (
            ys is not None
            and cell.col < first_full.get(cell.row, 0)
            and {sub_row(p, ys) for p in pieces if p.text.strip()} == {0}
        )
        if ys is None or shared:
            span = start[cell.row + cell.row_span] - start[cell.row]
            out.append(cell.moved(row=start[cell.row], row_span=span))
            continue
        cuts = [(a + b) / 2 for a, b in zip(ys, ys[1:], strict=False)]
        for k in range(len(ys)):
            mine = [p for p in pieces if sub_row(p, ys) == k]
            piece = cell.moved(row=start[cell.row] + k, row_span=1)
            piece.text = join_pieces(mine)
            if cell.bbox is not None:
                x0, y0, x1, y1 = cell.bbox
                piece.bbox = (x0, cuts[k - 1] if k else y0, x1, cuts[k] if k < len(cuts) else y1)
            out.append(piece)
    return out, start[n_rows], start[header_rows]


def _divided_above(cell: TableCell, cells: list[TableCell]) -> bool:
    """Whether rows above the cell draw column rules through its width (a ruled header)."""
    return any(
        c.row < cell.row
        and cell.col <= c.col
        and c.col + c.col_span <= cell.col + cell.col_span
        and c.col_span < cell.col_span
        for c in cells
    )


def _band_rows(pieces: list[Piece], xs: list[float], c0: int, cs: int) -> list[dict[int, list[Piece]]]:
    """Baselines of an open band cut into rows and columns: a baseline starts a row when it fills
    the band's first column or two columns or more; otherwise it is wrapped text of the row above."""
    rows: list[dict[int, list[Piece]]] = []
    for line in _baselines([p for p in pieces if p.text.strip()]):
        cols: dict[int, list[Piece]] = {}
        for p in line:
            k = next((i for i in range(c0, c0 + cs) if xs[i] <= p.cx < xs[i + 1]), c0 + cs - 1)
            cols.setdefault(k, []).append(p)
        if not rows or len(cols) >= 2 or c0 in cols:
            rows.append(cols)
        else:
            for k, found in cols.items():
                rows[-1].setdefault(k, []).extend(found)
    return rows


def split_open_bands(
    cells: list[TableCell], parts: dict[tuple[int, int], list[Piece]], xs: list[float], n_rows: int
) -> tuple[list[TableCell], dict[tuple[int, int], list[Piece]], int, list[int]]:
    """Body bands a ruled header divides into columns but no rule divides below it (one cell across
    the table holding every record) cut into the header's columns and into rows by their text.
    Returns the cells, their pieces, the row count and the first new row of each ruled row."""
    bands: dict[int, list[dict[int, list[Piece]]]] = {}
    for cell in cells:
        if cell.row_span != 1 or cell.col_span < 2 or not _divided_above(cell, cells):
            continue
        rows = _band_rows(parts.get((cell.row, cell.col), []), xs, cell.col, cell.col_span)
        if len(rows) >= 2 and len({k for row in rows for k in row}) >= 2:
            bands[id(cell)] = rows
    start = list(range(n_rows + 1))
    if not bands:
        return cells, parts, n_rows, start
    extra = {c.row: len(bands[id(c)]) for c in cells if id(c) in bands}
    for r in range(n_rows):
        start[r + 1] = start[r] + max(1, extra.get(r, 1))
    out: list[TableCell] = []
    new_parts: dict[tuple[int, int], list[Piece]] = {}
    for cell in cells:
        row0 = start[cell.row]
        if id(cell) not in bands:
            out.append(cell.moved(row=row0, row_span=start[cell.row + cell.row_span] - row0))
            new_parts[(row0, cell.col)] = parts.get((cell.row, cell.col), [])
            continue
        for k, row in enumerate(bands[id(cell)]):
            for c in range(cell.col, cell.col + cell.col_span):
                mine = row.get(c, [])
                out.append(TableCell(row=row0 + k, col=c, text=join_pieces(mine)))
                new_parts[(row0 + k, c)] = mine
    return out, new_parts, start[n_rows], start
