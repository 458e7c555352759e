"""Whether PyMuPDF's line-based table finder can return a table in a clip, decided from the page's
drawings without running it, and those drawings made once a page for the calls that do run (with,
for a clip, only the paths and box groups that give its edges: `FinderEdges.paths_for`).

The finder (`page.find_tables`, strategy "lines") costs 5-60 ms a call: it extracts the page's
characters and drawings again and joins every drawing's box with its neighbours. Most rule clusters
the lattice leaves to it are framed boxes, check boxes and underlines, where it finds nothing. A
table it returns has at least two cells with different left and different right sides, so at least
three vertical edges at distinct x and two horizontal edges at distinct y; its snapping and joining
only ever merge positions. The edges come from the drawings' lines, rectangles and quads, from the
closing line of closed paths, from the caller's extra lines, and from the four sides of each group
of touching drawing boxes that holds text. This module rebuilds that set of edges the way
`pymupdf.table.make_edges` does (same float arithmetic, same clipping), with every box group counted
whether it holds text or not: a superset, so too few positions in it proves the finder finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import pymupdf

from docpipe.model.raw import Rect

SNAP = 3.0  # the finder's default snap tolerance: axis-parallel slack and box-neighbour distance
MIN_LENGTH = 3.0  # the finder's default edge_min_length: rectangles thinner than this are lines

Point = tuple[float, float]
Segment = tuple[Point, Point]


def _rect_segments(rect: Rect) -> list[Segment]:
    """The lines make_edges draws for a (normalised) rectangle item: one along a line-like
    rectangle's middle, else its four sides."""
    x0, y0, x1, y1 = rect
    w, h = x1 - x0, y1 - y0
    if (w <= MIN_LENGTH and w < h) or (h <= MIN_LENGTH and h < w):
        if w < h:
            x = abs(x1 + x0) / 2
            return [((x, y0), (x, y1))]
        y = abs(y1 + y0) / 2
        return [((x0, y), (x1, y))]
    tl, tr, bl, br = (x0, y0), (x1, y0), (x0, y1), (x1, y1)
    return [(tl, bl), (bl, br), (br, tr), (tr, tl)]


