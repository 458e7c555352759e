"""Reading order by recursive XY-cut, columns first.

At each level we first look for a clean vertical gutter running the full height of the region set
(columns: read top to bottom, then left to right); failing that, for horizontal gaps (bands: read top
to bottom). A full-width heading or figure blocks the gutter, so the page is first cut into bands
above and below it and the columns are found inside each band: the heading lands in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from docpipe.model.raw import Rect

T = TypeVar("T")
ROW_TOLERANCE = 1.5  # points: tops (and bottoms) this close are on one row of a grid


def _gaps(intervals: list[tuple[float, float, int]], min_gap: float) -> list[list[int]]:
    """Split items into groups separated by gaps of at least `min_gap` along one axis."""
    intervals = sorted(intervals)
    groups: list[list[int]] = []
    end = None
    for lo, hi, i in intervals:
        if end is None or lo - end >= min_gap:
            groups.append([i])
            end = hi
        else:
            groups[-1].append(i)
            end = max(end, hi)
    return groups


def xy_cut(
    items: Sequence[T],
    bbox_of: Callable[[T], Rect],
    min_col_gap: float = 6.0,
    right_to_left: bool = False,
    cell_like: Callable[[T], bool] | None = None,
    heading_like: Callable[[T], bool] | None = None,
) -> list[T]:
    """`cell_like` says which items may be cells of a label grid (short texts), `heading_like`
    which are titles and headings; without them, no grid is read across and no heading is taken
    out of its column."""

    def shrink(b: Rect) -> Rect:
        # Tolerate slight overlaps (italic overhangs, loose OCR boxes) when looking for gutters.
        dx = min(1.0, (b[2] - b[0]) / 4)
        dy = min(1.0, (b[3] - b[1]) / 4)
        return (b[0] + dx, b[1] + dy, b[2] - dx, b[3] - dy)

    boxes = [shrink(bbox_of(it)) for it in items]
    cells = [cell_like(it) if cell_like is not None else False for it in items]
    heads = [heading_like(it) if heading_like is not None else False for it in items]

    def cut(idx: list[int]) -> list[int]:
        if len(idx) <= 1:
            return idx
        cols = _gaps([(boxes[i][0], boxes[i][2], i) for i in idx], min_col_gap)
        if len(cols) > 1 and is_grid(cols):
            return by_rows(idx)
        if len(cols) > 1:
            # A heading above everything else, with a clear gap below it, heads the whole set even
            # when it stands over one column only (a form's title over its fields).
            # A heading that fits its own column (the right column's first heading, set higher
            # than the left column's text) stays in that column, unless it is centred over all.
            first = min(idx, key=lambda i: boxes[i][1])
            rest = [i for i in idx if i != first]
            mates = next(c for c in cols if first in c)
            mates = [i for i in mates if i != first]
            sticks_out = not mates or (
                boxes[first][0] < min(boxes[i][0] for i in mates) - min_col_gap
                or boxes[first][2] > max(boxes[i][2] for i in mates) + min_col_gap
            )
            lo, hi = min(boxes[i][0] for i in idx), max(boxes[i][2] for i in idx)
            centred = abs((boxes[first][0] + boxes[first][2]) / 2 - (lo + hi) / 2) <= 0.1 * (hi - lo)
            if heads[first] and (sticks_out or centred) and all(boxes[first][3] <= boxes[i][1] for i in rest):
                return [first, *cut(rest)]
        if len(cols) > 1:
            if right_to_left:
                cols.reverse()
            return [j for col in cols for j in cut(col)]
        bands = _gaps([(boxes[i][1], boxes[i][3], i) for i in idx], 0.0)
        if len(bands) > 1:
            return [j for group in merge_column_bands(bands) for j in cut(group)]
        # No clean cut: overlapping boxes. Read top to bottom, then left to right.
        return sorted(idx, key=lambda i: (boxes[i][1], boxes[i][0]))

    def is_grid(cols: list[list[int]]) -> bool:
        # Labels laid out in a grid (shape names under pictures, a form's fields): every item has
        # a partner in another column with the same top and bottom (a heading above the grid may
        # stand alone). Such "columns" read across, row by row; columns of running text never line
        # up item for item.
        if not all(cells[i] for col in cols for i in col):
            return False
        column_of = {i: n for n, col in enumerate(cols) for i in col}
        by_top = sorted(column_of, key=lambda i: boxes[i][1])
        unmatched: list[int] = []
        matched: list[int] = []
        for k, i in enumerate(by_top):
            partner = False
            for step in (-1, 1):  # neighbours in top order, while their tops are close enough
                m = k + step
                while 0 <= m < len(by_top) and abs(boxes[by_top[m]][1] - boxes[i][1]) <= ROW_TOLERANCE:
                    j = by_top[m]
                    if column_of[j] != column_of[i] and abs(boxes[i][3] - boxes[j][3]) <= ROW_TOLERANCE:
                        partner = True
                        break
                    m += step
                if partner:
                    break
            (matched if partner else unmatched).append(i)
        if len(matched) < 4 or len({round(boxes[i][1]) for i in matched}) < 2:
            return False
        top = min(boxes[i][1] for i in matched)
        return all(boxes[i][3] <= top for i in unmatched)

    def by_rows(idx: list[int]) -> list[int]:
        rows: list[list[int]] = []
        for i in sorted(idx, key=lambda i: boxes[i][1]):
            if rows and boxes[i][1] - boxes[rows[-1][0]][1] <= ROW_TOLERANCE:
                rows[-1].append(i)
            else:
                rows.append([i])
        return [i for row in rows for i in sorted(row, key=lambda i: boxes[i][0], reverse=right_to_left)]

    def has_gutter(idx: list[int]) -> bool:
        return len(_gaps([(boxes[i][0], boxes[i][2], i) for i in idx], min_col_gap)) > 1

    def columns(idx: list[int]) -> list[tuple[float, float]]:
        groups = _gaps([(boxes[i][0], boxes[i][2], i) for i in idx], min_col_gap)
        return [(min(boxes[i][0] for i in g), max(boxes[i][2] for i in g)) for g in groups]

    def fits_a_column(single: list[int], multi: list[int]) -> bool:
        # A band without a gutter belongs to its multi-column neighbour when it lies within one of
        # that neighbour's columns (a paragraph of one column); one that reaches across or beyond
        # them (a title over a form's fields) is a band of its own, read in its place.
        lo = min(boxes[i][0] for i in single)
        hi = max(boxes[i][2] for i in single)
        tol = 2 * min_col_gap
        return any(c_lo - tol <= lo and hi <= c_hi + tol for c_lo, c_hi in columns(multi))

    def merge_column_bands(bands: list[list[int]]) -> list[list[int]]:
        # Paragraph gaps that happen to line up across two columns must not cut the columns into
        # slices: consecutive bands are merged while their union still has a gutter.
        groups = [bands[0]]
        for band in bands[1:]:
            prev = groups[-1]
            if not has_gutter(prev + band):
                groups.append(band)
                continue
            if has_gutter(prev) and has_gutter(band):
                merge = True
            elif has_gutter(prev):
                merge = fits_a_column(band, prev)
            elif has_gutter(band):
                merge = fits_a_column(prev, band)
            else:
                merge = False
            if merge:
                groups[-1] = prev + band
            else:
                groups.append(band)
        return groups

    order = cut(list(range(len(items))))
    return [items[i] for i in order]
