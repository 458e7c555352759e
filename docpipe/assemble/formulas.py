"""Display formulas from the text layer: math regions become formula blocks with LaTeX.

A formula is often split by line grouping (a numerator, the main row and a denominator differ in
size and sit apart), so math regions and the short fragments right next to them are merged first. The
LaTeX itself comes from docpipe.science.math_latex; the block keeps the original text and bbox.
"""

from __future__ import annotations

import re

from docpipe.assemble.regions import Region, union
from docpipe.model import BlockType
from docpipe.model.raw import Rect
from docpipe.science.math_latex import is_math_line, lines_to_latex, math_share
from docpipe.util.disjoint_set import DisjointSet

MATH_SHARE = 0.4  # the same bar is_math_line sets for one line


def _is_math(reg: Region) -> bool:
    if reg.kind != "text" or reg.type is not None or not reg.lines:
        return False
    if any(ln.mono for ln in reg.lines):
        return False  # code listings are full of operators
    return math_share(reg.lines) >= MATH_SHARE and all(is_math_line(ln) for ln in reg.lines)


SHORT = 16  # characters: a lone "2a" or "x =" next to a math region is a piece of it
EQUATION_NUMBER = re.compile(r"^\(\s*\d{1,3}(?:\.\d{1,3})?[a-z]?\s*\)$")


def _near(a: Region, b: Region, a_size: float, b_size: float) -> bool:
    """Boxes within about a line height of each other, on both axes (sizes given: asked for every
    pair)."""
    size = max(a_size, b_size, 1.0)
    dx = max(b.bbox[0] - a.bbox[2], a.bbox[0] - b.bbox[2], 0.0)
    dy = max(b.bbox[1] - a.bbox[3], a.bbox[1] - b.bbox[3], 0.0)
    return dx <= 1.5 * size and dy <= 1.0 * size


def _is_number(reg: Region) -> bool:
    return EQUATION_NUMBER.match(" ".join(ln.text for ln in reg.lines).strip()) is not None


def _tag_of(a: Region, b: Region, a_is_number: bool) -> bool:
    """`a`, an equation number "(3)" or not (`a_is_number`), sits on the same row as `b`, however
    far to the right."""
    if not a_is_number:
        return False
    overlap = min(a.bbox[3], b.bbox[3]) - max(a.bbox[1], b.bbox[1])
    return a.bbox[0] >= b.bbox[2] and overlap > 0.3 * (a.bbox[3] - a.bbox[1])


def mark_formulas(regions: list[Region], rules: list[Rect]) -> list[Region]:
    """Return the regions with math regions (and the short fragments around them: a numerator, a
    denominator, "x =") merged into formulas with LaTeX in `latex`."""
    math = [r for r in regions if _is_math(r)]
    if not math:
        return regions
    # By identity: Region's == compares every line and span, and a region equal to a math region
    # would be one itself.
    is_math = {id(r) for r in math}
    pieces = math + [
        r
        for r in regions
        if id(r) not in is_math and r.kind == "text" and r.type is None and len(r.text) <= SHORT
    ]
    sets = DisjointSet(len(pieces))
    sizes = [r.size for r in pieces]
    numbers = [_is_number(r) for r in pieces]
    for i in range(len(pieces)):
        for j in range(i + 1, len(pieces)):
            a, b = pieces[i], pieces[j]
            if _near(a, b, sizes[i], sizes[j]) or _tag_of(a, b, numbers[i]) or _tag_of(b, a, numbers[j]):
                sets.union(i, j)
    used: set[int] = set()
    formulas: list[Region] = []
    for members in sets.groups(pieces):
        if not any(id(m) in is_math for m in members):
            continue  # short fragments with no math among them stay text
        members.sort(key=lambda r: (r.bbox[1], r.bbox[0]))
        bbox = members[0].bbox
        for m in members[1:]:
            bbox = union(bbox, m.bbox)
        reg = Region(
            bbox=bbox,
            lines=[ln for m in members for ln in m.lines],
            text=" ".join(ln.text.strip() for m in members for ln in m.lines),
        )
        x0, y0, x1, y1 = bbox
        # a fraction bar is usually wider than the text above and below it
        inside = [
            r
            for r in rules
            if x0 - 2 <= (r[0] + r[2]) / 2 <= x1 + 2 and y0 - 2 <= (r[1] + r[3]) / 2 <= y1 + 2
        ]
        for r in inside:
            reg.bbox = union(reg.bbox, r)
        reg.latex = lines_to_latex(reg.lines, inside)
        if reg.latex:
            reg.type = BlockType.formula
            formulas.append(reg)
            used.update(id(m) for m in members)
    return [r for r in regions if id(r) not in used] + formulas