def _path_segments(path: dict) -> list[Segment]:
    items = list(path.get("items", ()))
    if path.get("closePath") and items and items[0][0] == "l" and items[-1][0] == "l":
        items.append(("l", items[-1][2], items[0][1]))
    out: list[Segment] = []
    for item in items:
        kind = item[0]
        if kind == "l":
            out.append((tuple(item[1]), tuple(item[2])))
        elif kind == "re":
            ax, ay, bx, by = item[1]
            out += _rect_segments((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        elif kind == "qu":
            ul, ur, ll, lr = (tuple(p) for p in item[1])
            out += [(ul, ll), (ll, lr), (lr, ur), (ur, ul)]
    return out


def _box_groups(rects: Iterable[Rect]) -> list[Rect]:
    """make_edges' groups of neighbouring drawing boxes (clean_graphics) of the paths' boxes
    `rects`, in path order, every one of them: the same set (Rect hashes as its tuple, so the
    same iteration order), the same order, neighbour test and growth. MuPDF rounds the grown box
    through single precision, which changes nothing: every coordinate is already one of the boxes'
    own, which are single-precision values."""
    s = SNAP
    boxes = sorted({tuple(r) for r in rects}, key=lambda r: (r[3], r[0]))
    out: list[Rect] = []
    while boxes:
        ax0, ay0, ax1, ay1 = boxes[0]
        repeat = True
        while repeat:
            repeat = False
            for i in range(len(boxes) - 1, 0, -1):
                bx0, by0, bx1, by1 = boxes[i]
                if (
                    (bx0 - s <= ax0 <= bx1 + s or bx0 - s <= ax1 <= bx1 + s)
                    and (by0 - s <= ay0 <= by1 + s or by0 - s <= ay1 <= by1 + s)
                ) or (
                    (ax0 - s <= bx0 <= ax1 + s or ax0 - s <= bx1 <= ax1 + s)
                    and (ay0 - s <= by0 <= ay1 + s or ay0 - s <= by1 <= ay1 + s)
                ):
                    ax0, ay0, ax1, ay1 = min(ax0, bx0), min(ay0, by0), max(ax1, bx1), max(ay1, by1)
                    del boxes[i]
                    repeat = True
        out.append((ax0, ay0, ax1, ay1))
        del boxes[0]
    return out


def _outside(box: Rect, clip: Rect) -> bool:
    """make_line's test: a line whose extent is `box` leaves nothing inside `clip`."""
    return box[0] > clip[2] or box[2] < clip[0] or box[1] > clip[3] or box[3] < clip[1]


def _item_extent(path: dict) -> Rect | None:
    """The extent of the points of a path's lines, rectangles and quads (what make_edges reads)."""
    xs: list[float] = []
    ys: list[float] = []
    for item in path.get("items", ()):
        if item[0] == "l":
            points = item[1:3]
        elif item[0] == "re":
            points = (item[1][:2], item[1][2:4])
        elif item[0] == "qu":
            points = tuple(item[1])
        else:
            continue
        for x, y in points:
            xs.append(x)
            ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


class FinderEdges:
    """The segments the finder could turn into edges on one page (unrotated, as `get_cdrawings`
    gives them). Box groups are only worked out when the drawings' own segments leave the answer
    open."""

    def __init__(self, drawings: list[dict]) -> None:
        self.drawings = drawings
        self.segments = [seg for path in drawings for seg in _path_segments(path)]
        self._groups: list[Segment] | None = None
        self._paths: list[dict] | None = None
        self._box_list: list[Rect] | None = None
        self._extents = [_item_extent(path) for path in drawings]

    @property
    def paths(self) -> list[dict]:
        """The page's drawings as `page.get_drawings()` gives them, made once."""
        if self._paths is None:
            self._paths = finder_paths(self.drawings)
        return self._paths

    def _boxes(self) -> list[Rect]:
        if self._box_list is None:
            self._box_list = _box_groups(tuple(p["rect"]) for p in self.drawings)
        return self._box_list

    def paths_for(self, clip: Rect) -> list[dict] | None:
        """A short list of paths that makes the finder build the same edges in `clip` as the
        page's drawings do (its `paths` argument), or None for all of them. make_edges joins every
        drawing box of the page into groups on each call (tens of milliseconds on a technical
        drawing); its edges are the lines of the paths, cut to the clip, then the sides of the
        groups that hold text. Paths whose lines all lie outside the clip add no edge; each group
        that reaches the clip is handed over as one box (a path with no lines), which joins with
        the kept paths' boxes (all inside it) into the same group. Whether the groups come out the
        same, in the same order, is checked on the list handed over; any doubt gives None."""
        chosen = [box for box in self._boxes() if not _outside(box, clip)]
        kept = [
            p
            for p, extent in zip(self.paths, self._extents, strict=True)
            if extent and not _outside(extent, clip)
        ]
        if len(kept) + len(chosen) >= len(self.paths):
            return None
        if _box_groups([tuple(p["rect"]) for p in kept] + chosen) != chosen:
            return None
        # make_edges edits what it is given (closing lines appended, rectangles normalised in
        # place): copies as the finder's own extraction makes them
        copies = [
            dict(
                path,
                rect=pymupdf.Rect(path["rect"]),
                items=[
                    (it[0], pymupdf.Rect(it[1]), *it[2:]) if it[0] == "re" else it for it in path["items"]
                ],
            )
            for path in kept
        ]
        return copies + [dict(_BOX_PATH, rect=pymupdf.Rect(box), items=[]) for box in chosen]

    def _group_segments(self) -> list[Segment]:
        if self._groups is None:
            self._groups = []
            for x0, y0, x1, y1 in self._boxes():
                tl, tr, bl, br = (x0, y0), (x1, y0), (x0, y1), (x1, y1)
                self._groups += [(tl, tr), (bl, br), (tl, bl), (tr, br)]
        return self._groups

    def can_find_table(self, clip: Rect, extra: list[Segment]) -> bool:
        """False only when the finder, clipped to `clip` with `extra` lines added, cannot return a
        table: fewer than 3 distinct vertical or 2 distinct horizontal edge positions."""
        xs: set[float] = set()
        ys: set[float] = set()
        _collect(self.segments, clip, xs, ys)
        _collect(extra, clip, xs, ys)
        if len(xs) >= 3 and len(ys) >= 2:
            return True
        _collect(self._group_segments(), clip, xs, ys)
        return len(xs) >= 3 and len(ys) >= 2


def _collect(segments: list[Segment], clip: Rect, xs: set[float], ys: set[float]) -> None:
    """Positions of the edges make_line would make of `segments` in `clip` that the finder keeps
    (at least 1 long): x of vertical ones, y of horizontal ones."""
    cx0, cy0, cx1, cy1 = clip
    for (ax, ay), (bx, by) in segments:
        if not (abs(ax - bx) <= SNAP or abs(ay - by) <= SNAP):
            continue  # not axis-parallel
        x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
        y0, y1 = (ay, by) if ay <= by else (by, ay)
        if x0 > cx1 or x1 < cx0 or y0 > cy1 or y1 < cy0:
            continue
        x0, x1 = max(x0, cx0), min(x1, cx1)
        y0, y1 = max(y0, cy0), min(y1, cy1)
        if y0 == y1:
            if x1 - x0 >= 1:
                ys.add(y0)
        elif y1 - y0 >= 1:
            xs.add(x0)


# A group's box as a path: no lines of its own, so only its box counts (make_line is never called).
_BOX_PATH = {"type": "f", "closePath": False, "fill": None, "color": None, "width": 0.0}

_PATH_KEYS = (
    "closePath", "fill", "color", "width", "lineCap", "lineJoin", "dashes",
    "stroke_opacity", "fill_opacity", "even_odd",
)  # fmt: skip


def finder_paths(drawings: list[dict]) -> list[dict]:
    """`page.get_drawings()` made from `page.get_cdrawings()` output (the same conversion)."""
    out = []
    for path in drawings:
        items = []
        for item in path["items"]:
            kind = item[0]
            if kind == "re":
                items.append(("re", pymupdf.Rect(item[1]).normalize(), item[2]))
            elif kind == "qu":
                items.append(("qu", pymupdf.Quad(item[1])))
            else:
                items.append((kind, *(pymupdf.Point(p) for p in item[1:])))
        new = dict(path, rect=pymupdf.Rect(path["rect"]), items=items)
        if new["type"] in ("f", "s"):
            for key in _PATH_KEYS:
                new[key] = new.get(key)
        out.append(new)
    return out
