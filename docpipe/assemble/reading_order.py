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
) -> list[T]:
    def shrink(b: Rect) -> Rect:
        # Tolerate slight overlaps (italic overhangs, loose OCR boxes) when looking for gutters.
        dx = min(1.0, (b[2] - b[0]) / 4)
        dy = min(1.0, (b[3] - b[1]) / 4)
        return (b[0] + dx, b[1] + dy, b[2] - dx, b[3] - dy)

    boxes = [shrink(bbox_of(it)) for it in items]

    def cut(idx: list[int]) -> list[int]:
        if len(idx) <= 1:
            return idx
        cols = _gaps([(boxes[i][0], boxes[i][2], i) for i in idx], min_col_gap)
        if len(cols) > 1:
            if right_to_left:
                cols.reverse()
            return [j for col in cols for j in cut(col)]
        bands = _gaps([(boxes[i][1], boxes[i][3], i) for i in idx], 0.0)
        if len(bands) > 1:
            return [j for group in merge_column_bands(bands) for j in cut(group)]
        # No clean cut: overlapping boxes. Read top to bottom, then left to right.
        return sorted(idx, key=lambda i: (boxes[i][1], boxes[i][0]))

    def has_gutter(idx: list[int]) -> bool:
        return len(_gaps([(boxes[i][0], boxes[i][2], i) for i in idx], min_col_gap)) > 1

    def merge_column_bands(bands: list[list[int]]) -> list[list[int]]:
        # Paragraph gaps that happen to line up across two columns must not cut the columns into
        # slices: consecutive bands are merged while their union still has a gutter.
        groups = [bands[0]]
        for band in bands[1:]:
            if has_gutter(groups[-1] + band) and (has_gutter(groups[-1]) or has_gutter(band)):
                groups[-1] = groups[-1] + band
            else:
                groups.append(band)
        return groups

    order = cut(list(range(len(items))))
    return [items[i] for i in order]
